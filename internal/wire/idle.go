package wire

import (
	"sync"
	"time"

	"github.com/wscope/wscope/inspect"
)

// idleReason is the close reason sent to a peer that was silent for d.
// It says what happened, in words a peer understands: no flag names.
func idleReason(d time.Duration) string { return "idle for " + d.String() }

// idleWatch calls onIdle once nothing has arrived for d, judged by last
// (when bytes last arrived). It costs one timer per connection, not a
// goroutine: a server may hold tens of thousands.
type idleWatch struct {
	d      time.Duration
	last   func() time.Time
	onIdle func()

	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

// watchIdle starts an idleWatch; nil (which stop accepts) when d is not
// positive.
func watchIdle(d time.Duration, last func() time.Time, onIdle func()) *idleWatch {
	if d <= 0 {
		return nil
	}
	w := &idleWatch{d: d, last: last, onIdle: onIdle}
	w.mu.Lock()
	w.t = time.AfterFunc(d, w.check)
	w.mu.Unlock()
	return w
}

// check runs in a goroutine of its own (time.AfterFunc): it may wait for
// the close it starts.
func (w *idleWatch) check() {
	silent := time.Since(w.last())
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	if silent < w.d {
		w.t.Reset(w.d - silent)
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.mu.Unlock()
	w.onIdle()
}

func (w *idleWatch) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}

// closeIdle closes a connection whose peer was silent for the idle
// timeout with 1001: RFC 6455 section 7.4.1 gives 1008 to a message that
// breaks a policy, and an idle peer sent none; 1001 is the server going
// away from it.
const closeIdle = inspect.CloseGoingAway
