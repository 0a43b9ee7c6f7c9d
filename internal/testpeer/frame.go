package testpeer

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

// Msg is a whole data message as an application sees it, the unit the
// library peers send, echo and record.
type Msg struct {
	Binary bool
	Data   []byte
}

// TextMsg returns a text message holding s.
func TextMsg(s string) Msg { return Msg{Data: []byte(s)} }

// BinaryMsg returns a binary message holding b.
func BinaryMsg(b []byte) Msg { return Msg{Binary: true, Data: b} }

// String shows the message in test failures: text:"..." or binary:hex.
func (m Msg) String() string {
	if m.Binary {
		return fmt.Sprintf("binary:%x", m.Data)
	}
	return fmt.Sprintf("text:%q", m.Data)
}

// CloseInfo is the status a peer received in a close frame.
type CloseInfo struct {
	// Code is the status code; 1005 (no status) when the frame had no
	// payload, as RFC 6455 section 7.1.5 says to report it.
	Code   int
	Reason string
}

// String shows the status as "1000 \"bye\"".
func (c CloseInfo) String() string { return fmt.Sprintf("%d %q", c.Code, c.Reason) }

// FrameSpec describes one frame to put on the wire exactly as asked: any
// opcode, RSV bits, FIN, mask bit and key, and length encoding, valid or
// not. Nothing is checked.
type FrameSpec struct {
	Fin bool
	// Rsv holds RSV1..RSV3 in its low three bits (inspect.Rsv1 is RSV1).
	Rsv    uint8
	Op     inspect.OpCode
	Masked bool
	// Mask is the key written when Masked; the payload is XORed with it.
	Mask [4]byte
	// Payload is given in clear; it is masked on the way out when Masked.
	Payload []byte
	// LenEnc forces the length encoding (a non-minimal one, say); zero
	// means the minimal one.
	LenEnc inspect.LengthEncoding
	// Length overrides the declared payload length (a length with the top
	// bit set, or one that does not match the payload); nil means
	// len(Payload). Use [Len] to write it inline.
	Length *uint64
}

// Len returns a pointer to n, for FrameSpec.Length.
func Len(n uint64) *uint64 { return &n }

// ClientMask is the mask key ClientFrame uses: the key of the example in
// RFC 6455 section 5.7, so masked bytes can be checked by eye.
var ClientMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// ClientFrame returns a valid single-frame spec as a client sends it:
// FIN set, masked with ClientMask.
func ClientFrame(op inspect.OpCode, payload []byte) FrameSpec {
	return FrameSpec{Fin: true, Op: op, Masked: true, Mask: ClientMask, Payload: payload}
}

// ServerFrame returns a valid single-frame spec as a server sends it:
// FIN set, unmasked.
func ServerFrame(op inspect.OpCode, payload []byte) FrameSpec {
	return FrameSpec{Fin: true, Op: op, Payload: payload}
}

// ClosePayload returns a close frame body: the code in two bytes, then the
// reason. For an empty close frame use a nil payload instead.
func ClosePayload(code int, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

// AppendFrame appends the wire bytes of f to dst. The header comes from
// inspect.AppendHeader; the package's own tests pin its output against
// hand-written bit strings, so a bug there does not go unnoticed.
func AppendFrame(dst []byte, f FrameSpec) []byte {
	n := uint64(len(f.Payload))
	if f.Length != nil {
		n = *f.Length
	}
	dst = inspect.AppendHeader(dst, inspect.Header{
		Fin: f.Fin, Rsv: f.Rsv, Op: f.Op, Masked: f.Masked, Mask: f.Mask,
		Length: n, LenEnc: f.LenEnc,
	})
	start := len(dst)
	dst = append(dst, f.Payload...)
	if f.Masked {
		maskBytes(f.Mask, dst[start:])
	}
	return dst
}

// Bytes returns the wire bytes of f.
func (f FrameSpec) Bytes() []byte { return AppendFrame(nil, f) }

// Frames concatenates the wire bytes of several frames, for tests that
// want them in a single write.
func Frames(fs ...FrameSpec) []byte {
	var b []byte
	for _, f := range fs {
		b = AppendFrame(b, f)
	}
	return b
}

// Frame is one frame as read off the wire by this package's own parser,
// which shares no code with wscope's.
type Frame struct {
	inspect.Header
	// Payload is unmasked.
	Payload []byte
	// Wire is the frame exactly as it was on the wire: header and the
	// payload as sent (still masked).
	Wire []byte
}

// Text returns the payload as a string.
func (f Frame) Text() string { return string(f.Payload) }

// Close decodes a close frame's body. ok is false for a frame that is not a
// close frame, or whose 1-byte body is malformed.
func (f Frame) Close() (c CloseInfo, ok bool) {
	if f.Op != inspect.OpClose || len(f.Payload) == 1 {
		return c, false
	}
	if len(f.Payload) == 0 {
		return CloseInfo{Code: 1005}, true
	}
	return CloseInfo{Code: int(binary.BigEndian.Uint16(f.Payload)), Reason: string(f.Payload[2:])}, true
}

// String shows the frame in test failures, e.g. "fin text mask=37fa213d len=5 \"hello\"".
func (f Frame) String() string {
	s := ""
	if f.Fin {
		s = "fin "
	}
	if f.Rsv != 0 {
		s += fmt.Sprintf("rsv=%03b ", f.Rsv)
	}
	s += f.Op.String()
	if f.Masked {
		s += fmt.Sprintf(" mask=%x", f.Mask)
	}
	s += fmt.Sprintf(" len=%d/%s", f.Length, f.LenEnc)
	if utf8.Valid(f.Payload) && len(f.Payload) <= 64 {
		return s + fmt.Sprintf(" %q", f.Payload)
	}
	if len(f.Payload) > 32 {
		return s + fmt.Sprintf(" %x…", f.Payload[:32])
	}
	return s + fmt.Sprintf(" %x", f.Payload)
}

// MaxFramePayload bounds the payload this package's parser will read; a
// declared length above it is reported as an error rather than allocated.
const MaxFramePayload = 64 << 20

var errTooLarge = errors.New("testpeer: declared frame length above MaxFramePayload")

// parseHeader decodes a header. It is written here rather than taken from
// inspect so that wscope's dissector is checked by a separate reading.
// It returns n == 0 when b is too short.
func parseHeader(b []byte) (h inspect.Header, n int) {
	if len(b) < 2 {
		return h, 0
	}
	n = 2
	l7 := b[1] & 0x7f
	switch l7 {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	masked := b[1]&0x80 != 0
	if masked {
		n += 4
	}
	if len(b) < n {
		return h, 0
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] >> 4 & 7
	h.Op = inspect.OpCode(b[0] & 0x0f)
	h.Masked = masked
	i := 2
	switch l7 {
	case 126:
		h.Length, h.LenEnc = uint64(b[2])<<8|uint64(b[3]), inspect.Len16
		i = 4
	case 127:
		for _, c := range b[2:10] {
			h.Length = h.Length<<8 | uint64(c)
		}
		h.LenEnc = inspect.Len64
		i = 10
	default:
		h.Length, h.LenEnc = uint64(l7), inspect.Len7
	}
	if masked {
		copy(h.Mask[:], b[i:i+4])
	}
	return h, n
}

// readFrame reads one frame from br.
func readFrame(br *bufio.Reader) (Frame, error) {
	var hb [inspect.MaxHeaderSize]byte
	if _, err := io.ReadFull(br, hb[:2]); err != nil {
		return Frame{}, err
	}
	size := 2
	switch hb[1] & 0x7f {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if hb[1]&0x80 != 0 {
		size += 4
	}
	if _, err := io.ReadFull(br, hb[2:size]); err != nil {
		return Frame{}, fmt.Errorf("testpeer: frame header cut short: %w", noEOF(err))
	}
	h, _ := parseHeader(hb[:size])
	if h.Length > MaxFramePayload {
		return Frame{Header: h, Wire: append([]byte(nil), hb[:size]...)}, errTooLarge
	}
	wire := make([]byte, size+int(h.Length))
	copy(wire, hb[:size])
	if _, err := io.ReadFull(br, wire[size:]); err != nil {
		return Frame{Header: h, Wire: wire[:size]}, fmt.Errorf("testpeer: frame payload cut short: %w", noEOF(err))
	}
	return makeFrame(h, wire, size), nil
}

// parseFrames parses whole frames from the start of b. It stops at the
// first incomplete frame and reports an error only for a frame it refuses.
func parseFrames(b []byte) ([]Frame, error) {
	var out []Frame
	for len(b) > 0 {
		h, n := parseHeader(b)
		if n == 0 {
			break
		}
		if h.Length > MaxFramePayload {
			return out, errTooLarge
		}
		end := n + int(h.Length)
		if len(b) < end {
			break
		}
		out = append(out, makeFrame(h, append([]byte(nil), b[:end]...), n))
		b = b[end:]
	}
	return out, nil
}

func makeFrame(h inspect.Header, wire []byte, hsize int) Frame {
	p := append([]byte(nil), wire[hsize:]...)
	if h.Masked {
		maskBytes(h.Mask, p)
	}
	return Frame{Header: h, Payload: p, Wire: wire}
}

func maskBytes(key [4]byte, b []byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key
// (RFC 6455 section 4.2.2), for tests that check or forge it.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}
