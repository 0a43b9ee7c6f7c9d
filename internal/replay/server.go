package replay

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// ServeOptions say how to play the server side of a script.
type ServeOptions struct {
	// MaxConns bounds the clients served at once; more are refused with
	// 503. Zero means no bound.
	MaxConns int
	// Options walk the script with the sides swapped: the server's
	// messages are sent, the client's expected. Timeout also bounds the
	// handshake.
	Options

	// OnMismatch is called for each mismatch as it is found.
	OnMismatch func(conn int, m Mismatch)
	// OnDone is called when a client's replay is over, with its result
	// (nil when the handshake failed) and the error that stopped it.
	OnDone func(conn int, r *Result, err error)
	// OnAcceptPause is told when accepting pauses on an error that passes
	// (out of file descriptors), and with nil when it works again; see
	// wire.AcceptLoop.
	OnAcceptPause func(error)
}

// Serve is a mock server that answers like the recorded one: each client
// accepted on ln gets the whole script from the start, on its own. The
// server sends the recorded server messages that came before the next
// client message, waits for that message and compares it (reporting a
// mismatch through OnMismatch and going on), and so on; then it closes the
// way the recording closed, by the same side, with the same code and
// reason. The recorded subprotocol is accepted when the client offers it.
//
// Serve returns nil when ctx ends (after closing every client with 1001
// and waiting for them), or the error that stopped accepting: one that
// does not pass (errors that do are waited out). It closes ln.
func Serve(ctx context.Context, ln net.Listener, sc *Script, o ServeOptions) error {
	set, err := o.settings()
	if err != nil {
		return err
	}
	if o.MaxConns < 0 {
		return fmt.Errorf("--max-conns must not be negative")
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		active int
		id     int
	)
	defer wg.Wait()
	base := "ws://" + ln.Addr().String()
	admit := func(nc net.Conn) {
		mu.Lock()
		id++
		n := id
		busy := o.MaxConns > 0 && active >= o.MaxConns
		if !busy {
			active++
		}
		mu.Unlock()
		wg.Add(1)
		if busy {
			go func() {
				defer wg.Done()
				refuseBusy(nc, o.MaxConns, set.timeout)
			}()
			return
		}
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				active--
				mu.Unlock()
			}()
			r, err := serveConn(ctx, nc, n, base, sc, set, o)
			if o.OnDone != nil {
				o.OnDone(n, r, err)
			}
		}()
	}
	// Closing ln (the end of ctx) ends the loop with nil; an error that
	// does not pass ends the clients' replays too.
	err = wire.AcceptLoop(ln, admit, o.OnAcceptPause)
	cancel()
	return err
}

func serveConn(ctx context.Context, nc net.Conn, id int, base string, sc *Script, set settings, o ServeOptions) (*Result, error) {
	s := newSession(sc, set, inspect.ServerToClient)
	s.res.URL = base
	if o.OnMismatch != nil {
		s.onMismatch = func(m Mismatch) { o.OnMismatch(id, m) }
	}
	var subs []string
	if sc.Subprotocol != "" {
		subs = []string{sc.Subprotocol}
	}
	// A handshake stuck past the end of ctx is cut.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	conn, open, err := wire.Accept(nc, wire.AcceptOptions{Subprotocols: subs, Timeout: set.timeout, URL: base}, wire.Config{
		ID:             id,
		Start:          s.start,
		MaxMessageSize: o.MaxMessageSize,
		CloseTimeout:   set.timeout,
		OnEvent:        s.onEvent,
		OmitSent:       o.OnEvent == nil,
	})
	stop()
	if err != nil {
		nc.Close()
		return nil, err
	}
	if o.OnEvent != nil {
		o.OnEvent(&inspect.Event{T: time.Since(s.start), Kind: inspect.KindOpen, Conn: id, Open: open})
	}
	return s.run(ctx, conn, open)
}

// refuseBusy answers a client beyond MaxConns with 503.
func refuseBusy(nc net.Conn, max int, timeout time.Duration) {
	wire.RefuseBusy(nc, timeout, fmt.Sprintf("wscope replay: already serving %d clients (--max-conns)\n", max))
}
