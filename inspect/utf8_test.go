package inspect

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// canBecomeValid is the reference for utf8Stream: p is the start of some
// valid UTF-8 text when appending at most three continuation bytes makes it
// valid. The candidates are the ends of every range a continuation byte
// may have to fall in (RFC 3629 section 4), which is enough.
func canBecomeValid(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	cands := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	var try func(q []byte, left int) bool
	try = func(q []byte, left int) bool {
		if utf8.Valid(q) {
			return true
		}
		if left == 0 {
			return false
		}
		for _, c := range cands {
			if try(append(q[:len(q):len(q)], c), left-1) {
				return true
			}
		}
		return false
	}
	return try(p, 3)
}

func TestUTF8StreamAgreesWithWholeValidation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'a', 0x80, 0x8F, 0x90, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF}
	for i := 0; i < 200000; i++ {
		p := make([]byte, r.IntN(10))
		for j := range p {
			p[j] = alphabet[r.IntN(len(alphabet))]
		}
		var s utf8Stream
		ok, failedAt := true, -1
		for off := 0; off < len(p) && ok; {
			n := 1 + r.IntN(len(p)-off)
			if !s.write(p[off : off+n]) {
				ok, failedAt = false, off+n
			}
			off += n
		}
		whole := ok && s.end()
		if whole != utf8.Valid(p) {
			t.Fatalf("% x: stream says %v, utf8.Valid %v", p, whole, !whole)
		}
		if failedAt >= 0 && canBecomeValid(p[:failedAt]) {
			t.Fatalf("% x: stream failed after %d bytes, which can still become valid", p, failedAt)
		}
	}
}

func TestUTF8StreamFailsAtTheFirstImpossibleByte(t *testing.T) {
	// Autobahn 6.4.1: a code point above U+10FFFF, sent as F4 90 80 80 in
	// the second of three fragments, is invalid from its second byte.
	var s utf8Stream
	for i, piece := range []string{"κόσμε", "\xf4\x90", "\x80\x80edited"} {
		ok := s.write([]byte(piece))
		if want := i == 0; ok != want {
			t.Fatalf("piece %d %q: valid so far = %v, want %v", i, piece, ok, want)
		}
		if !ok {
			break
		}
	}
	s.reset()
	for i, piece := range []string{"\xce", "\xba", "\xe1\xbd", "\xb9"} {
		if !s.write([]byte(piece)) {
			t.Fatalf("piece %d %q of κό: refused", i, piece)
		}
	}
	if !s.end() {
		t.Fatal("κό split inside its characters: end refused")
	}
	if !s.write([]byte("ab\xe2\x82")) || s.end() {
		t.Fatal("a text cut inside a character was accepted at its end")
	}
}

func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("h\xc3\xa9llo"), uint8(2))
	f.Add([]byte("\xf4\x90\x80\x80"), uint8(1))
	f.Fuzz(func(t *testing.T, p []byte, step uint8) {
		n := int(step%7) + 1
		var s utf8Stream
		ok := true
		for off := 0; off < len(p) && ok; off += n {
			ok = s.write(p[off:min(off+n, len(p))])
		}
		if got := ok && s.end(); got != utf8.Valid(p) {
			t.Fatalf("% x in pieces of %d: stream %v, utf8.Valid %v", p, n, got, !got)
		}
	})
}
