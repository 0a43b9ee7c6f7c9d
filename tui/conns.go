package tui

import (
	"fmt"
	"sort"
	"time"

	"github.com/wscope/wscope/inspect"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateConnecting connState = iota
	stateOpen
	stateClosing // a close frame crossed
	stateClosed  // the end event came
)

// maxPendingPings bounds the pings of one connection waiting for a pong.
const maxPendingPings = 64

// connInfo is what the status bar and the connection list know about one
// connection, kept up to date as events arrive.
type connInfo struct {
	id     int
	open   *inspect.Open
	state  connState
	end    *inspect.End
	err    string   // the last error event
	frames [3]int64 // by direction
	bytes  [3]int64 // on the wire, headers included
	rtt    time.Duration
	hasRTT bool
	pings  map[pingKey]time.Duration
	frags  inspect.Fragments
	last   time.Duration
}

type pingKey struct {
	dir     inspect.Direction
	payload string
}

// conns tracks every connection seen.
type conns struct {
	byID  map[int]*connInfo
	ids   []int // sorted
	cache *connInfo
}

func (cs *conns) get(id int) *connInfo {
	if c := cs.cache; c != nil && c.id == id {
		return c
	}
	c := cs.byID[id]
	if c == nil {
		if cs.byID == nil {
			cs.byID = map[int]*connInfo{}
		}
		c = &connInfo{id: id}
		cs.byID[id] = c
		i := sort.SearchInts(cs.ids, id)
		cs.ids = append(cs.ids, 0)
		copy(cs.ids[i+1:], cs.ids[i:])
		cs.ids[i] = id
	}
	cs.cache = c
	return c
}

// add updates the connection of e, and tells frame row r where it stands
// in a fragmented message and what its payload holds.
func (c *connInfo) add(e *inspect.Event, r *row) {
	c.last = e.T
	switch e.Kind {
	case inspect.KindOpen:
		c.open = e.Open
		if c.state < stateOpen {
			c.state = stateOpen
		}
	case inspect.KindEnd:
		c.state, c.end = stateClosed, e.End
	case inspect.KindError:
		c.err = e.Text
	case inspect.KindFrame:
		f := e.Frame
		d := f.Dir & 3
		c.frames[d]++
		c.bytes[d] += int64(r.wireLen())
		ct, part := c.frags.Frame(f)
		r.group = part
		r.setContent(ct)
		switch f.Op {
		case inspect.OpClose:
			if c.state < stateClosing {
				c.state = stateClosing
			}
		case inspect.OpPing:
			if c.pings == nil {
				c.pings = map[pingKey]time.Duration{}
			}
			if len(c.pings) < maxPendingPings {
				c.pings[pingKey{f.Dir, string(f.Payload)}] = e.T
			}
		case inspect.OpPong:
			k := pingKey{f.Dir.Reverse(), string(f.Payload)}
			if t, ok := c.pings[k]; ok {
				delete(c.pings, k)
				c.rtt, c.hasRTT = e.T-t, true
			}
		}
	}
}

// failed reports whether the connection never opened: its dial or its
// handshake failed, or the server refused it.
func (c *connInfo) failed() bool { return c.state == stateConnecting && c.err != "" }

// total sums the frame and byte counters of every connection, for the
// "all" view.
func (cs *conns) total() (frames, bytes [3]int64) {
	for _, id := range cs.ids {
		c := cs.byID[id]
		for d := range frames {
			frames[d] += c.frames[d]
			bytes[d] += c.bytes[d]
		}
	}
	return
}

// connCounts are the connections by where they stand: every one seen is
// in exactly one count.
type connCounts struct {
	connecting, open, closed, failed int
}

func (cs *conns) counts() connCounts {
	var n connCounts
	for _, id := range cs.ids {
		switch c := cs.byID[id]; {
		case c.failed():
			n.failed++
		case c.state == stateConnecting:
			n.connecting++
		case c.state == stateClosed:
			n.closed++
		default:
			n.open++
		}
	}
	return n
}

// String says how many connections there were and what became of them:
// "8 connections: 1 open, 1 closed, 6 failed". Only the open count is
// given when it is zero.
func (n connCounts) String() string {
	total := n.connecting + n.open + n.closed + n.failed
	s := fmt.Sprintf("%d connections: %d open", total, n.open)
	if total == 1 {
		s = fmt.Sprintf("1 connection: %d open", n.open)
	}
	for _, p := range []struct {
		n    int
		what string
	}{{n.connecting, "connecting"}, {n.closed, "closed"}, {n.failed, "failed"}} {
		if p.n > 0 {
			s += fmt.Sprintf(", %d %s", p.n, p.what)
		}
	}
	return s
}
