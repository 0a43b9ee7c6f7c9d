package inspect

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// Frame is one frame as it crossed the wire.
type Frame struct {
	Seq uint64 // position in the connection, both directions counted
	Dir Direction
	Header
	// Raw holds the header bytes exactly as received, so the view can show
	// the bits and how the length was encoded.
	Raw []byte
	// Payload is the unmasked payload as sent: still compressed when RSV1
	// says so. Masked bytes are Payload XOR Mask.
	Payload []byte
	// Close is set on close frames that carry a status code.
	Close      *Close
	Violations []Violation
}

// Close is the body of a close frame (RFC 6455 section 5.5.1).
type Close struct {
	Code   CloseCode
	Reason string
}

// ParseClose decodes a close frame body. ok is false when the body carries
// no status code (empty, or the 1-byte body that section 5.5.1 forbids).
func ParseClose(p []byte) (c Close, ok bool) {
	if len(p) < 2 {
		return c, false
	}
	return Close{Code: CloseCode(binary.BigEndian.Uint16(p)), Reason: string(p[2:])}, true
}

// AppendClose appends a close frame body with code and reason to dst.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// WireLen returns the number of bytes the frame took on the wire.
func (f *Frame) WireLen() int { return f.Header.Size() + len(f.Payload) }

// MaskedPayload returns the payload as it was on the wire: XORed with the
// mask key when the frame was masked.
func (f *Frame) MaskedPayload() []byte {
	if !f.Masked {
		return f.Payload
	}
	p := append([]byte(nil), f.Payload...)
	ws.Cipher(p, f.Mask, 0)
	return p
}

// Message is a data message after reassembly (and decompression).
type Message struct {
	Dir Direction
	Op  OpCode
	// Frames lists the Seq of the frames the message was made of: all of
	// them, or the first ones of a message of very many (FrameCount).
	Frames []uint64
	// FrameCount is how many frames the message was made of, when known;
	// NumFrames reads it.
	FrameCount int
	// Deflated reports that the message was compressed on the wire
	// (permessage-deflate, RFC 7692).
	Deflated bool
	// WireLen is the payload size on the wire, before decompression.
	WireLen int
	// Payload is the reassembled, decompressed payload.
	Payload    []byte
	Violations []Violation
	// Decoded is what the application protocol decoder read in the
	// message (the packages under appproto), when one is active.
	Decoded []Decoded
}

// NumFrames returns how many frames m was made of.
func (m *Message) NumFrames() int { return max(m.FrameCount, len(m.Frames)) }
