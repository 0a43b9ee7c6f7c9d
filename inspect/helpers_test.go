package inspect

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gobwas/ws"
)

// bits turns a string of 0 and 1 digits into bytes, most significant bit
// first, so a test can spell a header the way RFC 6455 section 5.2 draws
// it: bits("1 000 0001 1 0000101") is FIN, no RSV, text, masked, length 5.
// Spaces, underscores and '|' are ignored; the digits must fill whole bytes.
func bits(s string) []byte {
	var out []byte
	var cur byte
	n := 0
	for _, r := range s {
		switch r {
		case '0', '1':
			cur = cur<<1 | byte(r-'0')
			n++
			if n%8 == 0 {
				out = append(out, cur)
				cur = 0
			}
		case ' ', '_', '|', '\n', '\t':
		default:
			panic(fmt.Sprintf("bits: unexpected %q in %q", r, s))
		}
	}
	if n%8 != 0 {
		panic(fmt.Sprintf("bits: %d digits in %q, not whole bytes", n, s))
	}
	return out
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// masked returns p XORed with key, as a client puts it on the wire.
func masked(key [4]byte, p []byte) []byte {
	out := append([]byte(nil), p...)
	ws.Cipher(out, key, 0)
	return out
}

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wire returns the bytes of one frame: h with its Length set to
// len(payload), then the payload, masked with h.Mask when h.Masked.
// LenEnc zero means minimal.
func wire(h Header, payload []byte) []byte {
	h.Length = uint64(len(payload))
	b := AppendHeader(nil, h)
	if h.Masked {
		return append(b, masked(h.Mask, payload)...)
	}
	return append(b, payload...)
}

// client and server build well-formed frames from each side.
func client(fin bool, op OpCode, payload string) []byte {
	return wire(Header{Fin: fin, Op: op, Masked: true, Mask: testKey}, []byte(payload))
}

func server(fin bool, op OpCode, payload string) []byte {
	return wire(Header{Fin: fin, Op: op}, []byte(payload))
}

func ruleNames(vs []Violation) string {
	var s []string
	for _, v := range vs {
		s = append(s, string(v.Rule))
	}
	return strings.Join(s, ",")
}
