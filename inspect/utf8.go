package inspect

import "unicode/utf8"

// utf8Stream validates a text message whose bytes arrive in pieces (its
// fragments, or the reads of one frame). It says no as soon as the bytes so
// far cannot begin valid UTF-8, so an endpoint can fail the connection at
// the first bad fragment instead of at the end of the message (RFC 6455
// section 8.1; Autobahn cases 6.4.x).
type utf8Stream struct {
	pend [utf8.UTFMax]byte // the start of a sequence the last piece cut
	n    int
}

// write checks the next piece p and reports whether the text is still
// valid so far.
func (s *utf8Stream) write(p []byte) bool {
	if s.n > 0 {
		need := utf8SeqLen(s.pend[0]) - s.n
		take := min(need, len(p))
		s.n += copy(s.pend[s.n:], p[:take])
		p = p[take:]
		if !validUTF8Prefix(s.pend[:s.n]) {
			return false
		}
		if take < need {
			return true // p ended inside the sequence too
		}
		s.n = 0
	}
	tail := incompleteUTF8Tail(p)
	if !utf8.Valid(p[:len(p)-tail]) {
		return false
	}
	if tail > 0 {
		if !validUTF8Prefix(p[len(p)-tail:]) {
			return false
		}
		s.n = copy(s.pend[:], p[len(p)-tail:])
	}
	return true
}

// end reports whether the text ended on a character boundary, and makes s
// ready for the next message.
func (s *utf8Stream) end() bool {
	ok := s.n == 0
	s.n = 0
	return ok
}

// reset forgets a message in progress.
func (s *utf8Stream) reset() { s.n = 0 }

// utf8SeqLen is the length of the sequence lead byte b starts: 1 for
// ASCII, 2 to 4 for a lead byte, 0 for a byte that cannot start one.
func utf8SeqLen(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 0
}

// incompleteUTF8Tail returns how many bytes at the end of p are the start
// of a sequence that p cuts short.
func incompleteUTF8Tail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if p[i]&0xC0 == 0x80 {
			continue // a continuation byte: its lead is further back
		}
		if n := utf8SeqLen(p[i]); n > len(p)-i {
			return len(p) - i
		}
		return 0
	}
	return 0
}

// validUTF8Prefix reports whether b, shorter than or as long as the
// sequence its first byte starts, can still become a valid character: the
// second byte's range depends on the lead (no overlong forms, no
// surrogates, nothing above U+10FFFF; RFC 3629 section 4).
func validUTF8Prefix(b []byte) bool {
	n := utf8SeqLen(b[0])
	if n < 2 || len(b) > n {
		return false
	}
	if len(b) == 1 {
		return true
	}
	lo, hi := byte(0x80), byte(0xBF)
	switch b[0] {
	case 0xE0:
		lo = 0xA0
	case 0xED:
		hi = 0x9F
	case 0xF0:
		lo = 0x90
	case 0xF4:
		hi = 0x8F
	}
	if b[1] < lo || b[1] > hi {
		return false
	}
	for _, c := range b[2:] {
		if c&0xC0 != 0x80 {
			return false
		}
	}
	return true
}
