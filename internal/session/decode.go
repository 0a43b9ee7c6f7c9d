package session

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/appproto/all"
	"github.com/wscope/wscope/appproto/socketio"
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// decoding runs each connection's messages through the application
// protocol decoder chosen for it (--decode, the subprotocol, the URL, or
// the first messages), before any observer sees them: the open event
// names the decoder and why, each message event carries what was read
// (inspect.Message.Decoded), and a note event says when sniffing chose.
type decoding struct {
	forced string // --decode: a name, or "" to choose
	mu     sync.Mutex
	conns  map[int]*decodedConn
	// last is the connection of the last message, found without the
	// lock and the map: connect has one connection at a time, and every
	// message of a burst is on the same one.
	last atomic.Pointer[decodedConn]
}

type decodedConn struct {
	id    int
	mu    sync.Mutex // a relay's two legs report concurrently
	c     *appproto.Conn
	inert atomic.Bool // c decodes nothing, now and later: skip it
}

// CheckDecode checks a --decode value: a decoder's name, "none" or "".
func CheckDecode(name string) error {
	if name == "" || name == appproto.None {
		return nil
	}
	if _, err := appproto.Lookup(all.Protocols, name); err != nil {
		return UsageErr("--decode: %v", err)
	}
	return nil
}

// DecoderNames lists what --decode takes, for help and completion.
func DecoderNames() []string {
	names := []string{appproto.None}
	for _, p := range all.Protocols {
		names = append(names, p.Name)
	}
	return names
}

// newDecoding returns the decoding for a --decode value; nil for "none".
func newDecoding(forced string) *decoding {
	if forced == appproto.None {
		return nil
	}
	return &decoding{forced: forced, conns: map[int]*decodedConn{}}
}

// wrap returns next with the decoding before it. A nil decoding is next.
func (d *decoding) wrap(next func(*inspect.Event)) func(*inspect.Event) {
	if d == nil {
		return next
	}
	return func(e *inspect.Event) {
		switch e.Kind {
		case inspect.KindOpen:
			d.open(e)
		case inspect.KindMsg:
			if note := d.message(e); note != nil {
				next(note)
			}
		case inspect.KindEnd:
			d.mu.Lock()
			if dc := d.conns[e.Conn]; dc != nil {
				d.last.CompareAndSwap(dc, nil)
			}
			delete(d.conns, e.Conn)
			d.mu.Unlock()
		}
		next(e)
	}
}

func (d *decoding) open(e *inspect.Event) {
	ch, err := appproto.Choose(all.Protocols, d.forced, e.Open)
	if err != nil { // checked with the flags: not reached
		ch = appproto.Choice{Why: err.Error()}
	}
	if e.Open != nil && ch.Proto != nil {
		// Only a choice made is said: sniffing says it with a note, and
		// --decode none needs no word on every connection.
		e.Open.Decoder, e.Open.DecoderWhy = ch.Name(), ch.Why
	}
	sub := ""
	if e.Open != nil {
		sub = e.Open.Subprotocol
	}
	dc := &decodedConn{id: e.Conn, c: appproto.NewConn(all.Protocols, ch, sub)}
	dc.inert.Store(dc.c.Inert())
	d.mu.Lock()
	d.conns[e.Conn] = dc
	d.mu.Unlock()
}

// message decodes e's message into it, and returns the note to show first
// when this message made the choice.
func (d *decoding) message(e *inspect.Event) *inspect.Event {
	dc := d.last.Load()
	if dc == nil || dc.id != e.Conn {
		d.mu.Lock()
		dc = d.conns[e.Conn]
		if dc == nil { // no open event: a HAR entry or a capture begun late
			ch, _ := appproto.Choose(all.Protocols, d.forced, nil)
			dc = &decodedConn{id: e.Conn, c: appproto.NewConn(all.Protocols, ch, "")}
			d.conns[e.Conn] = dc
		}
		d.last.Store(dc)
		d.mu.Unlock()
	}
	if dc.inert.Load() {
		return nil
	}
	dc.mu.Lock()
	ds, chose := dc.c.Decode(e.Msg)
	ch := dc.c.Choice()
	dc.inert.Store(dc.c.Inert())
	dc.mu.Unlock()
	e.Msg.Decoded = ds
	if !chose || ch.Proto == nil {
		return nil // giving up is not worth a line on every connection
	}
	return &inspect.Event{T: e.T, Kind: inspect.KindNote, Conn: e.Conn, Text: "decoder " + ch.String()}
}

// sioSession plays the Engine.IO/Socket.IO client's part that keeps a
// session up, for connect on a connection the socketio decoder reads: the
// main namespace's CONNECT after the server's open packet, a pong for
// each ping. What else is sent is the user's (/emit), held until the
// server accepted the namespace (it drops a client that sends an event
// before). With --decode none nothing is decoded, and nothing answered.
type sioSession struct {
	conn    func() *wire.Conn
	active  atomic.Bool   // the socketio decoder was chosen at the open
	ready   chan struct{} // closed when the namespace CONNECT is answered
	readied sync.Once
}

// sioReadyTimeout bounds how long input waits for the namespace CONNECT.
const sioReadyTimeout = 5 * time.Second

func newSIOSession(conn func() *wire.Conn) *sioSession {
	return &sioSession{conn: conn, ready: make(chan struct{})}
}

func (s *sioSession) event(e *inspect.Event) {
	switch {
	case e.Kind == inspect.KindOpen:
		s.active.Store(e.Open != nil && e.Open.Decoder == "socketio")
	case e.Kind != inspect.KindMsg || e.Msg.Dir != inspect.ServerToClient:
	default:
		for i := range e.Msg.Decoded {
			u := &e.Msg.Decoded[i]
			if p, ok := socketio.ClientReply(u); ok {
				if c := s.conn(); c != nil {
					c.WriteMessage(inspect.OpText, p)
				}
			}
			if u.Protocol == "sio" && (u.Type == "connect" || u.Type == "connect_error") {
				s.readied.Do(func() { close(s.ready) })
			}
		}
	}
}

// waitReady waits, when the connection is Socket.IO's, for the server to
// accept the namespace, at most sioReadyTimeout.
func (s *sioSession) waitReady(ctx context.Context) {
	if s == nil || !s.active.Load() {
		return
	}
	t := time.NewTimer(sioReadyTimeout)
	defer t.Stop()
	select {
	case <-s.ready:
	case <-t.C:
	case <-ctx.Done():
	}
}
