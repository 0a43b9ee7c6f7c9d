package pcap

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

type phase uint8

const (
	phaseHandshake phase = iota // looking for the upgrade request and its answer
	phaseWS                     // the 101 was seen: frames both ways
)

// wsConn is the WebSocket state of a TCP connection.
type wsConn struct {
	id      int // from 1, given when the connection's first event is emitted
	phase   phase
	client  int // index of the client endpoint, -1 until the request is seen
	upgrade bool
	head    [2][]byte // bytes of each endpoint not dissected yet
	req     inspect.Request
	dirs    *[2]wsDir // by endpoint index, once the 101 is seen
	seq     uint64

	closeFirst  inspect.Direction // who sent the first close frame
	closeCode   inspect.CloseCode
	closeReason string
	closeSeen   [2]bool // by endpoint index
	fail        string  // why dissection stopped in a direction, the first time
}

// wsDir dissects the frames one endpoint sent.
type wsDir struct {
	dir      inspect.Direction
	buf      []byte // the start of a frame not yet whole
	asm      inspect.Assembler
	frame    inspect.Frame
	dead     bool
	deflated bool // the message in progress started with RSV1 under permessage-deflate
	inf      inspect.Inflater
}

func (w *wsConn) release() {
	w.head = [2][]byte{}
	w.dirs = nil
}

// dirOf returns the direction of the bytes endpoint i sends.
func (w *wsConn) dirOf(i int) inspect.Direction {
	if i == w.client {
		return inspect.ClientToServer
	}
	return inspect.ServerToClient
}

func peerName(d inspect.Direction) string {
	if d == inspect.ClientToServer {
		return "client"
	}
	return "server"
}

// deliver takes bytes that endpoint i sent, in order.
func (r *reader) deliver(c *conn, i int, p []byte) {
	if len(p) == 0 {
		return
	}
	w := &c.ws
	switch w.phase {
	case phaseHandshake:
		if len(w.head[i])+len(p) > maxHead {
			if w.upgrade {
				r.connError(c, fmt.Sprintf("the %s sent more than %d bytes without ending its HTTP head: the connection is not dissected", peerName(w.dirOf(i)), maxHead))
			}
			r.ignore(c)
			return
		}
		w.head[i] = append(w.head[i], p...)
		if !plausibleHTTP(w.head[i]) {
			r.ignore(c)
			return
		}
		r.handshake(c)
	case phaseWS:
		r.frames(c, i, p)
	}
}

// ignore gives up on c: it is not a WebSocket connection.
func (r *reader) ignore(c *conn) {
	c.ignored = true
	c.half[0].dropBuffered()
	c.half[1].dropBuffered()
	c.ws.release()
}

// handshake looks for the client's upgrade request and the server's answer.
func (r *reader) handshake(c *conn) {
	w := &c.ws
	if w.client < 0 {
		for i := range w.head {
			end := headEnd(w.head[i])
			if end < 0 || isResponse(w.head[i]) {
				continue
			}
			req, ok := parseRequest(w.head[i][:end])
			if !ok || !isUpgrade(req) {
				// Plain HTTP (or not HTTP at all): not ours.
				r.ignore(c)
				return
			}
			w.client, w.upgrade = i, true
			w.req = req
			w.head[i] = w.head[i][end:]
			break
		}
		if w.client < 0 {
			if headEnd(w.head[0]) >= 0 && headEnd(w.head[1]) >= 0 {
				r.ignore(c) // two responses
			}
			return
		}
	}
	s := 1 - w.client
	end := headEnd(w.head[s])
	if end < 0 {
		return
	}
	resp, ok := parseResponse(w.head[s][:end])
	if !ok {
		line, _, _ := strings.Cut(string(w.head[s][:end]), "\n")
		r.connError(c, fmt.Sprintf("the server answered the WebSocket upgrade with something that is not an HTTP response: %q", strings.TrimSpace(line)))
		r.ignore(c)
		return
	}
	if resp.Status != 101 {
		r.connError(c, fmt.Sprintf("handshake refused: %s %d %s (%s %s)", resp.Proto, resp.Status, resp.Reason, w.req.Method, requestURL(w.req, c.ep[s].String())))
		r.ignore(c)
		return
	}
	o := &inspect.Open{
		URL:         requestURL(w.req, c.ep[s].String()),
		Role:        inspect.RoleClient,
		Request:     w.req,
		Response:    resp,
		Subprotocol: headerValues(resp.Headers, "Sec-WebSocket-Protocol"),
		Extensions:  inspect.ParseExtensions(headerValues(resp.Headers, "Sec-WebSocket-Extensions")),
		Local:       c.ep[w.client].String(),
		Remote:      c.ep[s].String(),
		Start:       c.first,
	}
	w.req = inspect.Request{}
	w.phase = phaseWS
	w.dirs = new([2]wsDir)

	deflate, takeover := false, [2]bool{true, true} // by direction: c2s, s2c
	for _, x := range o.Extensions {
		if x.Name != "permessage-deflate" {
			continue
		}
		deflate = true
		for _, p := range x.Params {
			switch p.Name {
			case "client_no_context_takeover":
				takeover[0] = false
			case "server_no_context_takeover":
				takeover[1] = false
			}
		}
		break
	}
	for i := range w.dirs {
		d := &w.dirs[i]
		d.dir = w.dirOf(i)
		d.asm = inspect.Assembler{Dir: d.dir, Deflate: deflate, MaxMessageSize: uint64(r.max)}
		d.inf = inspect.Inflater{Takeover: takeover[d.dir-1]}
	}
	r.ev = inspect.Event{Kind: inspect.KindOpen, Open: o}
	r.send(c)

	// Bytes behind the heads are the first frames: the client's (sent
	// before the 101, early) first.
	rest := w.head
	w.head = [2][]byte{}
	r.frames(c, w.client, rest[w.client])
	r.frames(c, s, rest[s][end:])
}

// frames dissects bytes endpoint i sent after the handshake.
func (r *reader) frames(c *conn, i int, p []byte) {
	d := &c.ws.dirs[i]
	if d.dead || len(p) == 0 {
		return
	}
	if len(d.buf) == 0 {
		// The common case: frames straight from the packet, and only a
		// partial one at the end copied.
		n := r.consume(c, i, p)
		if !d.dead {
			d.buf = append(d.buf[:0], p[n:]...)
		}
		return
	}
	d.buf = append(d.buf, p...)
	n := r.consume(c, i, d.buf)
	if d.dead {
		return
	}
	m := copy(d.buf, d.buf[n:])
	d.buf = d.buf[:m]
	if cap(d.buf) > 1<<20 && m < 64<<10 {
		// Do not keep a huge frame's buffer for small ones.
		d.buf = append([]byte(nil), d.buf...)
	}
}

// consume dissects the whole frames at the start of b, which it may
// modify (payloads are unmasked in place), and returns how many bytes they
// took.
func (r *reader) consume(c *conn, i int, b []byte) int {
	w, d := &c.ws, &c.ws.dirs[i]
	off := 0
	for !d.dead && r.err == nil {
		h, n, err := inspect.ParseHeader(b[off:])
		if err != nil {
			break
		}
		f := &d.frame
		f.Violations, f.Close = f.Violations[:0], nil
		f.Dir, f.Header = d.dir, h
		if h.Length > uint64(r.max) {
			// Report the header, then stop: its payload cannot be waited
			// for, and nothing after it can be found.
			w.seq++
			f.Seq, f.Raw, f.Payload = w.seq, b[off:off+n], nil
			r.ev = inspect.Event{Kind: inspect.KindFrame, Frame: f}
			r.send(c)
			r.stop(c, i, fmt.Sprintf("%s frame %d announces %d bytes of payload, over the limit of %d bytes: the rest of this direction is not dissected", d.dir, f.Seq, h.Length, r.max))
			break
		}
		total := n + int(h.Length)
		if len(b)-off < total {
			break
		}
		w.seq++
		f.Seq, f.Raw, f.Payload = w.seq, b[off:off+n], b[off+n:off+total]
		if h.Masked {
			unmask(f.Payload, h.Mask)
		}
		off += total
		r.frame(c, i, f)
	}
	return off
}

// frame reports a whole frame and the message it completes.
func (r *reader) frame(c *conn, i int, f *inspect.Frame) {
	w, d := &c.ws, &c.ws.dirs[i]
	if f.Op.IsData() {
		d.deflated = d.asm.Deflate && f.Rsv1()
	}
	msg, aerr := d.asm.Add(f)
	r.ev = inspect.Event{Kind: inspect.KindFrame, Frame: f}
	if !r.send(c) {
		return
	}
	if f.Op == inspect.OpClose && !w.closeSeen[i] {
		w.closeSeen[i] = true
		if w.closeFirst == 0 {
			w.closeFirst, w.closeCode = d.dir, inspect.CloseNoStatus
			if f.Close != nil {
				w.closeCode, w.closeReason = f.Close.Code, f.Close.Reason
			}
		}
	}
	if aerr != nil {
		if d.deflated {
			d.inf.Break(fmt.Sprintf("message ending in frame %d was dropped, and the sender keeps its compression context", f.Seq))
		}
		r.ev = inspect.Event{Kind: inspect.KindError, Text: fmt.Sprintf("%s message ending in frame %d dropped: %v", d.dir, f.Seq, aerr)}
		r.send(c)
		return
	}
	if msg == nil {
		return
	}
	if msg.Deflated {
		p, err := d.inf.Inflate(msg.Payload, r.max)
		if err != nil {
			r.ev = inspect.Event{Kind: inspect.KindError, Text: fmt.Sprintf("%s message of frames %v: cannot decompress it: %v", d.dir, msg.Frames, err)}
			r.send(c)
			return
		}
		msg.Payload = p
		if msg.Op == inspect.OpText && !utf8.Valid(p) {
			// The Assembler leaves this rule to whoever inflates.
			msg.Violations = append(msg.Violations, inspect.Violation{
				Rule:    inspect.RuleTextInvalidUTF8,
				Section: inspect.RuleTextInvalidUTF8.Section(),
				Message: "text message is not valid UTF-8",
			})
		}
	}
	r.ev = inspect.Event{Kind: inspect.KindMsg, Msg: msg}
	r.send(c)
}

// stop ends the dissection of what endpoint i sends, saying why.
func (r *reader) stop(c *conn, i int, why string) {
	d := &c.ws.dirs[i]
	d.dead, d.buf = true, nil
	d.asm.Reset()
	if c.ws.fail == "" {
		c.ws.fail = why
	}
	r.connError(c, why)
}

// gap reports n bytes lost at offset off of what endpoint i sent.
func (r *reader) gap(c *conn, i int, off, n uint32, why string) {
	w := &c.ws
	if c.ignored || !w.upgrade {
		return // not a WebSocket connection, as far as anyone knows
	}
	from, to := "client", "server"
	if i != w.client {
		from, to = to, from
	}
	text := fmt.Sprintf("capture lost %d bytes from %s to %s at stream offset %d (%s)", n, from, to, off, why)
	if w.phase == phaseHandshake {
		r.ev = inspect.Event{Kind: inspect.KindGap, Text: text + ": the handshake cannot be read, the connection is not dissected"}
		r.send(c)
		r.ignore(c)
		return
	}
	d := &w.dirs[i]
	text += fmt.Sprintf(": the rest of %s is not dissected", d.dir)
	d.dead, d.buf = true, nil
	d.asm.Reset()
	if w.fail == "" {
		w.fail = text
	}
	r.ev = inspect.Event{Kind: inspect.KindGap, Text: text}
	r.send(c)
}

// connError reports an error on c.
func (r *reader) connError(c *conn, text string) {
	r.ev = inspect.Event{Kind: inspect.KindError, Text: text}
	r.send(c)
}

// wsEnd reports how c ended, the way internal/wire does for a live
// connection: the first close frame names the code, and the end is clean
// when both close frames crossed with 1000 or 1001.
func (r *reader) wsEnd(c *conn, tcp string) {
	w := &c.ws
	if c.ignored {
		return
	}
	if w.phase != phaseWS {
		if w.upgrade {
			r.connError(c, "the connection ended before the server answered the WebSocket upgrade")
		}
		return
	}
	e := inspect.End{TCP: tcp, Code: inspect.CloseAbnormal}
	if w.closeFirst != 0 {
		e.Closer = peerName(w.closeFirst)
		e.Code, e.Reason = w.closeCode, w.closeReason
	}
	both := w.closeSeen[0] && w.closeSeen[1]
	switch {
	case both:
		// Both close frames crossed: how TCP went down no longer matters.
	case w.fail != "":
		e.Err = w.fail
	case tcp == "reset":
		e.Err = "connection reset"
	case tcp == "" && w.closeFirst == 0:
		e.Err = "the capture ended before the connection did"
	case tcp == "":
		e.Err = fmt.Sprintf("the capture ended before the %s answered the close frame", peerName(w.closeFirst.Reverse()))
	case w.closeFirst == 0:
		e.Err = "connection closed without a close frame"
	default:
		e.Err = fmt.Sprintf("connection closed before the %s answered the close frame", peerName(w.closeFirst.Reverse()))
	}
	e.Clean = both && e.Err == "" && e.Code.Clean()
	r.ev = inspect.Event{Kind: inspect.KindEnd, End: &e}
	r.send(c)
}

// unmask XORs p with the mask key, in place.
func unmask(p []byte, key [4]byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}
