package cmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
	"github.com/wscope/wscope/tui"
)

// DefaultListenAddr is loopback: a debugging server is not for the network
// unless the user says so.
const DefaultListenAddr = "127.0.0.1:8080"

// ListenOptions are the flags of `wscope listen`.
type ListenOptions struct {
	IO   *IOStreams
	Addr string

	Subprotocols []string
	Path         string
	Origins      []string
	MaxConns     int
	Broadcast    bool
	Once         bool
	TLS          serverTLSOptions
	Keylog       string
	sessionOptions

	// ready, when set, is told the bound address (tests listen on :0).
	ready func(net.Addr)
	// writeTimeout replaces clientWriteTimeout (tests).
	writeTimeout time.Duration
}

// clientWriteTimeout is how long listen waits for a client to take what it
// is sent before dropping it: one client that stops reading must not hold
// up stdin lines and broadcasts to all the others for longer.
const clientWriteTimeout = 10 * time.Second

// NewCmdListen builds `wscope listen`.
func NewCmdListen(ios *IOStreams, runF func(context.Context, *ListenOptions) error) *cobra.Command {
	opts := &ListenOptions{IO: ios}
	c := &cobra.Command{
		Use:   "listen [ADDR]",
		Short: "Be a WebSocket server and show what clients send",
		Long: `Accept WebSocket clients on ADDR (default 127.0.0.1:8080; a bare port means
127.0.0.1:PORT, ":PORT" means every interface) and show what they send, in
the same formats as connect, with the connection id on each line.

Each stdin line is sent to every connected client. --echo sends each
message back to its sender with the same opcode; --broadcast sends it to
every other client. A client that takes nothing of what it is sent for 10s
is dropped, so that it does not hold up the others. Ctrl-C closes every
client with 1001 Going Away.

At a terminal it opens the TUI with a list of the connections; --no-tui, or
-o frames/json, prints lines instead. Stdout carries what clients send;
stderr says where wscope listens ("listening on ws://..."), and when each
client connects and how it left. --tls-self-signed or --tls-cert serve wss.

It runs until Ctrl-C (exit status 130), or with --once until the first
client has gone, exiting with that client's status as connect would: 0
after a close with 1000 or 1001, 4 after anything else.`,
		Example: `  # an echo server on 127.0.0.1:8080, printing what clients send
  wscope listen --echo

  # a chat-like relay on port 9000 of every interface, frames shown
  wscope listen :9000 --broadcast -o frames

  # accept only /ws from one origin, speaking one subprotocol
  wscope listen 9000 --path /ws --origin https://app.example.com -s graphql-ws

  # wss with a throwaway certificate (its fingerprint is printed)
  wscope listen 8443 --tls-self-signed --echo

  # record one client's session, then exit with its status
  wscope listen 9000 --once --record client.wsrec.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Addr = DefaultListenAddr
			if len(args) == 1 {
				opts.Addr = args[0]
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return listenRun(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.StringSliceVarP(&opts.Subprotocols, "subprotocol", "s", nil, "accept this subprotocol when a client offers it (repeatable or comma-separated; the first one the client offers that is listed here is chosen)")
	fs.StringVar(&opts.Path, "path", "", "upgrade only requests for this path; others get 404")
	fs.StringSliceVar(&opts.Origins, "origin", nil, "allow only these Origin values (repeatable); others get 403")
	fs.IntVar(&opts.MaxConns, "max-conns", 0, "refuse clients beyond this many at once with 503 (0: no limit)")
	fs.BoolVar(&opts.Broadcast, "broadcast", false, "send every message to every other client")
	fs.BoolVar(&opts.Once, "once", false, "exit after the first client disconnects, with its status")
	opts.TLS.addFlags(fs)
	fs.StringVar(&opts.Keylog, "keylog", "", "append TLS secrets to `FILE` for Wireshark (default: $SSLKEYLOGFILE)")
	opts.sessionOptions.addFlags(fs)
	return c
}

// listenAddr turns "8080" into "127.0.0.1:8080"; anything with a colon is
// taken as given.
func listenAddr(s string) string {
	if !strings.Contains(s, ":") {
		return "127.0.0.1:" + s
	}
	return s
}

// server is a running `wscope listen`: its clients and what they share.
type server struct {
	opts  *ListenOptions
	snk   *sink
	start time.Time
	url   string

	mu     sync.Mutex
	conns  map[int]*wire.Conn
	active int       // clients accepted and not gone, handshakes included: what --max-conns counts
	feed   *tui.Feed // the TUI's input, when there is one
	// closing is set by closeAll: clients whose handshake ends later are
	// closed at once.
	closing bool
	nextID  int
	wg      sync.WaitGroup
	ended   chan inspect.End // first connection's end, for --once
}

func listenRun(ctx context.Context, opts *ListenOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if err := opts.Compress.prepare(inspect.RoleServer); err != nil {
		return err
	}
	if opts.MaxConns < 0 {
		return usageErr("--max-conns must not be negative")
	}
	ios := opts.IO
	ln, err := net.Listen("tcp", listenAddr(opts.Addr))
	if err != nil {
		return exitf(ExitRuntime, "could not listen on %s: %v", opts.Addr, err)
	}
	defer ln.Close()
	scheme := "ws://"
	kl, err := keyLog(opts.Keylog)
	if err != nil {
		return err
	}
	tlsConf, err := opts.TLS.config(ios.ErrOut, keylogWriter(kl))
	if err != nil {
		return err
	}
	if tlsConf != nil {
		ln, scheme = tls.NewListener(ln, tlsConf), "wss://"
	}
	s := &server{
		opts:  opts,
		start: time.Now(),
		url:   scheme + ln.Addr().String(),
		conns: map[int]*wire.Conn{},
		ended: make(chan inspect.End, 1),
	}
	useTUI := opts.useTUI(ios)
	sinkIO := ios
	if useTUI {
		sinkIO = quietIO(ios)
	}
	if s.snk, err = opts.sink(sinkIO, inspect.ClientToServer, true); err != nil {
		return err
	}
	defer s.snk.close()
	if ios.Interactive() && opts.Output == formatText && !useTUI {
		s.snk.linePrefix = "< "
	}
	if useTUI {
		s.feed = tui.NewFeed(0)
		defer s.feed.Close()
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		s.snk.note("wscope: WARNING: listening on every interface (%s): anyone who can reach this machine can connect", ln.Addr())
	}
	s.snk.note("listening on %s%s (Ctrl-C to stop)", s.url, opts.Path)
	if opts.ready != nil {
		opts.ready(ln.Addr())
	}
	go s.acceptLoop(ln)
	if useTUI {
		return listenTUI(ctx, s, s.feed)
	}

	sendDone := make(chan error, 1)
	go func() {
		in := newInputReader(ios.In, opts.Stdin, opts.Binary, ios.Interactive(), inspect.ServerToClient, int(opts.MaxMessageSize))
		sendDone <- pump(in, s.toAll, s.flushAll, s.snk)
	}()

	for {
		select {
		case err := <-sendDone:
			// stdin ended: keep serving until Ctrl-C.
			if err != nil {
				s.snk.note("wscope: stdin: %v", err)
			}
			sendDone = nil
		case end := <-s.ended:
			ln.Close()
			s.closeAll(inspect.CloseGoingAway)
			return finish(end, s.snk, false)
		case <-ios.Interrupt:
			ln.Close()
			s.closeAll(inspect.CloseGoingAway)
			return silent(ExitInterrupted)
		case <-ctx.Done():
			ln.Close()
			s.closeAll(inspect.CloseGoingAway)
			return nil
		}
	}
}

func (s *server) acceptLoop(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		full := s.opts.MaxConns > 0 && s.active >= s.opts.MaxConns
		if !full {
			s.active++
			s.wg.Add(1) // from here: closeAll waits for this client too
		}
		s.nextID++
		id := s.nextID
		s.mu.Unlock()
		if full {
			go wire.Refuse(nc, 503, "Service Unavailable", fmt.Sprintf("this server takes at most %d clients at once\n", s.opts.MaxConns))
			s.snk.note("[%d] refused %s: --max-conns %d reached", id, nc.RemoteAddr(), s.opts.MaxConns)
			continue
		}
		go s.serve(nc, id)
	}
}

func (s *server) serve(nc net.Conn, id int) {
	defer s.wg.Done()
	cfg := s.opts.config(id, s.start)
	cfg.WriteTimeout = clientWriteTimeout
	if s.opts.writeTimeout > 0 {
		cfg.WriteTimeout = s.opts.writeTimeout
	}
	var conn *wire.Conn
	if s.feed != nil {
		cfg.OmitSent = false
	}
	var hb *heartbeat
	if s.opts.PingInterval > 0 {
		hb = newHeartbeat(s.opts.PingInterval, s.opts.PingTimeout, inspect.ClientToServer, func(format string, args ...any) {
			if s.opts.Verbose || strings.Contains(format, "no pong") {
				s.snk.note("[%d] "+strings.TrimPrefix(format, "wscope: "), append([]any{id}, args...)...)
			}
		})
	}
	cfg.OnEvent = func(e *inspect.Event) {
		s.snk.event(e)
		hb.event(e)
		if s.feed != nil {
			s.feed.Add(e)
		}
		if e.Kind != inspect.KindMsg || e.Msg.Dir != inspect.ClientToServer {
			return
		}
		if s.opts.Echo {
			conn.WriteMessage(e.Msg.Op, e.Msg.Payload)
		}
		if s.opts.Broadcast {
			s.each(func(c *wire.Conn) {
				if c != conn {
					c.Send(e.Msg.Op, e.Msg.Payload)
				}
			})
		}
	}
	cfg.OnIdle = s.snk.flush
	conn, open, err := wire.Accept(nc, wire.AcceptOptions{
		Subprotocols: s.opts.Subprotocols,
		Path:         s.opts.Path,
		Compress:     s.opts.Compress.cx,
		Origins:      s.opts.Origins,
		Timeout:      10 * time.Second,
		URL:          s.url,
	}, cfg)
	if err == nil && open.TLS == nil {
		open.TLS = wire.ConnTLS(nc)
	}
	if err != nil {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		s.snk.note("[%d] %s: %v", id, nc.RemoteAddr(), err)
		nc.Close()
		return
	}
	s.mu.Lock()
	s.conns[id] = conn
	closing := s.closing
	s.mu.Unlock()
	if closing {
		// Its handshake finished while closeAll was closing the others.
		conn.Close(inspect.CloseGoingAway, "")
	}
	s.snk.opened(&inspect.Event{T: time.Since(s.start), Kind: inspect.KindOpen, Conn: id, Open: open}, s.feed, s.opts.Verbose)
	s.snk.note("[%d] connected from %s %s", id, open.Remote, open.Request.Target)
	if hb != nil {
		go hb.run(conn)
	}
	end := conn.Run()
	s.mu.Lock()
	delete(s.conns, id)
	s.active--
	s.mu.Unlock()
	s.snk.note("[%d] closed: %s", id, inspect.DescribeEnd(&end))
	if s.opts.Once {
		select {
		case s.ended <- end:
		default:
		}
	}
}

// conn returns the open connection id, or nil.
func (s *server) conn(id int) *wire.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// each calls f on every open connection, in id order.
func (s *server) each(f func(*wire.Conn)) {
	s.mu.Lock()
	ids := make([]int, 0, len(s.conns))
	for id := range s.conns {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	conns := make([]*wire.Conn, len(ids))
	for i, id := range ids {
		conns[i] = s.conns[id]
	}
	s.mu.Unlock()
	for _, c := range conns {
		f(c)
	}
}

func (s *server) toAll(a *action) error {
	s.each(func(c *wire.Conn) {
		if err := a.apply(c); err != nil && err != wire.ErrClosing {
			s.snk.note("wscope: [%d] %v", c.ID(), err)
		}
	})
	return nil
}

func (s *server) flushAll() error {
	s.each(func(c *wire.Conn) { c.Flush() })
	return nil
}

// closeAll starts the close handshake with every client and waits for
// them, bounded by the close timeout.
func (s *server) closeAll(code inspect.CloseCode) {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.each(func(c *wire.Conn) { c.Close(code, "") })
	if !waitGroup(&s.wg, s.opts.CloseTimeout+time.Second) {
		s.each(func(c *wire.Conn) { c.Abort() })
	}
	s.snk.flush()
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

// keylogWriter keeps a nil *os.File from becoming a non-nil io.Writer.
func keylogWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}
