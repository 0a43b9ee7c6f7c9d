package inspect

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/ws"
)

// TruncatedError reports a stream that ended inside a frame.
type TruncatedError struct {
	InHeader  bool
	Got, Want uint64
}

func (e *TruncatedError) Error() string {
	if e.InHeader {
		return fmt.Sprintf("stream ended inside a frame header (%d of %d bytes)", e.Got, e.Want)
	}
	return fmt.Sprintf("stream ended inside a frame payload (%d of %d bytes)", e.Got, e.Want)
}

// Unwrap makes errors.Is(err, io.ErrUnexpectedEOF) true.
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// readChunk bounds each allocation step when a payload is larger than the
// read buffer, so a header that lies about its length costs at most about
// twice the bytes that really arrived.
const readChunk = 64 << 10

// Decoder reads frames from a byte stream: a live connection or a capture.
// It reads each header before touching the payload, checks the declared
// length against MaxFrameSize before allocating anything, and unmasks the
// payload.
type Decoder struct {
	Dir Direction
	// MaxFrameSize bounds the payload of one frame; 0 means no limit.
	MaxFrameSize uint64

	r   *bufio.Reader
	raw [MaxHeaderSize]byte
	buf []byte
}

// NewDecoder returns a Decoder reading frames sent in direction dir from r.
// Give it the *bufio.Reader that already holds bytes read past a handshake.
func NewDecoder(r io.Reader, dir Direction) *Decoder {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Decoder{Dir: dir, r: br}
}

// Buffered returns the number of bytes read from the stream but not yet
// decoded: zero means the next Next call may block.
func (d *Decoder) Buffered() int { return d.r.Buffered() }

// Next decodes the next frame into f. f.Raw and f.Payload stay valid until
// the next call. It returns io.EOF at a clean end between frames, a
// *TruncatedError inside one, and a *TooLargeError (with f's header filled
// in) when the frame announces more than MaxFrameSize. f.Seq is left to the
// caller; f.Violations and f.Close are reset.
func (d *Decoder) Next(f *Frame) error {
	f.Violations = f.Violations[:0]
	f.Close = nil
	f.Dir = d.Dir
	f.Payload = nil

	b, err := d.r.Peek(2)
	if err != nil {
		if len(b) == 0 && errors.Is(err, io.EOF) {
			return io.EOF
		}
		return d.truncated(err, true, uint64(len(b)), 2)
	}
	n := HeaderSize(b[1])
	if b, err = d.r.Peek(n); err != nil {
		return d.truncated(err, true, uint64(len(b)), uint64(n))
	}
	f.Header, _, _ = ParseHeader(b)
	f.Raw = d.raw[:copy(d.raw[:], b)]
	d.r.Discard(n)

	length := f.Length
	if max := d.MaxFrameSize; max > 0 && length > max {
		return &TooLargeError{What: "frame", Size: length, Limit: max}
	}
	if length > 1<<62 {
		return &TooLargeError{What: "frame", Size: length, Limit: 1 << 62}
	}
	// On a truncation, Payload holds what arrived: unmask that too.
	f.Payload, err = d.readPayload(int(length))
	if f.Masked {
		ws.Cipher(f.Payload, f.Mask, 0)
	}
	return err
}

func (d *Decoder) readPayload(n int) ([]byte, error) {
	if n == 0 {
		return d.buf[:0], nil
	}
	if n <= d.r.Size() {
		// Unmask in place inside the reader's buffer: no copy.
		p, err := d.r.Peek(n)
		if err != nil {
			// p is still unread in the reader: copy it before unmasking.
			d.buf = append(d.buf[:0], p...)
			return d.buf, d.truncated(err, false, uint64(len(p)), uint64(n))
		}
		d.r.Discard(n)
		return p, nil
	}
	buf := d.buf[:0]
	for len(buf) < n {
		step := min(n-len(buf), max(readChunk, len(buf)))
		if cap(buf)-len(buf) < step {
			grown := make([]byte, len(buf), len(buf)+step)
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(d.r, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+m]
		if err != nil {
			d.buf = buf
			return buf, d.truncated(err, false, uint64(len(buf)), uint64(n))
		}
	}
	d.buf = buf
	return buf, nil
}

func (d *Decoder) truncated(err error, inHeader bool, got, want uint64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &TruncatedError{InHeader: inHeader, Got: got, Want: want}
	}
	return err
}
