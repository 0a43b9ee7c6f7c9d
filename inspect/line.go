package inspect

import (
	"strconv"
	"time"
)

// This file is the one renderer of a frame line. `-o frames` (AppendLine)
// and the TUI's rows show each fact of a frame in the notation below,
// written by the functions here and nowhere else:
//
//	flags    FIN and RSV1-3, "-" for a clear bit            F1--
//	mask     M and the key; "- --------" when not masked    M 9f1c2a7e
//	length   as declared; "/16bit" or "/64bit" when that    5/16bit
//	         is not the minimal encoding; "(got N)" when    100(got 5)
//	         fewer bytes arrived
//	rules    "!! " then each rule broken and its section,    !! reserved-opcode (RFC 6455 5.2)
//	         before the preview, which the peer controls
//	close    code, name, the reason quoted                   1000 Normal Closure "bye"
//	ratio    wire bytes per payload byte of a deflated       0.43
//	         message
//	preview  FramePreview: what the payload holds (Content)  [deflated 23 B] f2 48 …

// LineOptions shape the one-line, tcpdump-like rendering of events used
// by `-o frames`.
type LineOptions struct {
	ShowConn bool // prefix the connection id (listen, proxy)
	Preview  int  // runes of payload preview; 0 means 60
	// Context, when set, follows the fragmented messages across calls, so
	// that a continuation frame is previewed as what its message is. Give
	// it every event of the stream, in order. nil previews each frame by
	// what its own header says.
	Context *LineContext
}

// LineContext is what AppendLine remembers between the events of one
// stream. Not safe for concurrent use.
type LineContext struct {
	conns map[int]*Fragments
}

// See follows a frame event that is not shown (filtered out), so that the
// continuations that are shown are still previewed as what they continue.
func (c *LineContext) See(e *Event) {
	if e.Kind == KindFrame {
		c.content(e.Conn, e.Frame)
	}
}

// content returns what the payload of frame f on connection conn holds.
func (c *LineContext) content(conn int, f *Frame) Content {
	s := c.conns[conn]
	if s == nil {
		if c.conns == nil {
			c.conns = map[int]*Fragments{}
		}
		s = &Fragments{}
		c.conns[conn] = s
	}
	ct, _ := s.Frame(f)
	return ct
}

// AppendLine appends a one-line description of e (without the newline):
//
//	0.000512 c2s text   F--- M 9f1c2a7e len=5       "hello"
//
// time, direction, opcode, then the facts in this file's notation.
func AppendLine(b []byte, e *Event, o LineOptions) []byte {
	b = appendTime(b, e.T)
	if o.ShowConn {
		b = append(b, " #"...)
		b = strconv.AppendInt(b, int64(e.Conn), 10)
	}
	b = append(b, ' ')
	switch e.Kind {
	case KindFrame:
		ct := ContentOf(e.Frame)
		if o.Context != nil {
			ct = o.Context.content(e.Conn, e.Frame)
		}
		return appendFrameLine(b, e.Frame, ct, o)
	case KindMsg:
		m := e.Msg
		b = append(b, m.Dir.String()...)
		b = append(b, " msg    "...)
		b = appendPadded(b, m.Op.String(), 6)
		b = append(b, " frames="...)
		b = strconv.AppendInt(b, int64(len(m.Frames)), 10)
		b = append(b, " len="...)
		b = strconv.AppendInt(b, int64(len(m.Payload)), 10)
		if m.Deflated {
			b = append(b, " wire="...)
			b = strconv.AppendInt(b, int64(m.WireLen), 10)
			if len(m.Payload) > 0 {
				b = append(b, " ratio="...)
				b = AppendRatio(b, m.WireLen, len(m.Payload))
			}
		}
		b = append(b, ' ')
		if len(m.Violations) > 0 {
			b = append(AppendViolations(b, m.Violations), ' ')
		}
		return append(b, Summary(m.Payload, m.Op, previewLen(o))...)
	case KindOpen:
		op := e.Open
		b = append(b, "open   "...)
		b = append(b, op.URL...)
		b = append(b, " ("...)
		b = append(b, op.Role...)
		switch {
		case op.Local != "" && op.Remote != "":
			b = append(append(append(append(b, ' '), op.Local...), " <-> "...), op.Remote...)
		case op.Remote != "": // a HAR knows only the server
			b = append(append(b, " to "...), op.Remote...)
		}
		b = append(b, ')')
		if t := op.TLS; t != nil && t.ClientSHA256 != "" {
			b = append(b, " client-cert="...)
			b = strconv.AppendQuote(b, t.ClientSubject)
			b = append(b, " sha256="...)
			b = append(b, t.ClientSHA256...)
		}
		if op.Subprotocol != "" {
			b = append(b, " subprotocol="...)
			b = append(b, op.Subprotocol...)
		}
		for _, x := range op.Extensions {
			b = append(b, " ext="...)
			b = append(b, x.Name...)
		}
		if op.Decoder != "" {
			b = append(b, " decode="...)
			b = append(b, op.Decoder...)
			b = append(b, " ("...)
			b = append(b, op.DecoderWhy...)
			b = append(b, ')')
		}
		return b
	case KindEnd:
		if o.Context != nil {
			delete(o.Context.conns, e.Conn)
		}
		return append(b, "end    "+DescribeEnd(e.End)...)
	}
	b = append(b, e.Kind.String()...)
	b = append(b, ' ')
	return append(b, e.Text...)
}

func appendFrameLine(b []byte, f *Frame, ct Content, o LineOptions) []byte {
	b = append(b, f.Dir.String()...)
	b = append(b, ' ')
	b = appendPadded(b, f.Op.String(), 6)
	b = append(b, ' ')
	b = AppendFlags(b, f.Header)
	b = append(b, ' ')
	b = AppendMask(b, f.Header)
	n := len(b)
	b = append(b, " len="...)
	b = AppendLength(b, f.Header, len(f.Payload))
	for len(b)-n < 12 {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	if len(f.Violations) > 0 {
		b = append(AppendViolations(b, f.Violations), ' ')
	}
	return append(b, FramePreview(f, ct, previewLen(o))...)
}

// AppendFlags appends the FIN and RSV1-3 bits of h: "F1--" is a final,
// compressed frame.
func AppendFlags(b []byte, h Header) []byte {
	return append(b, flag(h.Fin, 'F'), flag(h.Rsv1(), '1'), flag(h.Rsv2(), '2'), flag(h.Rsv3(), '3'))
}

// AppendMask appends the MASK bit and the masking key of h, always 10
// columns: "M 9f1c2a7e", or "- --------" for a frame sent in the clear.
func AppendMask(b []byte, h Header) []byte {
	if !h.Masked {
		return append(b, "- --------"...)
	}
	b = append(b, 'M', ' ')
	for _, c := range h.Mask {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return b
}

// AppendLength appends the declared length of h, "/16bit" or "/64bit"
// after it when that encoding is not the minimal one (section 5.2), and
// "(got N)" when got, the payload bytes that arrived, differ from it.
func AppendLength(b []byte, h Header, got int) []byte {
	b = strconv.AppendUint(b, h.Length, 10)
	if h.LenEnc != 0 && h.LenEnc != MinimalLengthEncoding(h.Length) {
		b = append(b, '/')
		b = append(b, h.LenEnc.String()...)
		b = append(b, "bit"...)
	}
	if uint64(got) != h.Length {
		b = append(b, "(got "...)
		b = strconv.AppendInt(b, int64(got), 10)
		b = append(b, ')')
	}
	return b
}

// AppendViolations appends "!! " and the rules vs break with their
// sections: "!! reserved-opcode (RFC 6455 5.2), control-fragmented (RFC
// 6455 5.5)". vs must not be empty.
func AppendViolations(b []byte, vs []Violation) []byte {
	b = append(b, "!! "...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v.Rule...)
		b = append(b, " ("...)
		b = append(b, v.Section...)
		b = append(b, ')')
	}
	return b
}

// AppendCloseText appends a close status: the code, its name and the
// reason, quoted so that its end is plain and nothing in it reaches the
// terminal raw: `1000 Normal Closure "bye"`.
func AppendCloseText(b []byte, code CloseCode, reason string) []byte {
	b = strconv.AppendUint(b, uint64(code), 10)
	b = append(b, ' ')
	b = append(b, code.Name()...)
	if reason != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, reason)
	}
	return b
}

// AppendRatio appends what a deflated message kept of its size: bytes on
// the wire per byte of payload, "0.43". payload must not be 0.
func AppendRatio(b []byte, wire, payload int) []byte {
	return strconv.AppendFloat(b, float64(wire)/float64(payload), 'f', 2, 64)
}

// Content is what the payload of a frame holds, which its preview shows.
// Only the first frame of a message carries the message's opcode (RFC
// 6455 section 5.4) and, with permessage-deflate, the RSV1 bit that says
// it is compressed (RFC 7692 section 6); its continuations hold the same.
type Content struct {
	// Op is the message's opcode, text or binary, for a data frame; a
	// control or reserved frame's own; OpContinuation when not known (a
	// continuation whose message was not seen).
	Op OpCode
	// Compressed says the bytes are deflated (RFC 7692).
	Compressed bool
}

// ContentOf returns what f's payload holds as far as f itself says: RSV1
// means compressed on a text or binary frame only when it broke no RSV
// rule, that is when permessage-deflate was negotiated. A continuation's
// message is not known from the frame alone; Fragments knows it.
func ContentOf(f *Frame) Content {
	c := Content{Op: f.Op}
	if f.Op.IsData() && f.Rsv1() && !brokeRule(f.Violations, RuleRsvWithoutExtension) {
		c.Compressed = true
	}
	return c
}

func brokeRule(vs []Violation, r Rule) bool {
	for _, v := range vs {
		if v.Rule == r {
			return true
		}
	}
	return false
}

// Part is where a frame stands in a fragmented message (section 5.4).
type Part uint8

// The places of a frame.
const (
	PartNone    Part = iota // not a fragment: a whole message, a control frame outside a message, an orphan
	PartFirst               // a text or binary frame without FIN
	PartMiddle              // a continuation without FIN
	PartLast                // the continuation with FIN
	PartBetween             // a control frame between the fragments of a message
)

// Fragments follows the fragmented messages of one connection, each
// direction on its own: a message's frames come in order and control
// frames may come between them (section 5.4). The zero value is ready.
type Fragments struct {
	open [3]Content // by Direction: the message in progress, Op 0 for none
}

// Frame returns what the payload of f holds and where f stands, and moves
// past f. Give it every frame of the connection, in order.
func (s *Fragments) Frame(f *Frame) (Content, Part) {
	d := f.Dir % 3
	open := s.open[d]
	switch {
	case f.Op.IsControl():
		if open.Op != OpContinuation {
			return Content{Op: f.Op}, PartBetween
		}
		return Content{Op: f.Op}, PartNone
	case f.Op.IsReserved():
		return Content{Op: f.Op}, PartNone
	case f.Op == OpContinuation:
		switch {
		case open.Op == OpContinuation:
			return Content{}, PartNone // an orphan, a violation of its own
		case f.Fin:
			s.open[d] = Content{}
			return open, PartLast
		}
		return open, PartMiddle
	}
	// A text or binary frame starts a message, and drops one still open.
	c := ContentOf(f)
	if !f.Fin {
		s.open[d] = c
		return c, PartFirst
	}
	s.open[d] = Content{}
	return c, PartNone
}

// FramePreview returns the preview of f, whose payload holds c, in at
// most limit runes: the close status of a close frame, "(no status)" for
// an empty one, "[deflated N B]" and the first bytes in hex for
// compressed bytes, else Summary of the payload as what c says it is.
func FramePreview(f *Frame, c Content, limit int) string {
	switch {
	case f.Op == OpClose && f.Close != nil:
		return summaryText(nil, AppendCloseText(nil, f.Close.Code, f.Close.Reason), max(limit, 1))
	case f.Op == OpClose && len(f.Payload) >= 2:
		cl, _ := ParseClose(f.Payload)
		return summaryText(nil, AppendCloseText(nil, cl.Code, cl.Reason), max(limit, 1))
	case f.Op == OpClose && len(f.Payload) == 0:
		return "(no status)"
	case len(f.Payload) == 0:
		return Summary(nil, f.Op, limit)
	case c.Compressed:
		return summaryBytes(f.Payload, "deflated", min(max(limit, 1), 1<<20))
	case f.Op == OpContinuation && c.Op != OpContinuation:
		if c.Op == OpBinary {
			return summaryBytes(f.Payload, f.Op.String(), min(max(limit, 1), 1<<20))
		}
		return Summary(f.Payload, c.Op, limit)
	}
	return Summary(f.Payload, f.Op, limit)
}

// DescribeEnd says how a connection ended, in one line:
// "1000 Normal Closure by client, clean", or
// "1002 Protocol Error by server, after the client's 1000 Normal Closure,
// clean; 1 violation: rsv-without-extension (RFC 6455 5.2) by the server
// in frame 3".
func DescribeEnd(e *End) string {
	first := e.closerClose()
	reason := e.Reason
	if first != nil && first.Code == e.Code && reason == "" {
		// An answer usually echoes the code alone: the reason is the
		// closer's.
		reason = first.Reason
	}
	b := AppendCloseText(nil, e.Code, reason)
	if first != nil && first.Code != e.Code {
		// The code came from the other side, or no close came back.
		if e.Code != CloseAbnormal {
			b = append(b, " by "...)
			b = append(b, otherSide(e.Closer)...)
		}
		b = append(b, ", after the "...)
		b = append(b, e.Closer...)
		b = append(b, "'s "...)
		b = append(b, first.Code.String()...)
	} else if e.Closer != "" {
		b = append(b, " by "...)
		b = append(b, e.Closer...)
	}
	if e.Clean {
		b = append(b, ", clean"...)
	} else {
		b = append(b, ", not clean"...)
	}
	if e.Err != "" {
		b = append(b, ": "...)
		b = append(b, e.Err...)
	}
	if e.Violations > 0 {
		b = append(b, "; "...)
		b = strconv.AppendInt(b, int64(e.Violations), 10)
		b = append(b, " violation"...)
		if e.Violations > 1 {
			b = append(b, "s, first"...)
		}
		if v := e.FirstViolation; v != nil {
			b = append(b, ": "...)
			b = append(b, v.Rule...)
			b = append(b, " ("...)
			b = append(b, v.Section...)
			b = append(b, ") by the "...)
			b = append(b, sideName(v.Dir)...)
			b = append(b, " in frame "...)
			b = strconv.AppendUint(b, v.Seq, 10)
		}
	}
	return string(b)
}

// closerClose is the close frame that started the handshake, nil when
// none was sent or its sender is not a side of the connection.
func (e *End) closerClose() *Close {
	switch e.Closer {
	case "client":
		return e.ClientClose
	case "server":
		return e.ServerClose
	}
	return nil
}

func otherSide(s string) string {
	if s == "client" {
		return "server"
	}
	return "client"
}

func previewLen(o LineOptions) int {
	if o.Preview > 0 {
		return o.Preview
	}
	return 60
}

func flag(on bool, c byte) byte {
	if on {
		return c
	}
	return '-'
}

func appendPadded(b []byte, s string, w int) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

func appendTime(b []byte, t time.Duration) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, t.Seconds(), 'f', 6, 64)
	// Right-align to 11 columns so lines stay tabular for 10^4 seconds.
	if w := len(b) - n; w < 11 {
		pad := 11 - w
		b = append(b, make([]byte, pad)...)
		copy(b[n+pad:], b[n:n+w])
		for i := n; i < n+pad; i++ {
			b[i] = ' '
		}
	}
	return b
}
