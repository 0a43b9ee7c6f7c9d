package session

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
	"github.com/wscope/wscope/tui"
)

// ClientWriteTimeout is how long listen waits for a client to take what it
// is sent before dropping it: one client that stops reading must not hold
// up stdin lines and broadcasts to all the others for longer.
const ClientWriteTimeout = 10 * time.Second

// DefaultMaxConns is the cap on the clients listen and proxy hold at once
// unless told otherwise: far above what a debugging session or a load test
// of 50,000 connections needs, yet a bound on what a flood of clients can
// take.
const DefaultMaxConns = 100_000

// refusalTimeout bounds the wait for the request of a client refused for
// the cap, read so that the 503 reaches it.
const refusalTimeout = 2 * time.Second

// ListenOptions are what `listen` runs.
type ListenOptions struct {
	IO *IOStreams
	Options
	Addr         string      // host:port to bind
	TLS          *tls.Config // nil serves ws://
	Subprotocols []string
	Path         string
	Origins      []string
	MaxConns     int // 0 means no limit
	Broadcast    bool
	Once         bool
	WriteTimeout time.Duration // 0 means ClientWriteTimeout
	// IdleTimeout closes a client that has sent nothing for that long
	// with 1001; 0 means never.
	IdleTimeout time.Duration
	// Ready, when set, is told the bound address (tests listen on :0).
	Ready func(net.Addr)
}

// server is a running `wscope listen`: its clients and what they share.
type server struct {
	opts  *ListenOptions
	out   *sink
	dec   *decoding // --decode; nil for none
	feed  *tui.Feed // the TUI's input, when there is one
	start time.Time
	url   string
	conns connSet[*wire.Conn]
	ended chan inspect.End // the first connection's end, for --once
}

// Listen runs `wscope listen` until Ctrl-C, or with Once until the first
// client has gone.
func Listen(ctx context.Context, opts *ListenOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if err := validLimits(opts.MaxConns, opts.IdleTimeout); err != nil {
		return err
	}
	ios := opts.IO
	ln, err := bind(opts.Addr, opts.TLS)
	if err != nil {
		return err
	}
	defer ln.Close()
	s := &server{opts: opts, start: time.Now(), url: scheme(opts.TLS) + ln.Addr().String(), ended: make(chan inspect.End, 1)}
	useTUI := opts.UseTUI(ios)
	s.dec = newDecoding(opts.Decode)
	if s.out, err = opts.sink(quietIf(useTUI, ios), inspect.ClientToServer, true); err != nil {
		return err
	}
	defer s.out.close()
	if ios.Interactive() && opts.Output == FormatText && !useTUI {
		s.out.linePrefix = "< "
	}
	if useTUI {
		s.feed = tui.NewFeed(0)
		defer s.feed.Close()
	}
	warnEveryInterface(s.out, ln, "connect")
	s.out.note("listening on %s%s (Ctrl-C to stop)", s.url, opts.Path)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	acceptErr := s.serveAll(ln)
	if useTUI {
		return listenTUI(ctx, s, s.feed)
	}
	return s.wait(ctx, ln, acceptErr)
}

// serveAll accepts clients in the background; the channel says why
// accepting stopped for good.
func (s *server) serveAll(ln net.Listener) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- wire.AcceptLoop(ln, s.admit, func(err error) { acceptPause(s.out.note, err) })
	}()
	return done
}

// wait runs the pipe mode: stdin goes to every client until it ends, and
// the server runs until Ctrl-C, --once's client is gone, or accepting
// fails.
func (s *server) wait(ctx context.Context, ln net.Listener, acceptErr <-chan error) error {
	ios := s.opts.IO
	sendDone := make(chan error, 1)
	go func() {
		in := newInputReader(ios.In, s.opts.Stdin, s.opts.Binary, ios.Interactive(), inspect.ServerToClient, int(s.opts.MaxMessageSize))
		sendDone <- pump(in, s.toAll, s.flushAll, s.out)
	}()
	defer ln.Close()
	defer s.closeAll(inspect.CloseGoingAway)
	for {
		select {
		case err := <-sendDone:
			// stdin ended: keep serving until Ctrl-C.
			if err != nil {
				s.out.note("wscope: stdin: %v", err)
			}
			sendDone = nil
		case err := <-acceptErr:
			if err != nil {
				return Exitf(ExitRuntime, "accepting connections on %s: %v", ln.Addr(), err)
			}
			return nil
		case end := <-s.ended:
			return finish(end, s.out, false)
		case <-ios.Interrupt:
			return Silent(ExitInterrupted)
		case <-ctx.Done():
			return nil
		}
	}
}

// admit takes one client, or refuses it with 503 past --max-conns.
func (s *server) admit(nc net.Conn) {
	id, ok := s.conns.admit(s.opts.MaxConns)
	if !ok {
		refuseOverCap(s.out, nc, id, s.opts.MaxConns)
		tellTUI(s.feed, s.start, id, fmt.Sprintf("refused %s: --max-conns %d reached", nc.RemoteAddr(), s.opts.MaxConns))
		return
	}
	go s.serve(nc, id)
}

// refuseOverCap answers client id with 503: max are there already.
func refuseOverCap(out *sink, nc net.Conn, id, max int) {
	go wire.RefuseBusy(nc, refusalTimeout, fmt.Sprintf("this server takes at most %d clients at once\n", max))
	out.note("[%d] refused %s: --max-conns %d reached", id, nc.RemoteAddr(), max)
}

// validLimits checks --max-conns and --idle-timeout.
func validLimits(maxConns int, idle time.Duration) error {
	if maxConns < 0 {
		return UsageErr("--max-conns must not be negative")
	}
	if idle < 0 {
		return UsageErr("--idle-timeout must not be negative")
	}
	return nil
}

// serve runs one client's connection: its handshake, its observers
// (output, TUI, heartbeat, --echo, --broadcast) and its end.
func (s *server) serve(nc net.Conn, id int) {
	defer s.conns.leave(id)
	cfg := s.opts.config(id, s.start)
	cfg.WriteTimeout = writeTimeout(s.opts.WriteTimeout)
	cfg.IdleTimeout = s.opts.IdleTimeout
	// Thousands of clients that are mostly silent hold no buffers.
	cfg.PoolBuffers = true
	if s.feed != nil {
		cfg.OmitSent = false
	}
	hb := s.opts.heartbeat(inspect.ClientToServer, func(t string) { s.out.note("[%d] %s", id, t) })
	observe := observers{s.dec.wrap(s.out.event), hb.event}
	if s.feed != nil {
		observe = append(observe, s.feed.Add)
	}
	if s.opts.Echo {
		observe = append(observe, echo(inspect.ClientToServer, s.conns.get))
	}
	if s.opts.Broadcast {
		observe = append(observe, s.broadcast)
	}
	cfg.OnEvent = observe.event
	cfg.OnIdle = s.out.flush
	conn, open, err := wire.Accept(nc, wire.AcceptOptions{
		Subprotocols: s.opts.Subprotocols,
		Path:         s.opts.Path,
		Compress:     s.opts.Compress,
		Origins:      s.opts.Origins,
		Timeout:      10 * time.Second,
		URL:          s.url,
	}, cfg)
	if err != nil {
		s.out.note("[%d] %s: %v", id, nc.RemoteAddr(), err)
		tellTUI(s.feed, s.start, id, fmt.Sprintf("%s: %v", nc.RemoteAddr(), err))
		nc.Close()
		return
	}
	if open.TLS == nil {
		open.TLS = wire.ConnTLS(nc)
	}
	if closing := s.conns.add(id, conn); closing {
		// Its handshake finished while closeAll was closing the others.
		conn.Close(inspect.CloseGoingAway, "")
	}
	s.out.opened(&inspect.Event{T: time.Since(s.start), Kind: inspect.KindOpen, Conn: id, Open: open}, observe.event, s.opts.Verbose)
	s.out.note("[%d] connected from %s %s%s", id, open.Remote, open.Request.Target, clientCertNote(open.TLS))
	hb.start(conn)
	end := conn.Run()
	s.conns.release(id) // room for the next client before anyone is told this one left
	s.out.note("[%d] closed: %s", id, inspect.DescribeEnd(&end))
	if s.opts.Once {
		select {
		case s.ended <- end:
		default:
		}
	}
}

// clientCertNote names the client's certificate on a server's
// "connected" line, when it presented one.
func clientCertNote(t *inspect.TLSInfo) string {
	if t == nil || t.ClientSHA256 == "" {
		return ""
	}
	return fmt.Sprintf(" (client certificate %s, SHA-256 %s)", t.ClientSubject, t.ClientSHA256)
}

// writeTimeout is d, or ClientWriteTimeout when d is 0.
func writeTimeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return ClientWriteTimeout
}

// broadcast sends every valid message a client sends to every other.
func (s *server) broadcast(e *inspect.Event) {
	if e.Kind != inspect.KindMsg || e.Msg.Dir != inspect.ClientToServer || len(e.Msg.Violations) > 0 {
		return
	}
	s.conns.each(func(id int, c *wire.Conn) {
		if id != e.Conn {
			c.Send(e.Msg.Op, e.Msg.Payload)
		}
	})
}

// conn returns the open connection id, or nil.
func (s *server) conn(id int) *wire.Conn { return s.conns.get(id) }

func (s *server) toAll(a *action) error {
	s.conns.each(func(id int, c *wire.Conn) {
		if err := a.apply(c); err != nil && err != wire.ErrClosing && err != wire.ErrClosed {
			s.out.note("wscope: [%d] %v", id, err)
		}
	})
	return nil
}

func (s *server) flushAll() error {
	s.conns.each(func(_ int, c *wire.Conn) { c.Flush() })
	return nil
}

// closeAll starts the close handshake with every client and waits for
// them, bounded by the close timeout.
func (s *server) closeAll(code inspect.CloseCode) {
	s.conns.closeAll(s.opts.CloseTimeout+time.Second, func(c *wire.Conn) { c.Close(code, "") }, (*wire.Conn).Abort)
	s.out.flush()
}

// connSet is the connections a server holds, by id, with those still in
// their handshake counted: what --max-conns bounds and Ctrl-C closes.
type connSet[C any] struct {
	mu       sync.Mutex
	conns    map[int]C
	active   int // admitted and not gone, handshakes included
	released map[int]bool
	closing  bool // closeAll has begun: late handshakes are closed at once
	nextID   int
	wg       sync.WaitGroup
	// peak is the most clients held since memory was last given back.
	peak      int
	returning bool // giveBack is on its way
}

// giveBackAt is how many clients must have left, and at least half of
// those held, before their memory is given back to the system at once.
const giveBackAt = 1000

// giveBack returns the memory of clients that left to the system, a
// second after many left (more may follow). Go collects garbage as the
// heap grows again, so without it a server that held 10,000 clients kept
// their memory until as many came back.
func giveBack(done func()) {
	time.Sleep(time.Second)
	debug.FreeOSMemory()
	done()
}

// admit numbers a new client and counts it, unless limit (0: none) are
// already there.
func (cs *connSet[C]) admit(limit int) (id int, ok bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.nextID++
	if limit > 0 && cs.active >= limit {
		return cs.nextID, false
	}
	cs.active++
	cs.peak = max(cs.peak, cs.active)
	cs.wg.Add(1) // from here closeAll waits for this client too
	return cs.nextID, true
}

// add records the connection of an admitted client, once its handshake
// is done; closing says closeAll has begun.
func (cs *connSet[C]) add(id int, c C) (closing bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.conns == nil {
		cs.conns = map[int]C{}
	}
	cs.conns[id] = c
	return cs.closing
}

// release frees an admitted client's place (and forgets its connection),
// once; leave does it too if it was not done.
func (cs *connSet[C]) release(id int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.released == nil {
		cs.released = map[int]bool{}
	}
	if !cs.released[id] {
		cs.released[id] = true
		delete(cs.conns, id)
		cs.active--
		if left := cs.peak - cs.active; left >= giveBackAt && 2*left >= cs.peak && !cs.returning {
			cs.returning = true
			go giveBack(func() {
				cs.mu.Lock()
				cs.returning, cs.peak = false, cs.active
				cs.mu.Unlock()
			})
		}
	}
}

// leave ends an admitted client, with or without a connection: closeAll
// stops waiting for it.
func (cs *connSet[C]) leave(id int) {
	cs.release(id)
	cs.mu.Lock()
	delete(cs.released, id)
	cs.mu.Unlock()
	cs.wg.Done()
}

func (cs *connSet[C]) get(id int) C {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.conns[id]
}

// each calls f on every connection, in id order, outside the lock.
func (cs *connSet[C]) each(f func(int, C)) {
	cs.mu.Lock()
	ids := make([]int, 0, len(cs.conns))
	for id := range cs.conns {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	conns := make([]C, len(ids))
	for i, id := range ids {
		conns[i] = cs.conns[id]
	}
	cs.mu.Unlock()
	for i, c := range conns {
		f(ids[i], c)
	}
}

// closeAll closes every connection and waits for them all to go, at most
// d; then it aborts the rest.
func (cs *connSet[C]) closeAll(d time.Duration, closeOne, abort func(C)) {
	cs.mu.Lock()
	cs.closing = true
	cs.mu.Unlock()
	cs.each(func(_ int, c C) { closeOne(c) })
	if !waitGroup(&cs.wg, d) {
		cs.each(func(_ int, c C) { abort(c) })
	}
}

// waitGroup waits for wg, at most d; false means d passed first.
func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// bind listens on addr, with TLS when given.
func bind(addr string, conf *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, Exitf(ExitRuntime, "could not listen on %s: %v", addr, err)
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	return ln, nil
}

func scheme(conf *tls.Config) string {
	if conf != nil {
		return "wss://"
	}
	return "ws://"
}

// warnEveryInterface says, loudly, when a server is reachable from other
// machines.
func warnEveryInterface(out *sink, ln net.Listener, what string) {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		out.note("wscope: WARNING: listening on every interface (%s): anyone who can reach this machine can %s", ln.Addr(), what)
	}
}

// acceptPause says once that a server pauses accepting, and when it
// accepts again.
func acceptPause(note func(format string, args ...any), err error) {
	if err != nil {
		note("wscope: cannot accept connections for now (%v): retrying", err)
		return
	}
	note("wscope: accepting connections again")
}

// quietIf is ios with stdout and stderr swallowed when the TUI owns the
// terminal.
func quietIf(tui bool, ios *IOStreams) *IOStreams {
	if tui {
		return quietIO(ios)
	}
	return ios
}
