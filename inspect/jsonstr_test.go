package inspect

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{
		"",
		"plain",
		`quote " backslash \ slash /`,
		"\x00\x01\x1f\x7f\b\f\n\r\t",
		"é 世界 🎉 \ufffd",
		"line\u2028para\u2029end",
		"<script>&amp;</script>",
		"invalid \xff byte",
		"\xc0\xaf overlong",
		"\xed\xa0\x80 surrogate",
		"cut \xe4\xb8",
		"\xf4\x90\x80\x80 too big",
	} {
		out := AppendJSONString(nil, s)
		if !json.Valid(out) {
			t.Errorf("%q: invalid JSON %s", s, out)
			continue
		}
		if bytes.ContainsAny(out, "\u2028\u2029") || !utf8.Valid(out) {
			t.Errorf("%q: unsafe output %q", s, out)
		}
		for _, c := range out {
			if c < 0x20 {
				t.Errorf("%q: raw control byte in %q", s, out)
			}
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		// Each invalid byte becomes one U+FFFD, as ranging over s does.
		if want := string([]rune(s)); back != want {
			t.Errorf("%q round-trips to %q, want %q", s, back, want)
		}
		// The []byte fast path agrees.
		if b := AppendJSONBytes(nil, []byte(s)); !bytes.Equal(b, out) {
			t.Errorf("%q: AppendJSONBytes %s, AppendJSONString %s", s, b, out)
		}
	}
	if got := string(AppendJSONString(nil, "a\"\\\n\x01\u2028\xff")); got != `"a\"\\\n\u0001\u2028\ufffd"` {
		t.Errorf("escapes: %s", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindOpen: "open", KindFrame: "frame", KindMsg: "msg", KindEnd: "end", KindError: "error",
		KindGap: "gap", KindMark: "mark", KindNote: "note", 0: "", 99: "unknown",
	} {
		if k.String() != want {
			t.Errorf("Kind(%d) = %q, want %q", k, k.String(), want)
		}
	}
}

// TestPlainASCII checks the eight-bytes-at-a-time scan against the byte
// loop at every position of every byte that needs escaping.
func TestPlainASCII(t *testing.T) {
	for _, c := range []byte{0, 0x1f, '"', '\\', 0x7f, 0x80, 0xff} {
		for n := 0; n < 20; n++ {
			for at := 0; at < n; at++ {
				p := []byte(strings.Repeat("a", n))
				p[at] = c
				want := at
				if c == 0x7f {
					want = n // DEL needs no escaping in JSON
				}
				if got := plainASCII(p); got != want {
					t.Fatalf("%q: plainASCII %d, want %d", p, got, want)
				}
			}
		}
	}
}
