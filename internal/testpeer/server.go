package testpeer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wscope/wscope/inspect"
)

// Reject makes a Server refuse the handshake.
type Reject struct {
	Status  int // e.g. 403
	Body    string
	Headers http.Header // added to the response
}

// ServerOptions configure a Server. The zero value is a server that
// accepts any path, negotiates nothing, and records what it receives
// without answering.
type ServerOptions struct {
	// Path is the path part of URL(); the server answers on every path.
	Path string
	// Subprotocols the server accepts, in order of preference.
	Subprotocols []string
	// Compression negotiates permessage-deflate when the client offers it
	// (context takeover allowed unless the client asks otherwise).
	Compression bool
	// Echo sends every data message back with the same type, empty and
	// binary ones included.
	Echo bool
	// OnConnect messages are sent right after the upgrade. The 101 response
	// and these frames leave in a single write, so the client's first read
	// gets the handshake response and frames together — the case where a
	// client must not drop bytes buffered behind the 101.
	OnConnect []Msg
	// Reject refuses the handshake with that status, body and headers.
	Reject *Reject
	// CloseAfter, when positive, closes the connection after that many
	// received messages (after echoing the last): a close handshake with
	// CloseCode (default 1000) and CloseReason, or, with CloseAbruptly, a
	// TCP close without any close frame. coder/websocket refuses to send
	// codes that are invalid on the wire (1005 excepted, sent as an empty
	// close frame); use a RawServer for those.
	CloseAfter    int
	CloseCode     int
	CloseReason   string
	CloseAbruptly bool
	// Delay holds the handshake that long before answering: a slow server.
	Delay time.Duration
	// Fragment, when positive, makes every message the server sends (echo,
	// OnConnect, Send) go out as frames of at most Fragment payload bytes
	// with a ping ("testpeer 1", "testpeer 2", ...) between consecutive
	// fragments. coder/websocket cannot place frames like that, so these
	// frames are written by hand on the hijacked connection, unmasked and
	// uncompressed, while no library write is in flight. An empty message
	// is one empty frame.
	Fragment int
	// ReadLimit caps a received message (coder closes with 1009 above it);
	// default 16 MiB.
	ReadLimit int64
	// MaxLifetime bounds each connection; default 10s. When it runs out
	// the server drops the TCP connection without a close frame.
	MaxLifetime time.Duration
}

// Server is a WebSocket server on github.com/coder/websocket behind
// httptest, listening on 127.0.0.1. It records what it received, the
// handshake requests, and every frame the client put on the wire, parsed
// by this package's own parser from a tap on the TCP stream.
type Server struct {
	t      testing.TB
	opts   ServerOptions
	ts     *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	received []Msg
	requests []*http.Request
	accepted []*srvConn // TCP connections, in order
	live     []*liveConn
	notes    []string
}

type liveConn struct {
	c    *cws.Conn
	sc   *srvConn
	wmu  sync.Mutex // serialises whole messages, library or hand-written
	done chan struct{}
}

type connKey struct{}

// NewServer starts a Server; it is closed at cleanup.
func NewServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.ReadLimit == 0 {
		opts.ReadLimit = 16 << 20
	}
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = 10 * time.Second
	}
	if opts.CloseCode == 0 {
		opts.CloseCode = 1000
	}
	if opts.Path == "" {
		opts.Path = "/"
	}
	s := &Server{t: t, opts: opts, changed: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	s.ts.Listener = &tapListener{Listener: s.ts.Listener, s: s}
	s.ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	s.ts.Start()
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.cancel()
	s.mu.Lock()
	for _, sc := range s.accepted {
		_ = sc.Close()
	}
	s.mu.Unlock()
	s.ts.Close()
	if !waitGroup(&s.wg, DefaultTimeout) {
		s.t.Errorf("testpeer: Server connections still running %v after cleanup began", DefaultTimeout)
	}
	s.mu.Lock()
	for _, n := range s.notes {
		s.t.Logf("testpeer: Server: %s", n)
	}
	s.mu.Unlock()
}

// URL returns ws://127.0.0.1:port followed by ServerOptions.Path.
func (s *Server) URL() string {
	return "ws://" + s.ts.Listener.Addr().String() + s.opts.Path
}

// Addr returns 127.0.0.1:port.
func (s *Server) Addr() string { return s.ts.Listener.Addr().String() }

// Received returns the data messages received so far, over all connections.
func (s *Server) Received() []Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Msg(nil), s.received...)
}

// WaitReceived waits until at least n messages were received and returns
// them all; it fails the test, listing what did arrive, after timeout.
func (s *Server) WaitReceived(n int, timeout time.Duration) []Msg {
	s.t.Helper()
	var got []Msg
	if !s.waitFor(timeout, func() bool { got = s.received; return len(got) >= n }) {
		s.t.Fatalf("testpeer: Server received %d messages within %v, want %d: %v", len(got), timeout, n, got)
	}
	return s.Received()
}

// Requests returns a copy of every handshake request the server saw,
// refused ones included, in order. Header names are canonicalised by
// net/http; use a RawServer to see them as sent.
func (s *Server) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// Connections returns how many connections were upgraded.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Frames returns every complete frame the client sent after its upgrade
// request, over all upgraded connections, as read from the TCP stream by
// this package's parser: masking, keys, length encodings and fragment
// sizes as the client wrote them. (The tap assumes no request on a
// connection carried a body, which holds for upgrade requests.)
func (s *Server) Frames() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Frame
	for _, lc := range s.live {
		out = append(out, lc.sc.framesLocked()...)
	}
	return out
}

// WaitFrames waits until the client sent at least n frames and returns
// them all; it fails the test after timeout.
func (s *Server) WaitFrames(n int, timeout time.Duration) []Frame {
	s.t.Helper()
	var got []Frame
	ok := s.waitFor(timeout, func() bool {
		got = got[:0]
		for _, lc := range s.live {
			got = append(got, lc.sc.framesLocked()...)
		}
		return len(got) >= n
	})
	if !ok {
		s.t.Fatalf("testpeer: client sent %d frames within %v, want %d: %v", len(got), timeout, n, got)
	}
	return got
}

// CloseStatus returns the first close frame the client sent on the latest
// connection; ok is false when it sent none (yet), or when its body was the
// malformed 1-byte kind (look at Frames for that).
func (s *Server) CloseStatus() (c CloseInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeStatusLocked()
}

func (s *Server) closeStatusLocked() (CloseInfo, bool) {
	if len(s.live) == 0 {
		return CloseInfo{}, false
	}
	for _, f := range s.live[len(s.live)-1].sc.framesLocked() {
		if f.Op == inspect.OpClose {
			return f.Close()
		}
	}
	return CloseInfo{}, false
}

// WaitClosed waits until at least one connection was upgraded and every
// upgraded connection has ended, then returns CloseStatus. It fails the
// test after timeout.
func (s *Server) WaitClosed(timeout time.Duration) (CloseInfo, bool) {
	s.t.Helper()
	ok := s.waitFor(timeout, func() bool {
		if len(s.live) == 0 {
			return false
		}
		for _, lc := range s.live {
			select {
			case <-lc.done:
			default:
				return false
			}
		}
		return true
	})
	if !ok {
		s.t.Fatalf("testpeer: Server connection still open after %v", timeout)
	}
	return s.CloseStatus()
}

// Send sends m on the latest connection that is still open, fragmented
// like an echo when ServerOptions.Fragment is set.
func (s *Server) Send(m Msg) error {
	s.mu.Lock()
	var lc *liveConn
	for i := len(s.live) - 1; i >= 0 && lc == nil; i-- {
		select {
		case <-s.live[i].done:
		default:
			lc = s.live[i]
		}
	}
	s.mu.Unlock()
	if lc == nil {
		return fmt.Errorf("testpeer: Server.Send: no open connection")
	}
	ctx, cancel := context.WithTimeout(s.ctx, DefaultTimeout)
	defer cancel()
	return s.send(ctx, lc, m)
}

// waitFor polls cond under s.mu at every change until it holds or timeout.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			s.mu.Lock()
			ok = cond()
			s.mu.Unlock()
			return ok
		}
	}
}

// changedLocked wakes the waiters; s.mu must be held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) note(format string, a ...any) {
	s.mu.Lock()
	s.notes = append(s.notes, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	sc, _ := r.Context().Value(connKey{}).(*srvConn)
	if sc == nil {
		http.Error(w, "testpeer: connection not tapped", http.StatusInternalServerError)
		return
	}
	rq := r.Clone(context.Background())
	rq.Body = http.NoBody
	s.mu.Lock()
	sc.heads++
	s.requests = append(s.requests, rq)
	s.changedLocked()
	s.mu.Unlock()

	if rj := s.opts.Reject; rj != nil {
		for k, vs := range rj.Headers {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(rj.Status)
		_, _ = w.Write([]byte(rj.Body))
		return
	}
	if d := s.opts.Delay; d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-s.ctx.Done():
			timer.Stop()
			return
		case <-r.Context().Done():
			timer.Stop()
			return
		}
	}

	s.wg.Add(1)
	defer s.wg.Done()
	if len(s.opts.OnConnect) > 0 {
		sc.setCork(true)
	}
	aopts := &cws.AcceptOptions{Subprotocols: s.opts.Subprotocols, InsecureSkipVerify: true}
	if s.opts.Compression {
		aopts.CompressionMode = cws.CompressionContextTakeover
	}
	c, err := cws.Accept(w, r, aopts)
	if err != nil {
		sc.uncork()
		s.note("accept: %v", err)
		return
	}
	sc.markUpgraded()
	lc := &liveConn{c: c, sc: sc, done: make(chan struct{})}
	s.mu.Lock()
	s.live = append(s.live, lc)
	s.changedLocked()
	s.mu.Unlock()
	defer func() {
		_ = c.CloseNow()
		s.mu.Lock()
		close(lc.done)
		s.changedLocked()
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(s.ctx, s.opts.MaxLifetime)
	defer cancel()
	c.SetReadLimit(s.opts.ReadLimit)
	for _, m := range s.opts.OnConnect {
		if err := s.send(ctx, lc, m); err != nil {
			sc.uncork()
			s.note("OnConnect: %v", err)
			return
		}
	}
	sc.uncork()

	for n := 1; ; n++ {
		typ, data, err := c.Read(ctx)
		if err != nil {
			if cws.CloseStatus(err) == -1 && s.ctx.Err() == nil {
				s.note("read: %v", err)
			}
			return
		}
		m := Msg{Binary: typ == cws.MessageBinary, Data: data}
		s.mu.Lock()
		s.received = append(s.received, m)
		s.changedLocked()
		s.mu.Unlock()
		if s.opts.Echo {
			if err := s.send(ctx, lc, m); err != nil {
				s.note("echo: %v", err)
				return
			}
		}
		if s.opts.CloseAfter > 0 && n == s.opts.CloseAfter {
			if s.opts.CloseAbruptly {
				_ = c.CloseNow()
			} else if err := c.Close(cws.StatusCode(s.opts.CloseCode), s.opts.CloseReason); err != nil {
				s.note("close: %v", err)
			}
			return
		}
	}
}

// send writes one message, through the library or, with Fragment, by hand.
func (s *Server) send(ctx context.Context, lc *liveConn, m Msg) error {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	if s.opts.Fragment <= 0 {
		typ := cws.MessageText
		if m.Binary {
			typ = cws.MessageBinary
		}
		return lc.c.Write(ctx, typ, m.Data)
	}
	op := inspect.OpText
	if m.Binary {
		op = inspect.OpBinary
	}
	data := m.Data
	for i := 1; ; i++ {
		chunk := data[:min(s.opts.Fragment, len(data))]
		data = data[len(chunk):]
		last := len(data) == 0
		if err := lc.sc.writeRaw(FrameSpec{Fin: last, Op: op, Payload: chunk}.Bytes()); err != nil {
			return err
		}
		if last {
			return nil
		}
		op = inspect.OpContinuation
		ping := ServerFrame(inspect.OpPing, fmt.Appendf(nil, "testpeer %d", i))
		if err := lc.sc.writeRaw(ping.Bytes()); err != nil {
			return err
		}
	}
}

// tapListener wraps each accepted connection in a srvConn.
type tapListener struct {
	net.Listener
	s *Server
}

func (l *tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &srvConn{Conn: c, s: l.s, frameStart: -1}
	l.s.mu.Lock()
	l.s.accepted = append(l.s.accepted, sc)
	l.s.mu.Unlock()
	return sc, nil
}

// maxTap bounds the bytes a srvConn keeps from the client.
const maxTap = 64 << 20

// srvConn is a server-side TCP connection that keeps a copy of everything
// the client sent (the tap) and can hold its writes back (the cork) so the
// 101 and the first frames leave in one write.
type srvConn struct {
	net.Conn
	s *Server

	wmu sync.Mutex // makes each Write atomic with respect to the others

	// guarded by s.mu, so the Server's waiters see tap updates
	tap        []byte
	tapFull    bool
	tapErr     bool
	heads      int // request heads seen on this connection
	frameStart int // offset of the first frame in tap, -1 before the upgrade

	// guarded by mu
	mu     sync.Mutex
	corked bool
	cork   []byte
}

func (c *srvConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.s.mu.Lock()
		if len(c.tap)+n <= maxTap {
			c.tap = append(c.tap, p[:n]...)
		} else if !c.tapFull {
			c.tapFull = true
			c.s.notes = append(c.s.notes, fmt.Sprintf("tap: more than %d bytes from the client; Frames() stops there", maxTap))
		}
		c.s.changedLocked()
		c.s.mu.Unlock()
	}
	return n, err
}

func (c *srvConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked {
		c.cork = append(c.cork, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.Write(p)
}

// writeRaw writes hand-made frames, bounded by DefaultTimeout.
func (c *srvConn) writeRaw(b []byte) error {
	c.mu.Lock()
	corked := c.corked
	c.mu.Unlock()
	if !corked {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(DefaultTimeout))
		defer func() { _ = c.Conn.SetWriteDeadline(time.Time{}) }()
	}
	_, err := c.Write(b)
	return err
}

func (c *srvConn) setCork(on bool) {
	c.mu.Lock()
	c.corked = on
	c.mu.Unlock()
}

// uncork sends what was held back in a single write.
func (c *srvConn) uncork() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	b := c.cork
	was := c.corked
	c.cork, c.corked = nil, false
	c.mu.Unlock()
	if was && len(b) > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(DefaultTimeout))
		_, _ = c.Conn.Write(b)
		_ = c.Conn.SetWriteDeadline(time.Time{})
	}
}

// markUpgraded records where the frames start in the tap: after the
// heads-th request head. net/http has read the head by now.
func (c *srvConn) markUpgraded() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	off := 0
	for i := 0; i < c.heads; i++ {
		j := bytes.Index(c.tap[off:], []byte("\r\n\r\n"))
		if j < 0 {
			c.s.notes = append(c.s.notes, "tap: request head not found; Frames() will miss this connection")
			return
		}
		off += j + 4
	}
	c.frameStart = off
}

// framesLocked parses the client's frames; s.mu must be held.
func (c *srvConn) framesLocked() []Frame {
	if c.frameStart < 0 {
		return nil
	}
	fs, err := parseFrames(c.tap[c.frameStart:])
	if err != nil && !c.tapErr {
		c.tapErr = true
		c.s.notes = append(c.s.notes, "tap: "+err.Error())
	}
	return fs
}
