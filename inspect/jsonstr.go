package inspect

import (
	"encoding/binary"
	"unicode/utf8"
)

// AppendJSONString appends s as a JSON string: control bytes, quotes and
// backslashes escaped, invalid UTF-8 bytes as \ufffd (one per byte, as
// ranging over s does), and U+2028 and U+2029 escaped because they break
// JavaScript parsers of JSON lines.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// AppendJSONBytes is AppendJSONString for a []byte, without converting it
// to a string (which allocates). Plain ASCII, the common case of a text
// payload, is copied eight bytes checked at a time.
func AppendJSONBytes(b, p []byte) []byte {
	if n := plainASCII(p); n < len(p) {
		b = append(b, '"')
		b = append(b, p[:n]...)
		return appendJSONRest(b, p[n:])
	}
	b = append(b, '"')
	b = append(b, p...)
	return append(b, '"')
}

// IsPlainJSON reports whether p is printable ASCII with no quote or
// backslash: valid UTF-8 that goes into a JSON string as it is.
func IsPlainJSON(p []byte) bool { return plainASCII(p) == len(p) }

// plainASCII returns the length of p's prefix of bytes that need no
// escaping: 0x20 to 0x7e except '"' and '\\'.
func plainASCII(p []byte) int {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		// A byte below 0x20, equal to '"' or '\\', or with the top bit set
		// sets the top bit of its lane (the classic "has a zero byte" test
		// on x, x^'"' and x^'\\').
		ctl := x - lo*0x20
		quote := (x ^ lo*'"') - lo
		bslash := (x ^ lo*'\\') - lo
		if (ctl|quote|bslash|x)&hi != 0 {
			break
		}
	}
	for ; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// appendJSONRest escapes the rest of a string whose opening quote is
// already written.
func appendJSONRest[T string | []byte](b []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, "89"[r-'\u2028'])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONString[T string | []byte](b []byte, s T) []byte {
	return appendJSONRest(append(b, '"'), s)
}

// decodeRune is utf8.DecodeRune for a string or a []byte.
func decodeRune[T string | []byte](s T) (rune, int) {
	var buf [utf8.UTFMax]byte
	return utf8.DecodeRune(buf[:copy(buf[:], s)])
}

const hexDigits = "0123456789abcdef"

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
