package cmd

import (
	"strconv"
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// heartbeat pings the peer every interval and, when timeout is set, closes
// the connection with 1001 once a ping has waited that long for its pong.
// Each pong's round trip is reported (-v).
type heartbeat struct {
	interval, timeout time.Duration
	peer              inspect.Direction // who answers our pings
	report            func(format string, args ...any)

	mu       sync.Mutex
	sent     map[string]time.Time // ping payload -> when sent
	seq      int
	timedOut bool
}

func newHeartbeat(interval, timeout time.Duration, peer inspect.Direction, report func(string, ...any)) *heartbeat {
	return &heartbeat{interval: interval, timeout: timeout, peer: peer, report: report, sent: map[string]time.Time{}}
}

// event watches for pongs; call it from Config.OnEvent.
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
	if ok && h.report != nil {
		h.report("wscope: pong %s: rtt %s", e.Frame.Payload, time.Since(at).Round(time.Microsecond))
	}
}

// run pings until the connection ends.
func (h *heartbeat) run(c *wire.Conn) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-c.Done():
			return
		case now := <-t.C:
			if h.expired(now) {
				h.report("wscope: no pong within %s: closing", h.timeout)
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
