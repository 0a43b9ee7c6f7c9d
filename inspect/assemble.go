package inspect

import (
	"fmt"
	"unicode/utf8"
)

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

// TooManyFramesError reports a fragmented message of more frames than the
// limit: each frame costs its receiver work even when it carries nothing.
type TooManyFramesError struct{ Limit int }

func (e *TooManyFramesError) Error() string {
	return fmt.Sprintf("message of more than %d frames exceeds the limit", e.Limit)
}

// maxListedFrames bounds Message.Frames: a message of more frames lists its
// first ones and FrameCount says how many there were, so that what an open
// message costs does not grow with its frame count.
const maxListedFrames = 1024

// Assembler follows one direction of a connection: it checks every frame
// against the rules that need context (fragmentation, extensions, UTF-8
// across fragments) and reassembles data messages, with control frames
// allowed between the fragments (section 5.4).
type Assembler struct {
	Dir Direction
	// Deflate reports that permessage-deflate was negotiated, which gives
	// RSV1 a meaning (RFC 7692).
	Deflate bool
	// MaxMessageSize bounds a reassembled message; 0 means no limit.
	// With Inflater, it bounds the decompressed size too.
	MaxMessageSize uint64
	// MaxFrames bounds the frames of one message; 0 means no limit. A
	// message past it is dropped and reported as a *TooManyFramesError.
	MaxFrames int
	// Inflater, when set with Deflate, decompresses deflated messages:
	// they come out with the decompressed payload (WireLen keeps the
	// compressed size), checked against the UTF-8 rule. A message that
	// cannot be decompressed is reported as a *DecompressError, one that
	// inflates past MaxMessageSize as a *DecompressError wrapping an
	// *InflateLimitError.
	Inflater *Inflater

	open     bool // a fragmented message is in progress
	dropping bool // continuations of a message over a limit follow
	op       OpCode
	deflated bool
	frames   []uint64
	nframes  int
	buf      []byte
	text     utf8Stream // the open text message, as its fragments arrive
	badText  bool       // the open text message cannot be valid UTF-8
	piece    utf8Stream // the text of a frame still arriving (TextPiece)
	pieceOn  bool       // that frame carries text
	msg      Message
}

// Reset forgets any message in progress.
func (a *Assembler) Reset() {
	a.open = false
	a.buf = a.buf[:0]
	a.frames = a.frames[:0]
	a.nframes = 0
	a.text.reset()
	a.badText = false
}

// InMessage reports whether a fragmented message is open.
func (a *Assembler) InMessage() bool { return a.open }

// Add checks f, appends what it breaks to f.Violations, and returns the
// data message f completes, if any. The message and its payload are valid
// until the next call to Add. f.Dir must be set. A message over
// MaxMessageSize is dropped and reported as a *TooLargeError, one over
// MaxFrames as a *TooManyFramesError.
//
// Text is checked as it arrives: the frame at which a message can no
// longer be valid UTF-8 carries the violation, and so does the message.
// Without an Inflater the Assembler does not inflate: a message with
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
			a.nframes = 1
			return a.finish(f.Op, f.Rsv1() && a.Deflate, f.Payload, f)
		}
		a.open, a.op, a.deflated = true, f.Op, f.Rsv1() && a.Deflate
	}

	if max := a.MaxMessageSize; max > 0 && uint64(len(a.buf))+uint64(len(f.Payload)) > max {
		return nil, a.drop(f, &TooLargeError{What: "message", Size: uint64(len(a.buf)) + uint64(len(f.Payload)), Limit: max})
	}
	if a.MaxFrames > 0 && a.nframes >= a.MaxFrames {
		return nil, a.drop(f, &TooManyFramesError{Limit: a.MaxFrames})
	}
	a.buf = append(a.buf, f.Payload...)
	if len(a.frames) < maxListedFrames {
		a.frames = append(a.frames, f.Seq)
	}
	a.nframes++
	if a.op == OpText && !a.deflated && !a.badText && !a.text.write(f.Payload) {
		a.badText = true
		f.Violations = append(f.Violations, invalidText("text message is not valid UTF-8 from this frame on"))
	}
	if !f.Fin {
		return nil, nil
	}
	a.open = false
	m, err := a.finish(a.op, a.deflated, a.buf, f)
	a.buf = a.buf[:0]
	return m, err
}

// TextPiece reports whether piece, the bytes of f's payload from off as
// they arrive, can still be valid text where f stands: a text frame, or a
// continuation of an uncompressed text message. Other frames pass. It
// changes nothing of the message in progress: Add takes the whole frame.
func (a *Assembler) TextPiece(f *Frame, off int, piece []byte) bool {
	if off == 0 {
		switch {
		case f.Op == OpText && !(a.Deflate && f.Rsv1()):
			a.piece, a.pieceOn = utf8Stream{}, true
		case f.Op == OpContinuation && a.open && a.op == OpText && !a.deflated && !a.dropping && !a.badText:
			a.piece, a.pieceOn = a.text, true
		default:
			a.pieceOn = false
		}
	}
	return !a.pieceOn || a.piece.write(piece)
}

// CheckHeader checks what the header of f alone can break, for a frame
// whose payload is not read (over the size limit). The message in progress
// is left as it is.
func (a *Assembler) CheckHeader(f *Frame) {
	checkReservedOpcode(f)
	checkControl(f)
	checkMasking(f)
	checkLength(f)
	checkRsv(f, a.Deflate, f.Op.IsData())
}

// drop forgets the open message, over a limit at frame f, and keeps
// dropping its continuations.
func (a *Assembler) drop(f *Frame, err error) error {
	if a.deflated && a.Inflater != nil {
		a.Inflater.Break("an earlier message was dropped for its size, and the sender keeps its compression context")
	}
	a.Reset()
	a.dropping = !f.Fin
	return err
}

// finish completes a message from payload p and the frames listed in
// a.frames; last is its final frame.
func (a *Assembler) finish(op OpCode, deflated bool, p []byte, last *Frame) (*Message, error) {
	m := &a.msg
	m.Dir, m.Op, m.Deflated = a.Dir, op, deflated
	m.WireLen = len(p)
	m.Payload = p
	m.Violations = m.Violations[:0]
	m.Frames = a.frames
	m.FrameCount = a.nframes
	a.frames = a.frames[:0]
	a.nframes = 0
	fragmented := m.FrameCount > 1
	badText := a.badText
	endsInside := !a.text.end()
	a.badText = false
	if max := a.MaxMessageSize; max > 0 && uint64(len(p)) > max {
		if deflated && a.Inflater != nil {
			a.Inflater.Break("an earlier message was dropped for its size, and the sender keeps its compression context")
		}
		return nil, &TooLargeError{What: "message", Size: uint64(len(p)), Limit: max}
	}
	switch {
	case deflated && a.Inflater != nil:
		limit := int64(1<<63 - 1)
		if a.MaxMessageSize > 0 && a.MaxMessageSize < 1<<62 {
			limit = int64(a.MaxMessageSize)
		}
		out, err := a.Inflater.Inflate(p, limit)
		if err != nil {
			return nil, &DecompressError{Frames: m.Frames, Err: err}
		}
		m.Payload = out
		if op == OpText && !utf8.Valid(out) {
			markInvalidText(m, last, true)
		}
	case deflated:
		// Still compressed: the UTF-8 rule applies to the inflated text,
		// so it is left to whoever inflates.
	case op != OpText:
	case !fragmented:
		if !utf8.Valid(p) {
			markInvalidText(m, last, true)
		}
	case badText:
		markInvalidText(m, last, false) // its frame says so already
	case endsInside:
		markInvalidText(m, last, true)
	}
	return m, nil
}
