package wire

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/gobwas/ws"

	"github.com/wscope/wscope/inspect"
)

// Mask modes for FrameSpec.
const (
	MaskAuto = iota // mask when we are the client, as section 5.3 requires
	MaskNone        // never mask
	MaskWith        // mask with FrameSpec.Mask
)

// FrameSpec describes one frame to send exactly as given, valid or not:
// for testing how a peer copes with what it should reject.
type FrameSpec struct {
	Fin     bool
	Rsv     uint8 // RSV1..RSV3 as inspect.Rsv1 | Rsv2 | Rsv3
	Op      inspect.OpCode
	Mask    int // MaskAuto, MaskNone or MaskWith
	Key     [4]byte
	Payload []byte
	// LenEnc forces the length form (7, 16 or 64 bits); zero is minimal.
	LenEnc inspect.LengthEncoding
	// Length, when non-nil, is announced instead of len(Payload): a lie.
	Length *uint64
}

// MaxCloseReason is the longest reason a close frame carries: a control
// frame's payload is at most 125 bytes (RFC 6455 section 5.5), two of them
// the code.
const MaxCloseReason = 123

// CheckClose reports why a close with code and reason cannot be sent as a
// valid close frame (section 5.5.1): a reason too long, or a reason
// without a code (code 0 stands for an empty close frame).
func CheckClose(code inspect.CloseCode, reason string) error {
	if len(reason) > MaxCloseReason {
		return fmt.Errorf("close reason of %d bytes: a close frame carries at most %d bytes of reason (125 with its code)", len(reason), MaxCloseReason)
	}
	if code == 0 && reason != "" {
		return errors.New("a close reason needs a close code")
	}
	return nil
}

// Check reports what makes spec impossible to send as it describes
// itself, so that a view of the frame never differs from its bytes: an
// opcode or RSV bits wider than their fields, an unknown mask mode or
// length form, a length its forced form cannot hold (section 5.2: 7 bits
// carry at most 125, 16 bits at most 65535), or a length that announces
// fewer bytes than the payload (the rest would belong to no frame).
// Everything RFC 6455 forbids but the header can say is allowed.
func (spec *FrameSpec) Check() error {
	if spec.Op > 0xF {
		return fmt.Errorf("opcode %d: the field holds 0 to 15", spec.Op)
	}
	if spec.Rsv > 7 {
		return fmt.Errorf("RSV bits %#b: there are three", spec.Rsv)
	}
	if spec.Mask != MaskAuto && spec.Mask != MaskNone && spec.Mask != MaskWith {
		return fmt.Errorf("mask mode %d: want auto, none or a key", spec.Mask)
	}
	n := uint64(len(spec.Payload))
	if spec.Length != nil {
		if *spec.Length < n {
			return fmt.Errorf("length %d announces less than the %d-byte payload: a frame may announce more than it carries, not less", *spec.Length, n)
		}
		n = *spec.Length
	}
	switch spec.LenEnc {
	case 0, inspect.Len64:
	case inspect.Len7:
		if n > 125 {
			return fmt.Errorf("length %d does not fit the 7-bit form (at most 125)", n)
		}
	case inspect.Len16:
		if n > 0xFFFF {
			return fmt.Errorf("length %d does not fit the 16-bit form (at most 65535)", n)
		}
	default:
		return fmt.Errorf("length form %d: want 7, 16 or 64", spec.LenEnc)
	}
	return nil
}

// WriteMessage buffers a data message (text or binary), split into frames
// of Config.FragmentSize bytes when set. Call Flush to send.
func (c *Conn) WriteMessage(op inspect.OpCode, p []byte) error {
	return c.WriteFragmented(op, p, c.cfg.FragmentSize)
}

// WriteFragmented buffers a data message split into frames of at most n
// bytes (n <= 0: one frame); the first frame carries op, the others are
// continuations, the last has FIN (section 5.4).
func (c *Conn) WriteFragmented(op inspect.OpCode, p []byte, n int) error {
	if !op.IsData() {
		return ErrNotDataOp
	}
	if c.closeSent.Load() {
		return ErrClosing
	}
	c.wmu.Lock()
	defer c.unlock()
	if c.ended {
		return ErrClosed
	}
	var rsv uint8
	if c.deflate != nil {
		// Compress the whole message, then split it: RSV1 on the first
		// frame only (RFC 7692 section 6.1).
		z, err := c.deflate.Deflate(p)
		if err != nil {
			return err
		}
		p, rsv = z, inspect.Rsv1
	}
	if n <= 0 || len(p) <= n {
		return c.writeFrame(inspect.Header{Fin: true, Rsv: rsv, Op: op, Length: uint64(len(p))}, p, MaskAuto)
	}
	for first := true; ; first = false {
		chunk := p[:min(n, len(p))]
		p = p[len(chunk):]
		h := inspect.Header{Fin: len(p) == 0, Op: inspect.OpContinuation, Length: uint64(len(chunk))}
		if first {
			h.Op, h.Rsv = op, rsv
		}
		if err := c.writeFrame(h, chunk, MaskAuto); err != nil {
			return err
		}
		if len(p) == 0 {
			return nil
		}
	}
}

// Flush sends everything buffered.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.unlock()
	return c.flush()
}

// flush writes out what is buffered; with PoolBuffers, an emptied
// buffer goes back to the pool. c.wmu must be held.
func (c *Conn) flush() error {
	if c.bw == nil {
		return nil
	}
	err := c.bw.Flush()
	if c.cfg.PoolBuffers && c.bw.Buffered() == 0 {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
	return err
}

// writer returns the write buffer, taken from the pool with PoolBuffers
// when the connection holds none. c.wmu must be held.
func (c *Conn) writer() *bufio.Writer {
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		c.bw.Reset(&c.sent)
	}
	return c.bw
}

// Send writes a data message and flushes.
func (c *Conn) Send(op inspect.OpCode, p []byte) error {
	if err := c.WriteMessage(op, p); err != nil {
		return err
	}
	return c.Flush()
}

// Ping sends a ping with payload p (at most 125 bytes).
func (c *Conn) Ping(p []byte) error { return c.writeControl(inspect.OpPing, p) }

// Pong sends an unsolicited pong (section 5.5.3 allows it as a heartbeat).
func (c *Conn) Pong(p []byte) error { return c.writeControl(inspect.OpPong, p) }

func (c *Conn) writeControl(op inspect.OpCode, p []byte) error {
	if len(p) > 125 {
		return ErrControlSize
	}
	c.wmu.Lock()
	defer c.unlock()
	if c.ended {
		return ErrClosed
	}
	if err := c.writeFrame(inspect.Header{Fin: true, Op: op, Length: uint64(len(p))}, p, MaskAuto); err != nil {
		return err
	}
	return c.flush()
}

// WriteFrame sends one crafted frame exactly as spec says, and flushes.
// Only what the header cannot say is refused (Check); the rest shows up
// in the event stream with the violations it commits. A close opcode
// marks the connection as closing once the frame is written.
func (c *Conn) WriteFrame(spec FrameSpec) error {
	if err := spec.Check(); err != nil {
		return err
	}
	h := inspect.Header{Fin: spec.Fin, Rsv: spec.Rsv, Op: spec.Op, LenEnc: spec.LenEnc}
	if spec.Mask == MaskWith {
		h.Mask = spec.Key
	}
	c.wmu.Lock()
	defer c.unlock()
	if c.ended {
		return ErrClosed
	}
	h.Length = uint64(len(spec.Payload))
	if spec.Length != nil {
		h.Length = *spec.Length
	}
	if err := c.writeFrame(h, spec.Payload, spec.Mask); err != nil {
		return err
	}
	return c.flush()
}

// writeFrame buffers one frame and reports it. c.wmu must be held. The
// header's Length is written as given, even when it is not len(p).
func (c *Conn) writeFrame(h inspect.Header, p []byte, mask int) error {
	switch mask {
	case MaskAuto:
		h.Masked = c.role == inspect.RoleClient
		if h.Masked {
			k := c.rng.Uint64()
			h.Mask = [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		}
	case MaskWith:
		h.Masked = true
	default:
		h.Masked = false
	}
	c.hdr = inspect.AppendHeader(c.hdr[:0], h)
	// Control frames are always tracked (the close handshake needs ours);
	// data frames only when someone is shown them.
	track := h.Op.IsControl() || c.cfg.OnEvent != nil && !c.cfg.OmitSent
	c.sent.begin(h, c.hdr, p, track)
	bw := c.writer()
	if _, err := bw.Write(c.hdr); err != nil {
		return err
	}
	if err := writePayload(bw, p, h); err != nil {
		return err
	}
	c.sent.end()
	return nil
}

// writePayload writes p to bw, masked with h's key when h.Masked, in
// bw's free buffer: the caller's bytes are never modified, and a large
// payload is masked in pieces, the buffer flushed between them.
func writePayload(bw *bufio.Writer, p []byte, h inspect.Header) error {
	if !h.Masked {
		_, err := bw.Write(p)
		return err
	}
	for off := 0; off < len(p); {
		buf := bw.AvailableBuffer()
		if cap(buf) < 512 && cap(buf) < len(p)-off {
			if err := bw.Flush(); err != nil {
				return err
			}
			buf = bw.AvailableBuffer()
		}
		n := copy(buf[:cap(buf)], p[off:])
		ws.Cipher(buf[:n], h.Mask, off)
		if _, err := bw.Write(buf[:n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// reportSent checks a frame we sent and reports it, and the message it
// completes; one not tracked is only numbered. c.wmu must be held.
func (c *Conn) reportSent(h inspect.Header, raw, p []byte, track bool) {
	if h.Op == inspect.OpClose {
		// Our close is on its way: from now on the peer may answer it.
		c.closeSent.Store(true)
	}
	if !track {
		c.track.Skip(1)
		return
	}
	f := &c.wframe
	f.Dir = c.wdir
	f.Header = h
	if h.LenEnc == 0 {
		f.LenEnc = inspect.MinimalLengthEncoding(h.Length)
	}
	f.Raw = raw
	f.Payload = p
	f.Violations = f.Violations[:0]
	st := c.track.Frame(f)
	if c.cfg.OnEvent == nil {
		return
	}
	c.wevent.T = c.since()
	c.wevent.Kind, c.wevent.Frame, c.wevent.Msg = inspect.KindFrame, f, nil
	c.emit(&c.wevent)
	if st.Msg != nil {
		c.wevent.Kind, c.wevent.Frame, c.wevent.Msg = inspect.KindMsg, nil, st.Msg
		c.emit(&c.wevent)
	}
}
