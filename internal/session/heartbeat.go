package session

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// heartbeat pings the peer every interval and, when timeout is set, closes
// the connection with 1001 once a ping has waited that long for its pong.
// A nil heartbeat does nothing.
type heartbeat struct {
	interval, timeout time.Duration
	peer              inspect.Direction // who answers our pings
	onRTT             func(string)      // each pong's round trip, when asked (-v)
	onTimeout         func(string)      // the pongs stopped

	mu       sync.Mutex
	sent     map[string]time.Time // ping payload -> when sent
	seq      int
	timedOut bool
}

// heartbeat returns the --ping-interval heartbeat of a connection whose
// peer sends in peer, or nil; note says what it saw.
func (o *Options) heartbeat(peer inspect.Direction, note func(string)) *heartbeat {
	if o.PingInterval <= 0 {
		return nil
	}
	h := &heartbeat{interval: o.PingInterval, timeout: o.PingTimeout, peer: peer, onTimeout: note, sent: map[string]time.Time{}}
	if o.Verbose {
		h.onRTT = note
	}
	return h
}

// event watches for pongs; it is one of a connection's observers.
func (h *heartbeat) event(e *inspect.Event) {
	if h == nil || e.Kind != inspect.KindFrame || e.Frame.Op != inspect.OpPong || e.Frame.Dir != h.peer {
		return
	}
	h.mu.Lock()
	at, ok := h.sent[string(e.Frame.Payload)]
	if ok {
		// A pong answers its ping and every earlier one (RFC 6455 5.5.3
		// lets a peer answer only the latest).
		for k, t := range h.sent {
			if !t.After(at) {
				delete(h.sent, k)
			}
		}
	}
	h.mu.Unlock()
	if ok && h.onRTT != nil {
		h.onRTT(fmt.Sprintf("pong %s: rtt %s", e.Frame.Payload, time.Since(at).Round(time.Microsecond)))
	}
}

// start pings c until it ends.
func (h *heartbeat) start(c *wire.Conn) {
	if h != nil {
		go h.run(c)
	}
}

func (h *heartbeat) run(c *wire.Conn) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-c.Done():
			return
		case now := <-t.C:
			if h.expired(now) {
				h.onTimeout(fmt.Sprintf("no pong within %s: closing", h.timeout))
				c.Close(inspect.CloseGoingAway, "pong timeout")
				return
			}
			h.mu.Lock()
			h.seq++
			p := "wscope-" + strconv.Itoa(h.seq)
			h.sent[p] = now
			h.mu.Unlock()
			if err := c.Ping([]byte(p)); err != nil {
				return
			}
		}
	}
}

// expired reports whether a ping has waited longer than the timeout.
func (h *heartbeat) expired(now time.Time) bool {
	if h.timeout <= 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, at := range h.sent {
		if now.Sub(at) >= h.timeout {
			h.timedOut = true
			return true
		}
	}
	return false
}

// reset forgets pings sent on a connection that is gone.
func (h *heartbeat) reset() {
	if h == nil {
		return
	}
	h.mu.Lock()
	clear(h.sent)
	h.mu.Unlock()
}

// failed reports whether the heartbeat closed the connection.
func (h *heartbeat) failed() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.timedOut
}
