package tui

import (
	"bytes"
	"time"

	"github.com/wscope/wscope/inspect"
)

// row is one event as the TUI keeps it: about 72 bytes plus the payload,
// instead of the few hundred an *inspect.Event with its Frame and Message
// takes, so that a long scrollback stays small. What most frames do not
// have (violations, a close body, handshakes) hangs off more.
type row struct {
	t       time.Duration
	seq     uint64 // frame: its Seq; msg: the Seq of its only frame
	length  uint64 // frame: the declared length; msg: its size on the wire
	payload []byte // never modified; a message made of one plain frame shares it
	more    *rowMore
	conn    int32
	kind    inspect.Kind
	dir     inspect.Direction
	op      inspect.OpCode
	flags   rowFlags
	lenEnc  inspect.LengthEncoding
	group   inspect.Part // frame: where it stands in a fragmented message
	mask    [4]byte
}

// rowFlags are the bits of a frame header and a few facts about a row.
type rowFlags uint16

const (
	flagFin rowFlags = 1 << iota
	flagRsv1
	flagRsv2
	flagRsv3
	flagMasked
	flagDeflated    // msg: compressed on the wire
	flagShared      // msg: payload shared with its frame, counted once
	flagOneFrame    // msg: made of exactly the frame in seq
	flagViolation   // frame or msg breaks a rule
	flagMsgNoFrames // msg: frames unknown (HAR), shown in the frame view

	// What a frame's payload holds (inspect.Content), for its preview
	// and the filter.
	flagCompressed // deflated bytes
	flagOfText     // continuation of a text message
	flagOfBinary   // continuation of a binary message
)

// rowMore holds what few rows have.
type rowMore struct {
	raw        []byte // the header bytes, when they differ from the rebuilt ones
	close      *inspect.Close
	violations []inspect.Violation
	frames     []uint64 // msg made of more than one frame
	open       *inspect.Open
	end        *inspect.End
	text       string            // error, note, mark
	decoded    []inspect.Decoded // msg: what the application protocol decoder read
}

func (r *row) has(f rowFlags) bool { return r.flags&f != 0 }

func (r *row) header() inspect.Header {
	h := inspect.Header{
		Fin:    r.has(flagFin),
		Op:     r.op,
		Masked: r.has(flagMasked),
		Mask:   r.mask,
		Length: r.length,
		LenEnc: r.lenEnc,
	}
	if r.has(flagRsv1) {
		h.Rsv |= inspect.Rsv1
	}
	if r.has(flagRsv2) {
		h.Rsv |= inspect.Rsv2
	}
	if r.has(flagRsv3) {
		h.Rsv |= inspect.Rsv3
	}
	return h
}

// setContent keeps what the payload of a frame row holds.
func (r *row) setContent(c inspect.Content) {
	if c.Compressed {
		r.flags |= flagCompressed
	}
	if r.op == inspect.OpContinuation {
		switch c.Op {
		case inspect.OpText:
			r.flags |= flagOfText
		case inspect.OpBinary:
			r.flags |= flagOfBinary
		}
	}
}

// content returns what the payload of a frame row holds.
func (r *row) content() inspect.Content {
	c := inspect.Content{Op: r.op, Compressed: r.has(flagCompressed)}
	switch {
	case r.has(flagOfText):
		c.Op = inspect.OpText
	case r.has(flagOfBinary):
		c.Op = inspect.OpBinary
	}
	return c
}

func (r *row) violations() []inspect.Violation {
	if r.more == nil {
		return nil
	}
	return r.more.violations
}

// frames returns the Seq of every frame of a msg row.
func (r *row) frames() []uint64 {
	switch {
	case r.has(flagOneFrame):
		return []uint64{r.seq}
	case r.more != nil:
		return r.more.frames
	}
	return nil
}

func (r *row) frameCount() int {
	if r.has(flagOneFrame) {
		return 1
	}
	if r.more != nil {
		return len(r.more.frames)
	}
	return 0
}

// setFrame fills r from a frame event.
func (r *row) setFrame(f *inspect.Frame) {
	r.seq, r.dir, r.op = f.Seq, f.Dir, f.Op
	r.length, r.lenEnc, r.mask = f.Length, f.LenEnc, f.Mask
	r.payload = f.Payload
	if f.Fin {
		r.flags |= flagFin
	}
	if f.Rsv1() {
		r.flags |= flagRsv1
	}
	if f.Rsv2() {
		r.flags |= flagRsv2
	}
	if f.Rsv3() {
		r.flags |= flagRsv3
	}
	if f.Masked {
		r.flags |= flagMasked
	}
	raw := f.Raw
	if len(raw) > 0 && sameHeader(raw, f.Header) {
		raw = nil
	}
	if len(f.Violations) > 0 {
		r.flags |= flagViolation
	}
	if f.Close == nil && len(f.Violations) == 0 && raw == nil {
		return // the common case: nothing more to keep
	}
	m := &rowMore{raw: raw}
	if f.Close != nil {
		c := *f.Close
		m.close = &c
	}
	if len(f.Violations) > 0 {
		m.violations = f.Violations
	}
	r.more = m
}

// sameHeader reports whether raw is what AppendHeader writes for h, so
// that it need not be kept.
func sameHeader(raw []byte, h inspect.Header) bool {
	var buf [inspect.MaxHeaderSize]byte
	return bytes.Equal(raw, inspect.AppendHeader(buf[:0], h))
}

// setMsg fills r from a msg event.
func (r *row) setMsg(m *inspect.Message) {
	r.dir, r.op, r.payload = m.Dir, m.Op, m.Payload
	r.length = uint64(m.WireLen)
	if m.Deflated {
		r.flags |= flagDeflated
	}
	switch len(m.Frames) {
	case 0:
		r.flags |= flagMsgNoFrames
	case 1:
		r.flags |= flagOneFrame
		r.seq = m.Frames[0]
	default:
		r.more = &rowMore{frames: m.Frames}
	}
	if len(m.Violations) > 0 {
		r.flags |= flagViolation
		if r.more == nil {
			r.more = &rowMore{}
		}
		r.more.violations = m.Violations
	}
	if len(m.Decoded) > 0 {
		if r.more == nil {
			r.more = &rowMore{}
		}
		r.more.decoded = m.Decoded
	}
}

// decoded returns what the application protocol decoder read in a
// message row.
func (r *row) decoded() []inspect.Decoded {
	if r.more == nil {
		return nil
	}
	return r.more.decoded
}

// decodedSummary joins the summaries of what a decoder read in a message
// row: its preview in the list, the protocol first.
func (r *row) decodedSummary() string {
	var b []byte
	for i, d := range r.decoded() {
		if i > 0 {
			b = append(b, " | "...)
		}
		b = inspect.AppendSummary(b, d.Summary)
	}
	return string(b)
}

// event rebuilds the event r was made from, for the detail pane and
// /save. It shares r's payload, which nobody modifies.
func (r *row) event() *inspect.Event {
	e := &inspect.Event{T: r.t, Kind: r.kind, Conn: int(r.conn)}
	switch r.kind {
	case inspect.KindFrame:
		e.Frame = r.frame()
	case inspect.KindMsg:
		e.Msg = &inspect.Message{
			Dir: r.dir, Op: r.op, Frames: r.frames(), Deflated: r.has(flagDeflated),
			WireLen: int(r.length), Payload: r.payload, Violations: r.violations(), Decoded: r.decoded(),
		}
	case inspect.KindOpen:
		e.Open = r.more.open
	case inspect.KindEnd:
		e.End = r.more.end
	default:
		if r.more != nil {
			e.Text = r.more.text
		}
	}
	return e
}

func (r *row) frame() *inspect.Frame {
	f := &inspect.Frame{Seq: r.seq, Dir: r.dir, Header: r.header(), Payload: r.payload}
	if r.more != nil {
		f.Raw, f.Close, f.Violations = r.more.raw, r.more.close, r.more.violations
	}
	if f.Raw == nil {
		f.Raw = inspect.AppendHeader(make([]byte, 0, inspect.MaxHeaderSize), f.Header)
	}
	return f
}

// wireLen is what a frame row took on the wire, header included.
func (r *row) wireLen() int {
	if r.more != nil && r.more.raw != nil {
		return len(r.more.raw) + len(r.payload)
	}
	return r.header().Size() + len(r.payload)
}

// chunkBits sizes the blocks rows are stored in: dropping the oldest rows
// frees whole blocks, and no append ever copies the rows already kept.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// store keeps rows in arrival order and gives each an id, counting from 0
// over the whole session. The oldest rows can be dropped; ids never
// change.
type store struct {
	chunks     [][]row
	firstChunk int // chunk number of chunks[0]
	first      int // id of the oldest row kept
	next       int // id of the next row
	bytes      int64
}

func (s *store) len() int { return s.next - s.first }

// at returns the row with id, which must be kept.
func (s *store) at(id int) *row {
	return &s.chunks[id>>chunkBits-s.firstChunk][id&(chunkSize-1)]
}

// push adds r and returns its id.
func (s *store) push(r row) int {
	id := s.next
	c := id>>chunkBits - s.firstChunk
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]row, chunkSize))
	}
	s.chunks[c][id&(chunkSize-1)] = r
	s.next++
	if !r.has(flagShared) {
		s.bytes += int64(len(r.payload))
	}
	return id
}

// dropFirst forgets the oldest row and frees its payload.
func (s *store) dropFirst() {
	r := s.at(s.first)
	if !r.has(flagShared) {
		s.bytes -= int64(len(r.payload))
	}
	*r = row{}
	s.first++
	if s.first&(chunkSize-1) == 0 {
		s.chunks[0] = nil
		s.chunks = s.chunks[1:]
		s.firstChunk++
	}
}
