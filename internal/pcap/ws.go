package pcap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gobwas/ws"

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
	track   *inspect.Tracker
	fail    string // why dissection stopped in a direction, the first time
}

// wsDir dissects the frames one endpoint sent.
type wsDir struct {
	dir   inspect.Direction
	buf   []byte // the start of a frame not yet whole
	frame inspect.Frame
	dead  bool
}

func (w *wsConn) release() {
	w.head = [2][]byte{}
	w.dirs = nil
	w.track = nil
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
	// A capture watches both sides and answers for neither.
	w.track = inspect.NewTracker(inspect.TrackerOptions{MaxMessageSize: uint64(r.max)})
	for _, x := range o.Extensions {
		if x.Name != "permessage-deflate" {
			continue
		}
		takeover := [2]bool{true, true} // by direction: c2s, s2c
		for _, p := range x.Params {
			switch p.Name {
			case "client_no_context_takeover":
				takeover[0] = false
			case "server_no_context_takeover":
				takeover[1] = false
			}
		}
		w.track.SetDeflate(inspect.ClientToServer, takeover[0])
		w.track.SetDeflate(inspect.ServerToClient, takeover[1])
		break
	}
	for i := range w.dirs {
		w.dirs[i].dir = w.dirOf(i)
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
			f.Raw = b[off : off+n]
			w.track.Oversized(f, &inspect.TooLargeError{What: "frame", Size: h.Length, Limit: uint64(r.max)})
			r.ev = inspect.Event{Kind: inspect.KindFrame, Frame: f}
			r.send(c)
			r.stop(c, i, fmt.Sprintf("%s frame %d announces %d bytes of payload, over the limit of %d bytes: the rest of this direction is not dissected", d.dir, f.Seq, h.Length, r.max))
			break
		}
		total := n + int(h.Length)
		if len(b)-off < total {
			break
		}
		f.Raw, f.Payload = b[off:off+n], b[off+n:off+total]
		if h.Masked {
			ws.Cipher(f.Payload, h.Mask, 0)
		}
		off += total
		r.frame(c, f)
	}
	return off
}

// frame reports a whole frame and the message it completes.
func (r *reader) frame(c *conn, f *inspect.Frame) {
	st := c.ws.track.Frame(f)
	r.ev = inspect.Event{Kind: inspect.KindFrame, Frame: f}
	if !r.send(c) {
		return
	}
	if st.Err != nil {
		text := fmt.Sprintf("%s message ending in frame %d dropped: %v", f.Dir, f.Seq, st.Err)
		var de *inspect.DecompressError
		if errors.As(st.Err, &de) {
			text = fmt.Sprintf("%s %v", f.Dir, de) // it names its frames
		}
		r.ev = inspect.Event{Kind: inspect.KindError, Text: text}
		r.send(c)
		return
	}
	if st.Msg != nil {
		r.ev = inspect.Event{Kind: inspect.KindMsg, Msg: st.Msg}
		r.send(c)
	}
}

// stop ends the dissection of what endpoint i sends, saying why.
func (r *reader) stop(c *conn, i int, why string) {
	d := &c.ws.dirs[i]
	d.dead, d.buf = true, nil
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

// wsEnd reports how c ended: the tracker decides from the close frames
// that crossed, given how the capture saw the transport end.
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
	// Who still owed a close frame, if one side sent one.
	c2s, s2c := w.track.CloseSent(inspect.ClientToServer), w.track.CloseSent(inspect.ServerToClient)
	owing := "client"
	if c2s {
		owing = "server"
	}
	var why error
	switch {
	case w.fail != "":
		why = errors.New(w.fail)
	case tcp == "reset":
		why = errors.New("connection reset")
	case tcp == "" && !c2s && !s2c:
		why = errors.New("the capture ended before the connection did")
	case tcp == "":
		why = fmt.Errorf("the capture ended before the %s answered the close frame", owing)
	case !c2s && !s2c:
		why = errors.New("connection closed without a close frame")
	default:
		why = fmt.Errorf("connection closed before the %s answered the close frame", owing)
	}
	e := w.track.End(tcp, why)
	r.ev = inspect.Event{Kind: inspect.KindEnd, End: &e}
	r.send(c)
}
