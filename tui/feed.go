package tui

import (
	"bytes"
	"slices"
	"strconv"
	"sync"

	"github.com/wscope/wscope/inspect"
)

// DefaultFeedLimit bounds the events a Feed holds while the screen is
// busy.
const DefaultFeedLimit = 1 << 18

// Feed carries a live session's events to Run. Add copies each event, so
// it fits wire.Config.OnEvent (whose events are valid only during the
// call), is safe for concurrent use and never blocks: events wait in the
// Feed and leave in one batch whenever the TUI is ready for more, so
// batches grow with the load. If the TUI stops reading (a terminal that
// is not drawn), the oldest frame and message events beyond the limit are
// dropped and a note event says how many; open, end and error events are
// always kept.
type Feed struct {
	mu      sync.Mutex
	pending []*inspect.Event
	dropped int
	limit   int
	closed  bool
	wake    chan struct{}
	out     chan []*inspect.Event
	last    map[feedKey]*inspect.Frame
}

type feedKey struct {
	conn int
	dir  inspect.Direction
}

// NewFeed returns a Feed holding at most limit events between two reads
// (0 means DefaultFeedLimit). Close it when the session ends.
func NewFeed(limit int) *Feed {
	if limit <= 0 {
		limit = DefaultFeedLimit
	}
	f := &Feed{
		limit: limit,
		wake:  make(chan struct{}, 1),
		out:   make(chan []*inspect.Event),
		last:  map[feedKey]*inspect.Frame{},
	}
	go f.run()
	return f
}

// Events is the channel to pass to Run. It is closed after Close, once
// every event added before has been delivered.
func (f *Feed) Events() <-chan []*inspect.Event { return f.out }

// Add copies e for the TUI. Events added after Close are ignored.
func (f *Feed) Add(e *inspect.Event) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.pending = append(f.pending, f.clone(e))
	if len(f.pending) > f.limit {
		f.shed()
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Close ends the feed.
func (f *Feed) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *Feed) run() {
	for range f.wake {
		f.mu.Lock()
		b, dropped, closed := f.pending, f.dropped, f.closed
		f.pending, f.dropped = nil, 0
		f.mu.Unlock()
		if dropped > 0 {
			note := &inspect.Event{Kind: inspect.KindNote, Text: "the screen fell behind: " + strconv.Itoa(dropped) + " frame and message events were not shown"}
			if len(b) > 0 {
				note.T = b[0].T
			}
			b = append([]*inspect.Event{note}, b...)
		}
		if len(b) > 0 {
			f.out <- b
		}
		if closed {
			close(f.out)
			return
		}
	}
}

// shed drops the older half of the frame and message events waiting.
func (f *Feed) shed() {
	half := len(f.pending) / 2
	keep := f.pending[:0]
	for i, e := range f.pending {
		if i < half && (e.Kind == inspect.KindFrame || e.Kind == inspect.KindMsg) {
			f.dropped++
			continue
		}
		keep = append(keep, e)
	}
	clear(f.pending[len(keep):])
	f.pending = keep
}

// clone deep-copies e. A message made of one uncompressed frame shares the
// copy of that frame's payload: the bytes are kept once.
func (f *Feed) clone(e *inspect.Event) *inspect.Event {
	c := *e
	c.Open = e.Open.Clone()
	if fr := e.Frame; fr != nil {
		fc := *fr
		fc.Payload = slices.Clone(fr.Payload)
		fc.Raw = nil
		if !sameHeader(fr.Raw, fr.Header) {
			fc.Raw = slices.Clone(fr.Raw)
		}
		if fr.Close != nil {
			cl := *fr.Close
			fc.Close = &cl
		}
		fc.Violations = slices.Clone(fr.Violations)
		c.Frame = &fc
		f.last[feedKey{e.Conn, fr.Dir}] = &fc
	}
	if m := e.Msg; m != nil {
		mc := *m
		mc.Frames = slices.Clone(m.Frames)
		mc.Violations = slices.Clone(m.Violations)
		lf := f.last[feedKey{e.Conn, m.Dir}]
		if len(m.Frames) == 1 && !m.Deflated && lf != nil && lf.Seq == m.Frames[0] && bytes.Equal(lf.Payload, m.Payload) {
			mc.Payload = lf.Payload
		} else {
			mc.Payload = slices.Clone(m.Payload)
		}
		c.Msg = &mc
	}
	if en := e.End; en != nil {
		ec := *en
		c.End = &ec
		delete(f.last, feedKey{e.Conn, inspect.ClientToServer})
		delete(f.last, feedKey{e.Conn, inspect.ServerToClient})
	}
	return &c
}
