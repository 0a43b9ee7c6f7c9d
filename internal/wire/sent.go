package wire

import (
	"fmt"
	"net"

	"github.com/wscope/wscope/inspect"
)

// sentFrames reports the frames we send as their bytes go to the socket:
// never a frame that was only buffered (a connection that dies first
// never shows it), and never after the peer could have answered it. It is
// the writer under Conn's bufio.Writer, so it sees every write the buffer
// makes; it is used under Conn.wmu only.
type sentFrames struct {
	c       *Conn
	nc      net.Conn
	written int64 // stream bytes handed to the buffer so far
	out     int64 // of those, bytes handed to the socket

	// cur is the frame being buffered now: its payload is the caller's,
	// valid until the frame is queued.
	cur    queuedFrame
	curP   []byte
	inCur  bool
	queue  []queuedFrame // buffered frames not reported yet, oldest first
	arena  []byte        // their payloads, copied
	failed bool          // a write failed: the rest is never sent
}

type queuedFrame struct {
	h          inspect.Header
	raw        [inspect.MaxHeaderSize]byte
	rawLen     int
	off, n     int   // the payload in arena
	start, end int64 // the frame's place in the stream
	track      bool  // fed to the tracker, not only numbered
	// frames counts the untracked frames of one entry: those that follow
	// one another are queued as one, since only their number is needed.
	frames int
}

// begin registers the frame about to be buffered.
func (s *sentFrames) begin(h inspect.Header, raw, p []byte, track bool) {
	s.cur = queuedFrame{h: h, start: s.written, end: s.written + int64(len(raw)+len(p)), track: track, frames: 1}
	if track {
		s.cur.rawLen = copy(s.cur.raw[:], raw)
	}
	s.curP, s.inCur = p, true
	s.written = s.cur.end
}

// end is called once the frame is in the buffer: if no write reported it
// yet, it waits in the queue, its payload copied.
func (s *sentFrames) end() {
	if !s.inCur {
		return
	}
	s.inCur = false
	q := &s.cur
	if !q.track {
		if n := len(s.queue); n > 0 && !s.queue[n-1].track {
			last := &s.queue[n-1]
			last.frames++
			last.end = q.end
			s.curP = nil
			return
		}
	} else {
		q.off, q.n = len(s.arena), len(s.curP)
		s.arena = append(s.arena, s.curP...)
	}
	s.queue = append(s.queue, *q)
	s.curP = nil
}

// Write is the buffer writing p to the socket: the frames whose bytes
// start in p are reported first, so the peer cannot answer a frame before
// it is shown.
func (s *sentFrames) Write(p []byte) (int, error) {
	upTo := s.out + int64(len(p))
	n := 0
	for ; n < len(s.queue); n++ {
		q := &s.queue[n] // not a copy: its raw header must not escape
		if q.start >= upTo {
			break
		}
		if !q.track {
			// A queued frame is whole in the buffer, so a run of them
			// goes out in this write entirely.
			s.c.track.Skip(q.frames)
			continue
		}
		s.c.reportSent(q.h, q.raw[:q.rawLen], s.arena[q.off:q.off+q.n], q.track)
	}
	s.shift(n)
	if s.inCur && len(s.queue) == 0 && s.cur.start < upTo {
		s.inCur = false
		s.c.reportSent(s.cur.h, s.cur.raw[:s.cur.rawLen], s.curP, s.cur.track)
		s.curP = nil
	}
	w, err := s.nc.Write(p)
	s.out += int64(w)
	if err != nil && !s.failed {
		s.failed = true
		s.drop()
		if s.c.cfg.OnEvent != nil {
			s.c.emit(&inspect.Event{T: s.c.since(), Kind: inspect.KindError, Conn: s.c.cfg.ID,
				Text: fmt.Sprintf("sending failed after %d of %d bytes: %v", w, len(p), err)})
		}
	}
	return w, err
}

// shift forgets the first n queued frames, reported.
func (s *sentFrames) shift(n int) {
	if n == 0 {
		return
	}
	s.queue = s.queue[:copy(s.queue, s.queue[n:])]
	if len(s.queue) == 0 {
		s.arena = s.arena[:0]
		if cap(s.arena) > 4*bufSize {
			s.arena = nil // do not keep a burst's buffer
		}
	}
}

// drop forgets the frames not reported: their bytes never reach the socket.
func (s *sentFrames) drop() {
	s.shift(len(s.queue))
	s.inCur, s.curP = false, nil
}
