package wire

import (
	"bufio"

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

// flush writes out what is buffered and reports the frames it held.
// c.wmu must be held.
func (c *Conn) flush() error {
	if err := c.bw.Flush(); err != nil {
		c.sent.drop()
		return err
	}
	c.reportWritten()
	return nil
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
// Nothing is checked: the frame shows up in the event stream with the
// violations it commits. A close opcode marks the connection as closing.
func (c *Conn) WriteFrame(spec FrameSpec) error {
	h := inspect.Header{Fin: spec.Fin, Rsv: spec.Rsv & 7, Op: spec.Op & 0xF}
	h.Mask = spec.Key
	h.LenEnc = spec.LenEnc
	if spec.Op == inspect.OpClose {
		c.closeSent.Store(true)
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
	if _, err := c.bw.Write(c.hdr); err != nil {
		c.sent.drop()
		return err
	}
	if err := c.writePayload(p, h); err != nil {
		c.sent.drop()
		return err
	}
	c.sent.written += int64(len(c.hdr) + len(p))
	// Control frames are always tracked (the close handshake needs ours);
	// data frames only when someone is shown them.
	track := h.Op.IsControl() || c.cfg.OnEvent != nil && !c.cfg.OmitSent
	// A frame is reported once its bytes left the buffer for the socket:
	// at once when the buffer had to make room, else at the next flush.
	c.reportWritten()
	if len(c.sent.queue) == 0 && c.sent.written <= c.sent.out(c.bw) {
		c.reportSent(h, c.hdr, p, track)
		return nil
	}
	c.sent.add(h, c.hdr, p, track)
	return nil
}

// writePayload writes p, masked when the header says so.
func (c *Conn) writePayload(p []byte, h inspect.Header) error {
	return writePayload(c.bw, &c.scratch, p, h)
}

// writePayload writes p to bw, masked with h's key when h.Masked, through
// bw's free buffer or scratch (allocated once, bufSize): the caller's
// bytes are never modified, and a large payload is masked in pieces.
func writePayload(bw *bufio.Writer, scratch *[]byte, p []byte, h inspect.Header) error {
	if !h.Masked {
		_, err := bw.Write(p)
		return err
	}
	for off := 0; off < len(p); {
		buf := bw.AvailableBuffer()
		if cap(buf) < 512 {
			if len(*scratch) == 0 {
				*scratch = make([]byte, bufSize)
			}
			buf = *scratch
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

// reportWritten reports the queued frames whose bytes have all left the
// buffer. c.wmu must be held.
func (c *Conn) reportWritten() {
	out := c.sent.out(c.bw)
	n := 0
	for _, q := range c.sent.queue {
		if q.end > out {
			break
		}
		c.reportSent(q.h, q.raw[:q.rawLen], c.sent.arena[q.off:q.off+q.n], q.track)
		n++
	}
	c.sent.shift(n)
}

// reportSent checks a frame we sent and reports it, and the message it
// completes; one not tracked is only numbered. c.wmu must be held.
func (c *Conn) reportSent(h inspect.Header, raw, p []byte, track bool) {
	if !track {
		c.track.Skip()
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

// sentFrames are the frames written into the buffer but not yet out of
// it: reported once they are, dropped when the write fails.
type sentFrames struct {
	written int64 // bytes given to the buffer, all frames so far
	queue   []queuedFrame
	arena   []byte // the queued frames' payloads, copied
}

type queuedFrame struct {
	h      inspect.Header
	raw    [inspect.MaxHeaderSize]byte
	rawLen int
	off, n int   // the payload in arena
	end    int64 // where the frame ends in the written stream
	track  bool  // fed to the tracker, not only numbered
}

// out is how many of the written bytes have left bw for the socket.
func (s *sentFrames) out(bw *bufio.Writer) int64 { return s.written - int64(bw.Buffered()) }

func (s *sentFrames) add(h inspect.Header, raw, p []byte, track bool) {
	q := queuedFrame{h: h, off: len(s.arena), end: s.written, track: track}
	if track {
		q.rawLen = copy(q.raw[:], raw)
		q.n = len(p)
		s.arena = append(s.arena, p...)
	}
	s.queue = append(s.queue, q)
}

// shift forgets the first n queued frames, reported.
func (s *sentFrames) shift(n int) {
	if n == 0 {
		return
	}
	s.queue = s.queue[:copy(s.queue, s.queue[n:])]
	if len(s.queue) == 0 {
		s.arena = s.arena[:0]
		if cap(s.arena) > 4*bufSize {
			s.arena = nil // do not keep a burst's buffer
		}
	}
}

// drop forgets the queued frames: their bytes never reached the socket.
func (s *sentFrames) drop() { s.shift(len(s.queue)) }
