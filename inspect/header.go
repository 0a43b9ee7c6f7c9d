package inspect

import (
	"encoding/binary"
	"errors"
)

// MaxHeaderSize is the largest frame header: 2 bytes, an 8-byte length and
// a 4-byte mask key.
const MaxHeaderSize = 14

// RSV bits as stored in Header.Rsv.
const (
	Rsv1 uint8 = 0b100
	Rsv2 uint8 = 0b010
	Rsv3 uint8 = 0b001
)

// ErrShortHeader means the bytes end before the header does.
var ErrShortHeader = errors.New("frame header is incomplete")

// Header is a frame header as it was on the wire (RFC 6455 section 5.2).
// Unlike a header parsed for use, it keeps how the length was encoded and
// the declared length even when it is absurd, so the view can show both.
type Header struct {
	Fin    bool
	Rsv    uint8 // RSV1..RSV3 as the low three bits, RSV1 highest
	Op     OpCode
	Masked bool
	Mask   [4]byte
	// Length is the declared payload length, with the top bit kept even
	// though section 5.2 forbids it.
	Length uint64
	LenEnc LengthEncoding
}

// Rsv1 reports the RSV1 bit (permessage-deflate's "compressed" bit).
func (h Header) Rsv1() bool { return h.Rsv&Rsv1 != 0 }

// Rsv2 reports the RSV2 bit.
func (h Header) Rsv2() bool { return h.Rsv&Rsv2 != 0 }

// Rsv3 reports the RSV3 bit.
func (h Header) Rsv3() bool { return h.Rsv&Rsv3 != 0 }

// Size returns the number of bytes the header takes on the wire.
func (h Header) Size() int {
	n := 2
	switch h.LenEnc {
	case Len16:
		n += 2
	case Len64:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	return n
}

// HeaderSize returns the size of a header whose second byte is b1.
func HeaderSize(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the header at the start of b and returns it with its
// size. It returns ErrShortHeader when b ends first. It accepts every bit
// pattern: judging the header is the job of the rules in violation.go.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, ErrShortHeader
	}
	n = HeaderSize(b[1])
	if len(b) < n {
		return h, 0, ErrShortHeader
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] >> 4) & 0x7
	h.Op = OpCode(b[0] & 0xF)
	h.Masked = b[1]&0x80 != 0
	i := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		h.Length = uint64(binary.BigEndian.Uint16(b[2:4]))
		h.LenEnc = Len16
		i = 4
	case 127:
		h.Length = binary.BigEndian.Uint64(b[2:10])
		h.LenEnc = Len64
		i = 10
	default:
		h.Length = uint64(l)
		h.LenEnc = Len7
	}
	if h.Masked {
		copy(h.Mask[:], b[i:i+4])
	}
	return h, n, nil
}

// AppendHeader appends the wire form of h to dst. The length is written in
// h.LenEnc, or in the minimal form when LenEnc is zero; nothing else is
// checked, so a crafted header goes out exactly as asked.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := (h.Rsv&7)<<4 | byte(h.Op&0xF) // only three RSV bits: more would set FIN
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	enc := h.LenEnc
	if enc == 0 {
		enc = MinimalLengthEncoding(h.Length)
	}
	switch enc {
	case Len16:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	case Len64:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, h.Length)
	default:
		dst = append(dst, b0, b1|byte(h.Length&0x7F))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}
