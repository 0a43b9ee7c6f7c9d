// Package demo is the server behind `wscope demo`: a local WebSocket
// server that plays a short scripted tour of what wscope shows (a text
// message, a JSON ticker, a fragmented message, a binary message, a ping,
// a message compressed with permessage-deflate when the client offers it),
// echoes what the client sends and obeys a few typed commands, among them
// a close with any code.
//
// It is built on internal/wire, so it can put on the wire what a library
// server would hide: fragments it chooses, uncompressed messages beside
// compressed ones, close codes on request. Everything it does is bounded:
// the tour, the ticker, each session's length, the number of clients.
package demo

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// Defaults for the zero fields of Options.
const (
	DefaultTick       = time.Second
	DefaultStep       = 300 * time.Millisecond
	DefaultMaxTicks   = 600
	DefaultMaxSession = 30 * time.Minute
	DefaultMaxConns   = 16
)

// writeTimeout bounds each write: a client that stops reading is dropped
// rather than holding its session forever.
const writeTimeout = 5 * time.Second

// Options shape the demo server. The zero value is the demo as
// `wscope demo` plays it.
type Options struct {
	// Tick is the JSON ticker's period; zero means DefaultTick.
	Tick time.Duration
	// Step is the pause between two steps of the tour; zero means
	// DefaultStep.
	Step time.Duration
	// MaxTicks stops the ticker after this many ticks; zero means
	// DefaultMaxTicks.
	MaxTicks int
	// MaxSession closes a connection with 1001 after this long; zero
	// means DefaultMaxSession.
	MaxSession time.Duration
	// MaxConns refuses clients beyond this many at once with 503; zero
	// means DefaultMaxConns.
	MaxConns int
	// OnTour, when set, is called each time a connection's tour has been
	// sent (written and flushed), from that connection's goroutine.
	OnTour func()
	// Logf, when set, is told about each client that comes and goes. It
	// is called from several goroutines.
	Logf func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	if o.MaxTicks <= 0 {
		o.MaxTicks = DefaultMaxTicks
	}
	if o.MaxSession <= 0 {
		o.MaxSession = DefaultMaxSession
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
}

// Server is a running demo server.
type Server struct {
	opts Options
	ln   net.Listener
	url  string
	stop chan struct{} // closed by Close: every session closes with 1001

	mu     sync.Mutex
	active int
	nextID int
	closed bool
	wg     sync.WaitGroup
}

// Listen starts a demo server on addr (host:port; port 0 picks one) and
// serves until Close.
func Listen(addr string, opts Options) (*Server, error) {
	opts.defaults()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, ln: ln, url: "ws://" + dialable(ln.Addr()) + "/", stop: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// dialable is the address a client on this machine reaches the listener
// at: loopback when it listens on every interface.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// URL returns ws://host:port/, the address to connect to. The server
// answers on every path.
func (s *Server) URL() string { return s.url }

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every session with 1001 Going Away and
// waits for them, aborting those that do not finish within a few seconds.
// Calling it again does nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	err := s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2*writeTimeout + time.Second):
		return errors.New("demo: sessions still running after Close")
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		full := s.active >= s.opts.MaxConns
		if !full && !s.closed {
			s.active++
			s.wg.Add(1)
		}
		closed := s.closed
		s.nextID++
		id := s.nextID
		s.mu.Unlock()
		switch {
		case closed:
			nc.Close()
			return
		case full:
			s.logf("[%d] refused %s: %d clients already", id, nc.RemoteAddr(), s.opts.MaxConns)
			go wire.Refuse(nc, 503, "Service Unavailable", fmt.Sprintf("the demo server takes at most %d clients at once\n", s.opts.MaxConns))
			continue
		}
		go func() {
			defer s.wg.Done()
			s.serve(nc, id)
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		}()
	}
}

// serve runs one client: the handshake, then the session.
func (s *Server) serve(nc net.Conn, id int) {
	ss := &session{srv: s, id: id, in: make(chan message, 16), quit: make(chan struct{})}
	cfg := wire.Config{
		ID:             id,
		MaxMessageSize: maxMessage,
		CloseTimeout:   2 * time.Second,
		OmitSent:       true,
		OnEvent:        ss.event,
	}
	conn, open, err := wire.Accept(nc, wire.AcceptOptions{
		Timeout:  writeTimeout,
		Compress: &wire.Compression{},
		URL:      s.url,
	}, cfg)
	if err != nil {
		s.logf("[%d] %s: %v", id, nc.RemoteAddr(), err)
		nc.Close()
		return
	}
	ss.conn = conn
	for _, x := range open.Extensions {
		ss.deflate = ss.deflate || x.Name == "permessage-deflate"
	}
	how := "no compression"
	if ss.deflate {
		how = "permessage-deflate"
	}
	s.logf("[%d] connected from %s (%s)", id, open.Remote, how)
	ended := make(chan inspect.End, 1)
	go func() { ended <- conn.Run() }()
	ss.run()
	end := <-ended
	s.logf("[%d] closed: %s", id, inspect.DescribeEnd(&end))
}
