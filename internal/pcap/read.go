package pcap

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/wscope/wscope/inspect"
)

// DefaultMaxMessageSize bounds frames and messages when Options leaves
// MaxMessageSize zero.
const DefaultMaxMessageSize = 64 << 20

// Options tune Read.
type Options struct {
	// MaxMessageSize bounds the payload of one frame, one reassembled
	// message and one decompressed message; 0 means DefaultMaxMessageSize.
	// A frame announcing more is reported with an error event, and the
	// rest of its direction is not dissected (its end cannot be found
	// without reading it all); a larger message is dropped with an error
	// event.
	MaxMessageSize int64
}

// maxWarnings bounds how many distinct kinds of undecodable packet are
// remembered for the summary at the end.
const maxWarnings = 64

// reader is the state of one Read.
type reader struct {
	emit  func(*inspect.Event) error
	max   int64
	err   error // from emit: stops everything
	pk    packet
	seg   segment
	t0    time.Time
	now   time.Time // wall time of what is being reported
	conns map[flowKey]*conn
	ids   int
	flows int // TCP connections seen
	npk   int // packets read
	ev    inspect.Event
	atEnd bool // the capture has ended: flushing what is left

	// Undecodable packets: the first of each kind is reported at once,
	// the others counted and summed up at the end.
	warned map[string]int
	order  []string
}

// Read reads a pcap or pcapng capture from r, streaming, and calls emit for
// every WebSocket event found in it, in capture order:
//
//   - open, when a 101 answers a WebSocket upgrade request (on any port),
//     seen from the client: Role is client, Local the client's address and
//     Remote the server's;
//   - frame and msg, for every frame both ways and every data message it
//     completes, decompressed when permessage-deflate was negotiated;
//   - gap, when the capture lost bytes of a connection (the direction that
//     lost them is not dissected further);
//   - error, for a refused handshake, a frame or message over the limits,
//     a message that cannot be decompressed, an undecodable packet (Conn 0,
//     "packet N: ...") and a capture cut short;
//   - end, once per connection, when TCP closes or the capture ends.
//
// T is the packet's time since the first packet of the capture. Conn
// numbers the WebSocket connections from 1 in the order of their first
// event.
//
// The event and everything it points to are valid only during the call to
// emit: copy what you keep. An error from emit stops Read and is returned.
// Read returns an error when r is not a capture or the file is malformed
// in a way that leaves the rest unreadable; a file cut short inside its
// last packet is only reported with an error event.
func Read(r io.Reader, opts Options, emit func(*inspect.Event) error) error {
	src, err := openSource(r)
	if err != nil {
		return err
	}
	return newReader(opts, emit).run(src)
}

func newReader(opts Options, emit func(*inspect.Event) error) *reader {
	rd := &reader{
		emit:   emit,
		max:    cmp.Or(opts.MaxMessageSize, DefaultMaxMessageSize),
		conns:  make(map[flowKey]*conn),
		warned: make(map[string]int),
	}
	if rd.max < 0 {
		rd.max = DefaultMaxMessageSize
	}
	return rd
}

func (r *reader) run(src source) error {
	var cut *cutError
	for n := 0; ; n++ {
		err := src.next(&r.pk)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &cut) {
			r.ev = inspect.Event{Kind: inspect.KindError, Text: cut.Error()}
			r.send(nil)
			break
		}
		if err != nil {
			return err
		}
		r.npk++
		switch {
		case n == 0:
			r.t0, r.now = r.pk.ts, r.pk.ts
		case r.pk.ts.Before(r.now):
			// Times never go back: a packet stamped earlier than the one
			// before it (captures merged, a clock stepped) is taken at the
			// time reached.
		default:
			r.now = r.pk.ts
		}
		r.packet()
		if r.err != nil {
			return r.err
		}
		if n%8192 == 8191 {
			r.sweep()
		}
	}
	r.flush()
	if r.err == nil && r.ids == 0 {
		return &NoWebSocketError{Packets: r.npk, Flows: r.flows}
	}
	return r.err
}

// NoWebSocketError is a capture in which no WebSocket connection was
// found, as an empty HAR is one without WebSocket entries.
type NoWebSocketError struct{ Packets, Flows int }

func (e *NoWebSocketError) Error() string {
	return fmt.Sprintf("no WebSocket connection in the capture (%d packets, %d TCP connections, none upgraded)", e.Packets, e.Flows)
}

// packet handles the packet in r.pk.
func (r *reader) packet() {
	r.seg = segment{}
	switch err := decode(r.pk.link, r.pk.data, &r.seg).(type) {
	case nil:
		r.segment(&r.seg)
	case packetError:
		r.warn(string(err))
	}
}

// warn reports an undecodable packet, once per kind of problem.
func (r *reader) warn(text string) {
	n, seen := r.warned[text]
	if !seen && len(r.warned) >= maxWarnings {
		return
	}
	r.warned[text] = n + 1
	if seen {
		return
	}
	r.order = append(r.order, text)
	r.ev = inspect.Event{Kind: inspect.KindError, Text: fmt.Sprintf("packet %d: %s", r.pk.num, text)}
	r.send(nil)
}

// flush ends every connection still open when the capture ends, in the
// order of their ids, then sums up the undecodable packets.
func (r *reader) flush() {
	r.atEnd = true
	var open []*conn
	for _, c := range r.conns {
		if !c.closed {
			open = append(open, c)
		}
	}
	slices.SortFunc(open, func(a, b *conn) int {
		// Connections with an id first, in id order; then the others
		// (which may still report a refused or unanswered handshake) in
		// the order they started.
		switch {
		case a.ws.id != 0 && b.ws.id != 0:
			return cmp.Compare(a.ws.id, b.ws.id)
		case a.ws.id != 0:
			return -1
		case b.ws.id != 0:
			return 1
		}
		return a.first.Compare(b.first)
	})
	for _, c := range open {
		if r.err != nil {
			return
		}
		r.now = c.last
		tcp := ""
		if c.half[0].finSeen || c.half[1].finSeen {
			tcp = "fin"
		}
		r.finish(c, tcp)
	}
	for _, text := range r.order {
		if n := r.warned[text]; n > 1 && r.err == nil {
			r.ev = inspect.Event{Kind: inspect.KindError, Text: fmt.Sprintf("%d more packets skipped: %s", n-1, text)}
			r.send(nil)
		}
	}
}

// send emits r.ev for c (nil for the capture as a whole), with its time
// and connection id filled in, and reports whether reading goes on.
func (r *reader) send(c *conn) bool {
	if r.err != nil {
		return false
	}
	r.ev.T = r.now.Sub(r.t0)
	if c != nil {
		if c.ws.id == 0 {
			r.ids++
			c.ws.id = r.ids
		}
		r.ev.Conn = c.ws.id
	}
	r.err = r.emit(&r.ev)
	return r.err == nil
}
