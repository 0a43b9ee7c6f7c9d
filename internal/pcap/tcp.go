package pcap

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Bounds on what one connection may hold back while it waits for missing
// bytes. Past them the bytes are declared lost.
const (
	maxReorderBytes    = 4 << 20
	maxReorderSegments = 4096
)

// flowKey names a TCP connection whichever way a packet goes: a is the
// smaller endpoint.
type flowKey struct{ a, b netip.AddrPort }

func keyOf(src, dst netip.AddrPort) flowKey {
	if src.Compare(dst) < 0 {
		return flowKey{src, dst}
	}
	return flowKey{dst, src}
}

// conn is one TCP connection: its two byte streams and what is being
// dissected in them.
type conn struct {
	ep       [2]netip.AddrPort // ep[0] sent the first packet seen
	half     [2]half           // half[i] carries the bytes ep[i] sent
	first    time.Time         // wall time of its first packet
	last     time.Time         // wall time of its latest packet
	closed   bool              // TCP is done with it: later packets are ignored
	closedAt time.Time
	ignored  bool // not WebSocket: no data is kept
	ws       wsConn
}

// oooSegment is data that arrived ahead of a hole. Buffered segments never
// overlap: the first copy of every byte wins.
type oooSegment struct {
	seq  uint32
	data []byte
}

func (s oooSegment) end() uint32 { return s.seq + uint32(len(s.data)) }

// half is one direction of a connection, reassembled.
type half struct {
	started  bool
	synSeen  bool
	base     uint32 // sequence number of the first data byte
	next     uint32 // the next byte to deliver
	ooo      []oooSegment
	oooBytes int
	finSeen  bool
	finSeq   uint32 // sequence number the FIN takes
	ackValid bool
	ack      uint32 // the highest acknowledgment the peer sent for these bytes
	dead     bool   // bytes were lost: nothing more is delivered
}

// Sequence number comparisons, modulo 2^32 (RFC 793).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }

func (h *half) start(seq uint32) {
	h.started, h.base, h.next = true, seq, seq
}

// offset returns the position of the next byte in the stream, from 0.
func (h *half) offset() uint32 { return h.next - h.base }

// finished reports whether everything up to the FIN was delivered (or
// will never be).
func (h *half) finished() bool {
	return h.finSeen && (h.dead || h.next == h.finSeq)
}

func (h *half) dropBuffered() {
	clear(h.ooo)
	h.ooo, h.oooBytes = nil, 0
}

// segment handles one TCP segment.
func (r *reader) segment(s *segment) {
	key := keyOf(s.src, s.dst)
	c := r.conns[key]
	syn := s.flags&(flagSYN|flagACK) == flagSYN
	if c != nil && !c.closed && syn {
		// A new connection on the same addresses: the old one is over.
		if h := &c.half[c.index(s.src)]; h.synSeen && s.seq+1 != h.base {
			now := r.now
			r.now = c.last
			r.finish(c, "")
			r.now = now
		}
	}
	if c == nil || c.closed {
		if c != nil && !syn {
			return // a straggler of a finished connection
		}
		c = &conn{ep: [2]netip.AddrPort{s.src, s.dst}, first: r.now}
		c.ws.client = -1
		r.conns[key] = c
		r.flows++
	}
	c.last = r.now
	i := c.index(s.src)
	h, peer := &c.half[i], &c.half[1-i]
	if s.flags&flagRST != 0 {
		r.finish(c, "reset")
		return
	}
	seq := s.seq
	if s.flags&flagSYN != 0 {
		if !h.synSeen {
			h.synSeen = true
			if !h.started {
				h.start(seq + 1)
			}
		}
		seq++
	}
	if !h.started {
		// Captured mid-connection: the stream starts here.
		h.start(seq)
	}
	if s.flags&flagACK != 0 && (!peer.ackValid || seqGT(s.ack, peer.ack)) {
		peer.ackValid, peer.ack = true, s.ack
		r.checkLost(c, 1-i)
	}
	if !c.ignored && (len(s.payload) > 0 || s.missing > 0) {
		r.data(c, i, seq, s.payload)
	}
	if s.flags&flagFIN != 0 && !h.finSeen {
		h.finSeen, h.finSeq = true, seq+uint32(len(s.payload)+s.missing)
		r.checkLost(c, i)
	}
	if c.ignored {
		if h.finSeen && peer.finSeen {
			r.finish(c, "fin")
		}
		return
	}
	if h.finished() && peer.finished() {
		r.finish(c, "fin")
	}
}

// index returns which endpoint of c sent from src.
func (c *conn) index(src netip.AddrPort) int {
	if src == c.ep[0] {
		return 0
	}
	return 1
}

// data handles the payload of a segment that starts at seq.
func (r *reader) data(c *conn, i int, seq uint32, p []byte) {
	h := &c.half[i]
	if h.dead {
		return
	}
	if seqLT(seq, h.next) {
		if seqLE(seq+uint32(len(p)), h.next) {
			return // every byte was delivered already: the first copy won
		}
		p = p[h.next-seq:]
		seq = h.next
	}
	if seq != h.next {
		r.buffer(c, i, seq, p)
		return
	}
	h.next += uint32(len(p))
	r.deliver(c, i, p)
	// Segments that were waiting for this one.
	for len(h.ooo) > 0 && !h.dead && !c.ignored {
		s := h.ooo[0]
		if seqGT(s.seq, h.next) {
			break
		}
		h.ooo[0] = oooSegment{}
		h.ooo = h.ooo[1:]
		h.oooBytes -= len(s.data)
		if seqLE(s.end(), h.next) {
			continue
		}
		d := s.data[h.next-s.seq:]
		h.next += uint32(len(d))
		r.deliver(c, i, d)
	}
	if len(h.ooo) == 0 {
		h.ooo = nil // let the backing array go
	}
	r.checkLost(c, i)
}

// buffer keeps the bytes of p (starting at seq, after a hole) that no
// earlier segment brought.
func (r *reader) buffer(c *conn, i int, seq uint32, p []byte) {
	h := &c.half[i]
	if len(p) == 0 {
		r.checkLost(c, i)
		return
	}
	end := seq + uint32(len(p))
	cur := seq
	n := len(h.ooo)
	for j := 0; j < n && seqLT(cur, end); j++ {
		s := h.ooo[j]
		if seqLE(s.end(), cur) {
			continue
		}
		if seqGE(s.seq, end) {
			break
		}
		if seqLT(cur, s.seq) {
			h.ooo = append(h.ooo, oooSegment{cur, clone(p[cur-seq : s.seq-seq])})
			h.oooBytes += int(s.seq - cur)
		}
		cur = s.end()
	}
	if seqLT(cur, end) {
		h.ooo = append(h.ooo, oooSegment{cur, clone(p[cur-seq:])})
		h.oooBytes += int(end - cur)
	}
	if len(h.ooo) > n {
		next := h.next
		slices.SortFunc(h.ooo, func(a, b oooSegment) int {
			return cmp.Compare(int32(a.seq-next), int32(b.seq-next))
		})
	}
	if h.oooBytes > maxReorderBytes || len(h.ooo) > maxReorderSegments {
		r.lose(c, i, h.ooo[0].seq-h.next, fmt.Sprintf("more than %d bytes in %d segments arrived after the hole, up to packet %d", h.oooBytes, len(h.ooo), r.pk.num))
		return
	}
	r.checkLost(c, i)
}

func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// checkLost declares the hole at the head of half i lost once the peer has
// acknowledged past it: those bytes were received, so they will not be sent
// again, and the capture did not see them.
func (r *reader) checkLost(c *conn, i int) {
	h := &c.half[i]
	if h.dead || c.ignored || !h.ackValid || !seqGT(h.ack, h.next) {
		return
	}
	why := fmt.Sprintf("the receiver acknowledged them in packet %d", r.pk.num)
	switch {
	case len(h.ooo) > 0:
		r.lose(c, i, h.ooo[0].seq-h.next, why)
	case h.finSeen && seqGT(h.finSeq, h.next):
		r.lose(c, i, h.finSeq-h.next, why)
	}
}

// lose declares n bytes at the head of half i lost and stops its
// dissection.
func (r *reader) lose(c *conn, i int, n uint32, why string) {
	h := &c.half[i]
	off := h.offset()
	h.dead = true
	h.dropBuffered()
	r.gap(c, i, off, n, why)
}

// finish ends c: whatever is still missing is lost, and the WebSocket
// connection, if any, ends. tcp says how ("fin", "reset", or "" when the
// capture ended first).
func (r *reader) finish(c *conn, tcp string) {
	if c.closed {
		return
	}
	for i := range c.half {
		h := &c.half[i]
		if h.dead || c.ignored || !h.started {
			continue
		}
		var n uint32
		switch {
		case len(h.ooo) > 0:
			n = h.ooo[0].seq - h.next
		case h.finSeen && seqGT(h.finSeq, h.next):
			n = h.finSeq - h.next
		case h.ackValid && seqGT(h.ack, h.next):
			limit := h.ack
			if h.finSeen && seqGT(limit, h.finSeq) {
				limit = h.finSeq
			}
			n = limit - h.next
		}
		if n > 0 {
			why := fmt.Sprintf("the connection ended without them, packet %d", r.pk.num)
			if r.atEnd {
				why = "the capture ended without them"
			}
			r.lose(c, i, n, why)
		}
	}
	r.wsEnd(c, tcp)
	c.closed, c.closedAt = true, r.now
	c.half[0].dropBuffered()
	c.half[1].dropBuffered()
	c.ws.release()
}

// sweep forgets connections that cannot matter any more, so memory stays
// flat over long captures: finished ones after two minutes of capture time
// (late stragglers are ignored until then), and idle ones that are not
// WebSocket after ten minutes.
func (r *reader) sweep() {
	for k, c := range r.conns {
		switch {
		case c.closed && r.now.Sub(c.closedAt) > 2*time.Minute:
			delete(r.conns, k)
		case !c.closed && c.ws.phase != phaseWS && !c.ws.upgrade && r.now.Sub(c.last) > 10*time.Minute:
			delete(r.conns, k)
		}
	}
}
