package testpeer

import "fmt"

// Bits turns a string of binary digits into bytes, so a test can write a
// frame header the way RFC 6455 section 5.2 draws it:
//
//	Bits("1 000 0001  0 0000101") // FIN, RSV 000, text; unmasked, length 5
//
// Spaces, tabs, newlines, '_' and '|' are ignored. The digit count must be
// a multiple of 8; anything else is a bug in the test, so Bits panics.
func Bits(s string) []byte {
	var out []byte
	var cur byte
	n := 0
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r', '_', '|':
			continue
		case '0', '1':
			cur = cur<<1 | byte(r-'0')
			n++
			if n%8 == 0 {
				out = append(out, cur)
				cur = 0
			}
		default:
			panic(fmt.Sprintf("testpeer.Bits: unexpected %q in %q", r, s))
		}
	}
	if n%8 != 0 {
		panic(fmt.Sprintf("testpeer.Bits: %d bits is not a whole number of bytes in %q", n, s))
	}
	return out
}
