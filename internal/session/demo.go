package session

import (
	"context"
	"io"
	"net"
	"sync"
	"time"

	"github.com/wscope/wscope/internal/demo"
	"github.com/wscope/wscope/internal/wire"
)

// DemoOptions are what `demo` runs.
type DemoOptions struct {
	IO *IOStreams
	Options
	Duration  time.Duration // in a pipe: how long to show the tour
	Serve     bool          // the server alone, on Addr
	Addr      string        // with Serve: host:port
	OutputSet bool          // -o was given; otherwise a pipe shows frames
	// Server shapes the demo server (tests make its tour quick).
	Server demo.Options
	// Ready, when set, is told where the demo server listens.
	Ready func(net.Addr)
}

// tourBound is how long a pipe demo waits for the tour beyond Duration
// before it closes anyway.
const tourBound = 30 * time.Second

// Demo runs `wscope demo`: the demo server, and connect against it (or,
// with Serve, the server alone).
func Demo(ctx context.Context, opts *DemoOptions) error {
	if opts.Duration < 0 {
		return UsageErr("--duration must not be negative")
	}
	if opts.Serve {
		return demoServe(ctx, opts)
	}
	if opts.Addr != "" {
		return UsageErr("ADDR is for --serve: the demo's own server listens on a free port of 127.0.0.1")
	}
	ios := opts.IO
	toured := make(chan struct{})
	var once sync.Once
	sopts := opts.Server
	sopts.OnTour = func() { once.Do(func() { close(toured) }) }
	srv, err := demo.Listen("127.0.0.1:0", sopts)
	if err != nil {
		return Exitf(ExitRuntime, "could not start the demo server: %v", err)
	}
	defer srv.Close()
	if opts.Ready != nil {
		opts.Ready(srv.Addr())
	}
	u, err := wire.ParseURL(srv.URL() + "demo")
	if err != nil {
		return Exitf(ExitRuntime, "the demo server's URL: %v", err)
	}
	// Straight to the server on loopback: no proxy.
	copts := &ConnectOptions{IO: ios, Options: opts.Options, Dial: wire.DialOptions{URL: u, Timeout: 10 * time.Second}}
	if !opts.OutputSet && !copts.UseTUI(ios) {
		copts.Output = FormatFrames
	}
	if !ios.Interactive() {
		// A pipe: stdin is sent as it comes, and ends when the time is up.
		end := make(chan struct{})
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(end)
			t := time.NewTimer(opts.Duration)
			defer t.Stop()
			bound := time.NewTimer(opts.Duration + tourBound)
			defer bound.Stop()
			select {
			case <-t.C:
			case <-stop:
				return
			}
			select {
			case <-toured:
			case <-bound.C:
			case <-stop:
			}
		}()
		pipe := *ios
		pipe.In = newTimedInput(ios.In, end)
		copts.IO = &pipe
	}
	return Connect(ctx, copts)
}

// demoServe is `wscope demo --serve`: the server alone, until Ctrl-C.
func demoServe(ctx context.Context, opts *DemoOptions) error {
	ios := opts.IO
	errOut := &lockedWriter{w: ios.ErrOut}
	addr := opts.Addr
	sopts := opts.Server
	sopts.Logf = func(format string, args ...any) { errOut.printf(format+"\n", args...) }
	srv, err := demo.Listen(addr, sopts)
	if err != nil {
		return Exitf(ExitRuntime, "could not listen on %s: %v", addr, err)
	}
	defer srv.Close()
	if tcp, ok := srv.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		errOut.printf("wscope: WARNING: listening on every interface (%s): anyone who can reach this machine can connect\n", srv.Addr())
	}
	errOut.printf("demo server listening on %s (Ctrl-C to stop); try: wscope connect %s\n", srv.URL(), srv.URL())
	if opts.Ready != nil {
		opts.Ready(srv.Addr())
	}
	select {
	case <-ios.Interrupt:
		srv.Close()
		return Silent(ExitInterrupted)
	case <-ctx.Done():
		return nil
	}
}

// timedInput is stdin for the demo in a pipe: what stdin holds, as it
// comes, then EOF once end is closed, whether stdin ended before or not.
// A read of stdin still blocked then is left behind; the process is about
// to exit.
type timedInput struct {
	chunks chan []byte // closed at stdin's end
	end    <-chan struct{}
	buf    []byte
}

func newTimedInput(r io.Reader, end <-chan struct{}) *timedInput {
	t := &timedInput{chunks: make(chan []byte), end: end}
	go func() {
		defer close(t.chunks)
		for {
			b := make([]byte, 32<<10)
			n, err := r.Read(b)
			if n > 0 {
				select {
				case t.chunks <- b[:n]:
				case <-end:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return t
}

func (t *timedInput) Read(p []byte) (int, error) {
	for len(t.buf) == 0 {
		select {
		case b, ok := <-t.chunks:
			if !ok {
				t.chunks = nil // stdin ended: wait for the end alone
				continue
			}
			t.buf = b
		case <-t.end:
			return 0, io.EOF
		}
	}
	n := copy(p, t.buf)
	t.buf = t.buf[n:]
	return n, nil
}
