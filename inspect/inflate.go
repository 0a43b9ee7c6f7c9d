package inspect

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// windowSize is the DEFLATE window: the most a back-reference can reach,
// so the most of earlier messages a compressor that keeps its context can
// refer to.
const windowSize = 32 << 10

// deflateTail ends a permessage-deflate message (RFC 7692 section 7.2.2):
// the 00 00 ff ff the sender removed, then an empty final stored block, so
// that a whole message reads to a clean io.EOF and a cut one does not.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// InflateLimitError is a message that decompresses to more than the limit
// (a zip bomb, or just too big).
type InflateLimitError struct{ Limit int64 }

func (e *InflateLimitError) Error() string {
	return fmt.Sprintf("it inflates to more than the limit of %d bytes", e.Limit)
}

// Inflater decompresses the permessage-deflate messages (RFC 7692) of one
// direction. The zero value decompresses each message on its own.
type Inflater struct {
	// Takeover: the sender keeps its compression context between
	// messages (no *_no_context_takeover was agreed for its direction), so
	// the last 32 KiB of earlier output are the dictionary.
	Takeover bool
	dict     []byte // the last 32 KiB of hist
	hist     []byte
	fr       io.ReadCloser
	src      twoSlices
	out      []byte
	// broken says why the context was lost: with takeover, every later
	// message depends on it.
	broken string
}

// Inflate returns the decompressed message p, valid until the next call.
// It fails past limit bytes of output. With Takeover, a failure loses the
// context: every later call fails too.
func (in *Inflater) Inflate(p []byte, limit int64) ([]byte, error) {
	if in.broken != "" {
		return nil, errors.New(in.broken)
	}
	if len(p) == 0 {
		// No compressed data at all (RFC 7692 section 7.2.3.6 has
		// senders write 0x00, but an empty payload means the same).
		return p, nil
	}
	in.src = twoSlices{p, deflateTail}
	var dict []byte
	if in.Takeover {
		dict = in.dict
	}
	if in.fr == nil {
		in.fr = flate.NewReaderDict(&in.src, dict)
	} else if err := in.fr.(flate.Resetter).Reset(&in.src, dict); err != nil {
		return nil, err
	}
	if cap(in.out) > 4<<20 {
		in.out = nil // do not keep a huge message's buffer
	}
	out := in.out[:0]
	for {
		if len(out) == cap(out) {
			if int64(len(out)) > limit {
				return nil, in.fail(&InflateLimitError{Limit: limit})
			}
			n := min(max(2*cap(out), 4096), int(min(limit, 1<<62))+1)
			grown := make([]byte, len(out), n)
			copy(grown, out)
			out = grown
		}
		n, err := in.fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if int64(len(out)) > limit {
			return nil, in.fail(&InflateLimitError{Limit: limit})
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the compressed data ends inside a block")
			}
			return nil, in.fail(err)
		}
	}
	in.out = out
	if in.Takeover {
		in.remember(out)
	}
	return out, nil
}

// fail records that the context is lost (when there is one) and returns
// err.
func (in *Inflater) fail(err error) error {
	if in.Takeover {
		in.broken = fmt.Sprintf("an earlier message could not be decompressed (%v), and the sender keeps its compression context", err)
	} else {
		in.fr = nil // a reader in an error state is not reused
	}
	return err
}

// Break records that a message of this direction was lost (dropped for its
// size, say): with Takeover, later messages cannot be decompressed.
func (in *Inflater) Break(why string) {
	if in.Takeover {
		in.broken = why
	}
}

// Reset forgets the context and any failure.
func (in *Inflater) Reset() {
	in.hist, in.dict, in.broken = in.hist[:0], nil, ""
}

// remember keeps the last 32 KiB of everything inflated so far. The
// history buffer holds up to twice that, so the slide to its front happens
// once per 32 KiB of output rather than once per message.
func (in *Inflater) remember(out []byte) {
	if len(out) >= windowSize {
		in.hist = append(in.hist[:0], out[len(out)-windowSize:]...)
	} else {
		if len(in.hist)+len(out) > 2*windowSize {
			in.hist = in.hist[:copy(in.hist, in.hist[len(in.hist)-windowSize:])]
		}
		in.hist = append(in.hist, out...)
	}
	in.dict = in.hist[max(0, len(in.hist)-windowSize):]
}

// twoSlices reads a, then b. It is an io.ByteReader, so flate reads it
// without a bufio layer of its own.
type twoSlices struct{ a, b []byte }

func (t *twoSlices) Read(p []byte) (int, error) {
	if len(t.a) == 0 {
		t.a, t.b = t.b, nil
		if len(t.a) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, t.a)
	t.a = t.a[n:]
	return n, nil
}

func (t *twoSlices) ReadByte() (byte, error) {
	if len(t.a) == 0 {
		t.a, t.b = t.b, nil
		if len(t.a) == 0 {
			return 0, io.EOF
		}
	}
	c := t.a[0]
	t.a = t.a[1:]
	return c, nil
}
