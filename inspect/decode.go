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
	// Watch, when set, is shown each piece of a payload as it arrives,
	// unmasked, before the frame is whole (off is where the piece starts
	// in the payload). Returning false cuts the frame there: Next returns
	// a *CutError with what arrived, and the rest of its payload is
	// skipped when it comes.
	Watch func(f *Frame, off int, piece []byte) bool

	r    *bufio.Reader
	raw  [MaxHeaderSize]byte
	buf  []byte
	skip int // bytes of a cut frame's payload still to come
	// unmasked is how much of the payload being read is unmasked already.
	unmasked int
}

// CutError reports a frame cut before its end because Watch refused what
// had arrived of it; Frame.Payload holds that.
type CutError struct{ Got, Want uint64 }

func (e *CutError) Error() string {
	return fmt.Sprintf("frame cut after %d of %d bytes of payload", e.Got, e.Want)
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

// SetReader makes d read from r from now on, between frames: for a
// connection that gives its buffer back while its peer is silent and takes
// another when bytes arrive.
func (d *Decoder) SetReader(r *bufio.Reader) { d.r = r }

// Shrink drops the buffer of payloads too large for the reader's buffer
// when it holds more than max bytes: between frames, for a connection
// that holds little while its peer is silent.
func (d *Decoder) Shrink(max int) {
	if cap(d.buf) > max {
		d.buf = nil
	}
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
	if d.skip > 0 {
		n, err := d.r.Discard(d.skip)
		d.skip -= n
		if err != nil {
			return d.truncated(err, false, uint64(n), uint64(n+d.skip))
		}
	}

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
	d.unmasked = 0
	if d.Watch != nil {
		f.Payload, err = d.readWatched(f, int(length))
	} else {
		f.Payload, err = d.readPayload(int(length))
	}
	if f.Masked {
		ws.Cipher(f.Payload[d.unmasked:], f.Mask, d.unmasked)
	}
	return err
}

// readWatched reads a payload of n bytes as readPayload does, showing each
// piece to Watch as it arrives.
func (d *Decoder) readWatched(f *Frame, n int) ([]byte, error) {
	if n == 0 || n > d.r.Size() {
		// Too large to wait for in the buffer: the pieces are the chunks
		// readPayload reads, shown once it is whole.
		p, err := d.readPayload(n)
		if err == nil {
			err = d.watch(f, p, 0, len(p))
		}
		return p, err
	}
	for {
		avail := min(d.r.Buffered(), n)
		p, _ := d.r.Peek(avail)
		if err := d.watch(f, p, d.unmasked, avail); err != nil {
			d.buf = append(d.buf[:0], p...)
			d.r.Discard(avail)
			d.skip = n - avail
			return d.buf, err
		}
		if avail == n {
			d.r.Discard(n)
			return p, nil
		}
		if p, err := d.r.Peek(avail + 1); err != nil {
			d.buf = append(d.buf[:0], p...)
			d.r.Discard(len(p))
			return d.buf, d.truncated(err, false, uint64(len(p)), uint64(n))
		}
	}
}

// watch unmasks p[from:to] in place and shows it to Watch.
func (d *Decoder) watch(f *Frame, p []byte, from, to int) error {
	if to <= from {
		return nil
	}
	if f.Masked {
		ws.Cipher(p[from:to], f.Mask, from)
	}
	d.unmasked = to
	if !d.Watch(f, from, p[from:to]) {
		return &CutError{Got: uint64(to), Want: f.Length}
	}
	return nil
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
