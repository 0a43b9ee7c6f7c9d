package inspect

import "fmt"

// TooLargeError reports a frame or message over the size limit. It is
// returned before the payload is read or allocated.
type TooLargeError struct {
	What  string // "frame" or "message"
	Size  uint64 // bytes announced or accumulated
	Limit uint64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s of %d bytes exceeds the limit of %d bytes", e.What, e.Size, e.Limit)
}

// DecompressError is a deflated message that could not be decompressed.
type DecompressError struct {
	Frames []uint64
	Err    error
}

func (e *DecompressError) Error() string {
	return fmt.Sprintf("message of frames %v: cannot decompress it: %v", e.Frames, e.Err)
}

func (e *DecompressError) Unwrap() error { return e.Err }

// Assembler follows one direction of a connection: it checks every frame
// against the rules that need context (fragmentation, extensions) and
// reassembles data messages, with control frames allowed between the
// fragments (section 5.4).
type Assembler struct {
	Dir Direction
	// Deflate reports that permessage-deflate was negotiated, which gives
	// RSV1 a meaning (RFC 7692).
	Deflate bool
	// MaxMessageSize bounds a reassembled message; 0 means no limit.
	// With Inflater, it bounds the decompressed size too.
	MaxMessageSize uint64
	// Inflater, when set with Deflate, decompresses deflated messages:
	// they come out with the decompressed payload (WireLen keeps the
	// compressed size), checked against the UTF-8 rule. A message that
	// cannot be decompressed is reported as a *DecompressError, one that
	// inflates past MaxMessageSize as a *DecompressError wrapping an
	// *InflateLimitError.
	Inflater *Inflater

	open     bool // a fragmented message is in progress
	dropping bool // continuations of a message over MaxMessageSize follow
	op       OpCode
	deflated bool
	frames   []uint64
	buf      []byte
	msg      Message
}

// Reset forgets any message in progress.
func (a *Assembler) Reset() {
	a.open = false
	a.buf = a.buf[:0]
	a.frames = a.frames[:0]
}

// InMessage reports whether a fragmented message is open.
func (a *Assembler) InMessage() bool { return a.open }

// Add checks f, appends what it breaks to f.Violations, and returns the
// data message f completes, if any. The message and its payload are valid
// until the next call to Add. f.Dir must be set. A message over
// MaxMessageSize is dropped and reported as a *TooLargeError.
//
// Without an Inflater, the Assembler does not inflate: a message with
// Deflated set still holds the compressed payload, and is not checked
// against the UTF-8 rule.
func (a *Assembler) Add(f *Frame) (*Message, error) {
	checkReservedOpcode(f)
	checkControl(f)
	checkMasking(f)
	checkLength(f)
	checkClose(f)

	switch {
	case f.Op.IsControl() || f.Op.IsReserved():
		checkRsv(f, a.Deflate, false)
		return nil, nil
	case f.Op == OpContinuation:
		checkRsv(f, a.Deflate, false)
		if a.dropping {
			// The rest of a message dropped for its size: not the peer's
			// mistake, so no violation.
			a.dropping = !f.Fin
			return nil, nil
		}
		if !a.open {
			f.Violations = append(f.Violations, violation(RuleOrphanContinuation, "continuation frame with no fragmented message open"))
			return nil, nil
		}
	default: // text or binary starts a message
		checkRsv(f, a.Deflate, true)
		a.dropping = false
		if a.open {
			f.Violations = append(f.Violations, violation(RuleDataInsideFragmented, "%s frame while a fragmented %s message is still open: the open message is dropped", f.Op, a.op))
			a.Reset()
		}
		if f.Fin {
			// The common case: the message is the frame, no copy.
			a.frames = append(a.frames[:0], f.Seq)
			return a.finish(f.Op, f.Rsv1() && a.Deflate, f.Payload)
		}
		a.open, a.op, a.deflated = true, f.Op, f.Rsv1() && a.Deflate
	}

	if max := a.MaxMessageSize; max > 0 && uint64(len(a.buf))+uint64(len(f.Payload)) > max {
		size := uint64(len(a.buf)) + uint64(len(f.Payload))
		if a.deflated && a.Inflater != nil {
			a.Inflater.Break("an earlier message was dropped for its size, and the sender keeps its compression context")
		}
		a.Reset()
		a.dropping = !f.Fin
		return nil, &TooLargeError{What: "message", Size: size, Limit: max}
	}
	a.buf = append(a.buf, f.Payload...)
	a.frames = append(a.frames, f.Seq)
	if !f.Fin {
		return nil, nil
	}
	a.open = false
	m, err := a.finish(a.op, a.deflated, a.buf)
	a.buf = a.buf[:0]
	return m, err
}

// finish completes a message from payload p and the frames in a.frames.
func (a *Assembler) finish(op OpCode, deflated bool, p []byte) (*Message, error) {
	m := &a.msg
	m.Dir, m.Op, m.Deflated = a.Dir, op, deflated
	m.WireLen = len(p)
	m.Payload = p
	m.Violations = m.Violations[:0]
	m.Frames = a.frames
	a.frames = a.frames[:0]
	if max := a.MaxMessageSize; max > 0 && uint64(len(p)) > max {
		if deflated && a.Inflater != nil {
			a.Inflater.Break("an earlier message was dropped for its size, and the sender keeps its compression context")
		}
		return nil, &TooLargeError{What: "message", Size: uint64(len(p)), Limit: max}
	}
	if deflated && a.Inflater != nil {
		limit := int64(1<<63 - 1)
		if a.MaxMessageSize > 0 && a.MaxMessageSize < 1<<62 {
			limit = int64(a.MaxMessageSize)
		}
		out, err := a.Inflater.Inflate(p, limit)
		if err != nil {
			return nil, &DecompressError{Frames: m.Frames, Err: err}
		}
		m.Payload = out
		checkTextUTF8(m)
		return m, nil
	}
	if !deflated {
		// A deflated payload is still compressed here: the UTF-8 rule
		// applies to the inflated text, so it is left to the inflater.
		checkTextUTF8(m)
	}
	return m, nil
}
