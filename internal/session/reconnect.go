package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// connRef is the connection a session currently uses. With --reconnect
// it changes; what reads stdin sends through it and waits for the next
// one when it breaks, so no line is lost.
type connRef struct {
	// c is read for every line sent: without a lock, which would cost
	// more than building the frame.
	c       atomic.Pointer[wire.Conn]
	mu      sync.Mutex
	changed chan struct{} // closed when c is replaced or the ref stops
	stopped bool
}

func newConnRef(c *wire.Conn) *connRef {
	r := &connRef{changed: make(chan struct{})}
	r.c.Store(c)
	return r
}

func (r *connRef) get() (*wire.Conn, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Load(), r.changed
}

func (r *connRef) set(c *wire.Conn) {
	r.mu.Lock()
	r.c.Store(c)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// stop wakes whoever waits for a connection: there will be no other.
func (r *connRef) stop() {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.changed)
	}
	r.mu.Unlock()
}

func (r *connRef) isStopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// errNoConnection ends the input when the session will not reconnect.
var errNoConnection = errors.New("the connection is gone and will not come back")

// send applies a on the current connection. With reconnect it flushes at
// once (nothing waits in a buffer a dying connection would lose) and, when
// the connection broke, waits for the next one and sends again.
func (r *connRef) send(a *action, reconnect bool) error {
	if !reconnect {
		return a.apply(r.c.Load())
	}
	for {
		c, changed := r.get()
		err := a.apply(c)
		if err == nil {
			if err = c.Flush(); err == nil {
				return nil
			}
		}
		select {
		case <-c.Done():
		case <-time.After(time.Second):
			// The connection is still up: the action itself was refused.
			return err
		}
		<-changed
		if r.isStopped() {
			return errNoConnection
		}
	}
}

// backoff is the delay before reconnect attempt n (from 1): exponential
// from 250ms, capped at max, with full jitter so clients that lost the
// same server do not come back in step.
func backoff(n int, max time.Duration) time.Duration {
	ceiling := 250 * time.Millisecond << min(n-1, 30)
	if ceiling <= 0 || ceiling > max {
		ceiling = max
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// redial reconnects after connection id ended abnormally, as
// --reconnect asks: each attempt is a note event (recorded, and shown in
// the TUI) and a line on stderr. It returns the new connection, or nil
// when the attempts ran out, or Ctrl-C came or ctx ended (interrupted).
func (c *client) redial(ctx context.Context, id int, why string, emit func(*inspect.Event)) (conn *wire.Conn, open *inspect.Open, interrupted bool) {
	opts := c.opts
	note := func(conn int, text string) {
		emit(&inspect.Event{T: time.Since(c.start), Kind: inspect.KindNote, Conn: conn, Text: text})
		c.out.note("wscope: %s", text)
	}
	for n := 1; opts.ReconnectAttempts == 0 || n <= opts.ReconnectAttempts; n++ {
		d := backoff(n, opts.ReconnectMaxDelay)
		note(id, fmt.Sprintf("reconnect attempt %d in %s after %s", n, d.Round(time.Millisecond), why))
		select {
		case <-time.After(d):
		case <-c.ios.Interrupt:
			return nil, nil, true
		case <-ctx.Done():
			return nil, nil, true
		}
		id++
		cfg := c.cfg
		cfg.ID = id
		conn, open, err := c.dial(ctx, cfg)
		if err != nil {
			why = err.Error()
			emit(&inspect.Event{T: time.Since(c.start), Kind: inspect.KindError, Conn: id, Text: err.Error()})
			continue
		}
		c.out.note("wscope: reconnected to %s (connection %d)", opts.Dial.URL, id)
		return conn, open, false
	}
	note(id, fmt.Sprintf("giving up after %d reconnect attempts", opts.ReconnectAttempts))
	return nil, nil, false
}
