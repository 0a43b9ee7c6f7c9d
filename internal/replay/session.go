package replay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// DefaultTimeout bounds the wait for each expected message and for the
// close.
const DefaultTimeout = 5 * time.Second

// settings are the options both sides share, checked.
type settings struct {
	timeout      time.Duration
	speed        float64 // 0: no delays
	unordered    bool
	strictFrames bool
	pings        bool
	matcher      *Matcher
	captures     []Capture
	decode       func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded
	maxMsg       int64
	onEvent      func(*inspect.Event)
}

// Options are what the client replay and the mock server share: how to
// walk the script, from either side.
type Options struct {
	// Timeout bounds the wait for each expected message and for the
	// close; zero means DefaultTimeout.
	Timeout time.Duration
	// Realtime follows the recorded gaps between our messages; Speed
	// scales them (2 is twice as fast) and implies Realtime. By default
	// messages are sent as soon as what precedes them has come.
	Realtime bool
	Speed    float64
	// Unordered lets the peer's messages come in any order: each one
	// received is matched against every expectation not met yet. Before
	// each message sent, those the recording had before it must have come.
	Unordered bool
	// StrictFrames also compares the frames each peer message came in:
	// count, opcodes, FIN, RSV bits and sizes (not RSV1 and sizes for a
	// message recorded compressed).
	StrictFrames bool
	// Pings sends the recorded pings and compares the peer's pings and
	// pongs too; by default they are ignored.
	Pings bool
	// JSON and Ignore choose the comparison, see MatchOptions.
	JSON   bool
	Ignore []string
	// Decode and IgnoreFields compare what a decoder reads, see
	// MatchOptions; Decode also reads the fields that Captures with a
	// Field take.
	Decode       func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded
	IgnoreFields []string
	// Captures take values from the peer's messages for later sends.
	Captures []Capture
	// MaxMessageSize bounds received frames and messages (see
	// wire.Config.MaxMessageSize).
	MaxMessageSize int64
	// OnEvent, when set, receives every event of every connection, both
	// ways, each connection's open event first (Event.Conn tells them
	// apart). The event is valid during the call; the mock server calls it
	// from many goroutines.
	OnEvent func(*inspect.Event)
}

func (o Options) settings() (settings, error) {
	s := settings{
		timeout: o.Timeout, speed: o.Speed, unordered: o.Unordered,
		strictFrames: o.StrictFrames, pings: o.Pings, captures: o.Captures, decode: o.Decode,
		maxMsg: o.MaxMessageSize, onEvent: o.OnEvent,
	}
	switch {
	case o.Timeout < 0:
		return s, fmt.Errorf("timeout %s must not be negative", o.Timeout)
	case o.Timeout == 0:
		s.timeout = DefaultTimeout
	}
	switch {
	case o.Speed < 0:
		return s, fmt.Errorf("speed %g must be positive", o.Speed)
	case o.Speed == 0 && o.Realtime:
		s.speed = 1
	}
	m, err := NewMatcher(MatchOptions{JSON: o.JSON, Ignore: o.Ignore, Decode: o.Decode, IgnoreFields: o.IgnoreFields})
	if err != nil {
		return s, err
	}
	s.matcher = m
	if _, err := newCaptureSet(o.Captures, s.peerDecoder(inspect.ServerToClient)); err != nil {
		return s, err
	}
	return s, nil
}

// peerDecoder reads the messages that peer sends; nil without a decoder.
func (s settings) peerDecoder(peer inspect.Direction) func(op inspect.OpCode, p []byte) []inspect.Decoded {
	if s.decode == nil {
		return nil
	}
	return func(op inspect.OpCode, p []byte) []inspect.Decoded { return s.decode(peer, op, p) }
}

// session replays one script over one connection, from one side.
type session struct {
	set        settings
	sc         *Script
	us, peer   inspect.Direction
	conn       *wire.Conn
	caps       *captureSet
	res        *Result
	start      time.Time
	onMismatch func(Mismatch)

	mu        sync.Mutex
	changed   chan struct{}
	inbox     []*received
	pending   []FrameInfo // frames of the peer's message in progress
	peerClose *inspect.Close
	ended     bool
	end       inspect.End
	recvN     int

	// Owned by the walking goroutine.
	dead     bool // the connection can no longer carry our messages
	starved  bool // an expectation timed out since the last send
	lastT    time.Duration
	lastWall time.Time
}

// received is a message of the peer, as it came.
type received struct {
	n       int // among the data messages received; 0 for pings and pongs
	op      inspect.OpCode
	payload []byte
	frames  []FrameInfo
}

func newSession(sc *Script, set settings, us inspect.Direction) *session {
	caps, _ := newCaptureSet(set.captures, set.peerDecoder(us.Reverse())) // checked by settings
	s := &session{
		set: set, sc: sc, us: us, peer: us.Reverse(), caps: caps,
		changed: make(chan struct{}), start: time.Now(),
	}
	s.res = &Result{Start: s.start}
	return s
}

// onEvent is wire's Config.OnEvent: it keeps what the peer sent.
func (s *session) onEvent(e *inspect.Event) {
	if s.set.onEvent != nil {
		s.set.onEvent(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case inspect.KindFrame:
		f := e.Frame
		if f == nil || f.Dir != s.peer {
			return
		}
		switch f.Op {
		case inspect.OpText, inspect.OpBinary, inspect.OpContinuation:
			s.pending = append(s.pending, FrameInfo{Fin: f.Fin, Rsv: f.Rsv, Op: f.Op, Len: f.Length})
		case inspect.OpPing, inspect.OpPong:
			if s.set.pings {
				s.inbox = append(s.inbox, &received{op: f.Op, payload: slices.Clone(f.Payload)})
			}
		case inspect.OpClose:
			if s.peerClose == nil {
				c := inspect.Close{Code: inspect.CloseNoStatus}
				if f.Close != nil {
					c = *f.Close
				}
				s.peerClose = &c
			}
		default:
			return
		}
	case inspect.KindMsg:
		m := e.Msg
		if m == nil || m.Dir != s.peer {
			return
		}
		s.recvN++
		p := slices.Clone(m.Payload)
		if p == nil {
			p = []byte{}
		}
		s.inbox = append(s.inbox, &received{n: s.recvN, op: m.Op, payload: p, frames: s.pending})
		s.pending = nil
	case inspect.KindEnd:
		s.ended = true
		if e.End != nil {
			s.end = *e.End
		}
	default:
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

type waitStatus uint8

const (
	gotMessage waitStatus = iota
	timedOut
	peerGone
	cancelled
)

// next takes the peer's next message, waiting until deadline.
func (s *session) next(ctx context.Context, deadline time.Time) (*received, waitStatus) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if len(s.inbox) > 0 {
			r := s.inbox[0]
			s.inbox[0] = nil
			s.inbox = s.inbox[1:]
			s.mu.Unlock()
			s.caps.observe(r.op, r.payload)
			return r, gotMessage
		}
		gone := s.peerClose != nil || s.ended
		ch := s.changed
		s.mu.Unlock()
		if gone {
			return nil, peerGone
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, timedOut
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, timedOut
		case <-ctx.Done():
			return nil, cancelled
		}
	}
}

// goneText says how the peer went away: "the server closed the connection
// (close 4000 Private Use \"bye\")" or "the connection ended: ...".
func (s *session) goneText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peerClose != nil {
		return fmt.Sprintf("the %s closed the connection (%s)", peerName(s.peer), closeText(*s.peerClose))
	}
	if s.end.Err != "" {
		return "the connection ended: " + s.end.Err
	}
	return "the connection ended"
}

func closeText(c inspect.Close) string {
	if c.Reason == "" {
		return "close " + c.Code.String()
	}
	return fmt.Sprintf("close %s %s", c.Code, quoteShort(c.Reason))
}

// preview describes a message on one line: "text {...}", "binary 12 bytes 0a0b…".
func preview(op inspect.OpCode, p []byte) string {
	switch {
	case op == inspect.OpText:
		if len(p) == 0 {
			return "text (empty)"
		}
		return "text " + shortPreview(p)
	case op == inspect.OpBinary || !utf8.Valid(p):
		h := fmt.Sprintf("%x", p[:min(len(p), 16)])
		if len(p) > 16 {
			h += "…"
		}
		return fmt.Sprintf("%s %d bytes %s", op, len(p), h)
	}
	return fmt.Sprintf("%s %s", op, quoteShort(string(p)))
}

func shortPreview(p []byte) string {
	const n = 100
	if len(p) <= n {
		return visible(string(p))
	}
	return visible(truncate(string(p), n)) + fmt.Sprintf(" (%d bytes)", len(p))
}

func (s *session) since() time.Duration { return time.Since(s.start) }

func (s *session) addStep(st Step) {
	st.At = s.since()
	if st.Mismatch != nil {
		s.res.Mismatches = append(s.res.Mismatches, *st.Mismatch)
		if s.onMismatch != nil {
			s.onMismatch(*st.Mismatch)
		}
	}
	s.res.Steps = append(s.res.Steps, st)
}

// run replays the script over conn, whose open event is open.
func (s *session) run(ctx context.Context, conn *wire.Conn, open *inspect.Open) (*Result, error) {
	s.conn = conn
	go conn.Run()
	stop := context.AfterFunc(ctx, func() { conn.Close(inspect.CloseGoingAway, "") })
	defer stop()
	s.lastT, s.lastWall = s.sc.Start, time.Now()

	s.handshake(open)
	err := s.walk(ctx)
	if err == nil {
		err = s.finish(ctx)
	}
	if errors.Is(err, errStopped) {
		conn.Close(inspect.CloseNormal, "")
		err = nil // the result says why
	}
	if err != nil {
		code := inspect.CloseGoingAway
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			code = inspect.CloseNormal
		}
		conn.Close(code, "")
	}
	if !conn.Wait(s.set.timeout + time.Second) {
		conn.Abort()
		<-conn.Done()
	}
	s.res.End = conn.End()
	s.mu.Lock()
	s.res.Received = s.recvN
	s.mu.Unlock()
	s.res.Duration = s.since()
	return s.res, err
}

// handshake checks the subprotocol the connection settled on.
func (s *session) handshake(open *inspect.Open) {
	st := Step{Kind: StepHandshake, Name: "handshake", T: s.sc.Start}
	want, got := s.sc.Subprotocol, ""
	if open != nil {
		got = open.Subprotocol
	}
	if want != got {
		show := func(p string) string {
			if p == "" {
				return "none"
			}
			return quoteShort(p)
		}
		m := &Mismatch{What: "handshake", T: s.sc.Start,
			Problem:  fmt.Sprintf("subprotocol differs: expected %s, got %s", show(want), show(got)),
			Expected: "subprotocol " + show(want), Got: "subprotocol " + show(got)}
		if s.us == inspect.ServerToClient && got == "" {
			m.Problem = fmt.Sprintf("the client did not offer the recorded subprotocol %s", show(want))
		}
		st.Mismatch = m
	}
	s.addStep(st)
}

// expectation is a recorded message of the peer, in unordered mode.
type expectation struct {
	m       *Message
	due     int // how many of our messages are sent before it must have come
	settled bool
}

// walk sends our messages and checks the peer's, in recorded order.
func (s *session) walk(ctx context.Context) error {
	var items []*Message
	for _, m := range s.sc.Items {
		if m.Op.IsControl() && !s.set.pings {
			continue
		}
		// Pongs of our side answer the peer's pings: wire sends those.
		if m.Dir == s.us && m.Op == inspect.OpPong {
			continue
		}
		items = append(items, m)
	}
	if !s.set.unordered {
		for _, m := range items {
			var err error
			if m.Dir == s.peer {
				err = s.expectNext(ctx, m)
			} else {
				err = s.send(ctx, m)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	var pool []*expectation
	var spares []*received
	point := 0
	for _, m := range items {
		if m.Dir == s.peer {
			pool = append(pool, &expectation{m: m, due: point})
		} else {
			point++
		}
	}
	point = 0
	for _, m := range items {
		if m.Dir == s.peer {
			continue
		}
		if err := s.settle(ctx, pool, &spares, point); err != nil {
			return err
		}
		if err := s.send(ctx, m); err != nil {
			return err
		}
		point++
	}
	if err := s.settle(ctx, pool, &spares, point); err != nil {
		return err
	}
	for _, r := range spares {
		s.unexpected(r)
	}
	return nil
}

// expectNext takes the peer's next message and compares it with m.
func (s *session) expectNext(ctx context.Context, m *Message) error {
	began := time.Now()
	deadline := began.Add(s.set.timeout)
	if s.starved {
		deadline = began
	}
	r, st := s.next(ctx, deadline)
	step := Step{Kind: StepExpect, Name: m.describe(), Index: m.Index, Dir: m.Dir, Op: m.Op, T: m.T}
	switch st {
	case cancelled:
		return ctx.Err()
	case gotMessage:
		step.Mismatch = s.compare(m, r)
	case timedOut:
		s.starved = true
		step.Mismatch = s.missing(m, fmt.Sprintf("expected %s not received within %s", m.name(), s.set.timeout))
	case peerGone:
		step.Mismatch = s.missing(m, fmt.Sprintf("expected %s, but %s", m.name(), s.goneText()))
	}
	step.Wait = time.Since(began)
	s.addStep(step)
	return nil
}

func (s *session) missing(m *Message, problem string) *Mismatch {
	return &Mismatch{What: m.name(), Index: m.Index, T: m.T, Problem: problem,
		Expected: preview(m.Op, m.Payload), Got: "nothing"}
}

// compare judges a received message against the recorded one; nil when
// they match.
func (s *session) compare(m *Message, r *received) *Mismatch {
	mm := &Mismatch{What: m.name(), Index: m.Index, T: m.T, Received: r.n,
		Expected: preview(m.Op, m.Payload), Got: preview(r.op, r.payload)}
	if ok, diff := s.set.matcher.MatchFrom(m.Dir, m.Op, m.Payload, r.op, r.payload); !ok {
		mm.Problem = m.name() + " differs"
		mm.Diff = diff
		return mm
	}
	if s.set.strictFrames && m.Frames != nil && !m.Op.IsControl() {
		if diff := frameDiff(m.Frames, r.frames, m.Deflated); diff != nil {
			mm.Problem = "frames of " + m.name() + " differ"
			mm.Diff = diff
			return mm
		}
	}
	return nil
}

// frameDiff compares frame layouts: count, opcode, FIN, RSV and size.
// A message recorded compressed is compared without RSV1 and sizes: the
// replay does not negotiate permessage-deflate.
func frameDiff(want, got []FrameInfo, deflated bool) []string {
	if deflated {
		want = slices.Clone(want)
		got = slices.Clone(got)
		for _, fs := range [][]FrameInfo{want, got} {
			for i := range fs {
				fs[i].Rsv &^= inspect.Rsv1
				fs[i].Len = 0
			}
		}
	}
	var out []string
	if len(want) != len(got) {
		out = append(out, fmt.Sprintf("frames: expected %d, got %d", len(want), len(got)))
	}
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(got):
			out = append(out, fmt.Sprintf("frame %d: missing (expected %s)", i+1, want[i]))
		case i >= len(want):
			out = append(out, fmt.Sprintf("frame %d: unexpected (got %s)", i+1, got[i]))
		case want[i] != got[i]:
			out = append(out, fmt.Sprintf("frame %d: expected %s, got %s", i+1, want[i], got[i]))
		}
	}
	return out
}

// settle waits, in unordered mode, until every expectation due by point
// has come: received messages are matched against all outstanding
// expectations, earliest first, so pushes may come early or interleave.
// At the timeout, each missing expectation is compared with a received
// message that matched nothing, if one is left, for a diff.
func (s *session) settle(ctx context.Context, pool []*expectation, spares *[]*received, point int) error {
	began := time.Now()
	deadline := began.Add(s.set.timeout)
	for {
		done := true
		for _, e := range pool {
			if e.due <= point && !e.settled {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		r, st := s.next(ctx, deadline)
		switch st {
		case cancelled:
			return ctx.Err()
		case gotMessage:
			var hit *expectation
			for _, e := range pool {
				if !e.settled && s.compare(e.m, r) == nil {
					hit = e
					break
				}
			}
			if hit == nil {
				*spares = append(*spares, r)
				continue
			}
			hit.settled = true
			s.addStep(Step{Kind: StepExpect, Name: hit.m.describe(), Index: hit.m.Index, Dir: hit.m.Dir, Op: hit.m.Op, T: hit.m.T, Wait: time.Since(began)})
			if hit.due <= point {
				deadline = time.Now().Add(s.set.timeout)
			}
		case timedOut, peerGone:
			why := fmt.Sprintf("not received within %s", s.set.timeout)
			if st == peerGone {
				why = "not received: " + s.goneText()
			}
			for _, e := range pool {
				if e.due > point || e.settled {
					continue
				}
				e.settled = true
				step := Step{Kind: StepExpect, Name: e.m.describe(), Index: e.m.Index, Dir: e.m.Dir, Op: e.m.Op, T: e.m.T, Wait: time.Since(began)}
				if i := slices.IndexFunc(*spares, func(r *received) bool { return r.op == e.m.Op }); i >= 0 {
					step.Mismatch = s.compare(e.m, (*spares)[i])
					*spares = slices.Delete(*spares, i, i+1)
				}
				if step.Mismatch == nil {
					step.Mismatch = s.missing(e.m, fmt.Sprintf("expected %s %s", e.m.name(), why))
				}
				s.addStep(step)
			}
			return nil
		}
	}
}

// unexpected reports a message of the peer the recording does not have.
func (s *session) unexpected(r *received) {
	what := "unexpected " + peerName(s.peer) + " " + r.op.String()
	if !r.op.IsControl() {
		what = "unexpected " + peerName(s.peer) + " message"
	}
	name := what
	if r.n > 0 {
		name = fmt.Sprintf("%s (received #%d)", what, r.n)
	}
	s.addStep(Step{Kind: StepUnexpected, Name: name, Dir: s.peer, Op: r.op,
		Mismatch: &Mismatch{What: what, Received: r.n, Problem: name, Expected: "nothing", Got: preview(r.op, r.payload)}})
}

// drain reports every message received and not yet taken as unexpected.
func (s *session) drain() {
	for {
		s.mu.Lock()
		if len(s.inbox) == 0 {
			s.mu.Unlock()
			return
		}
		r := s.inbox[0]
		s.inbox = s.inbox[1:]
		s.mu.Unlock()
		s.unexpected(r)
	}
}

// pace waits, when following the recorded timing, until the recorded gap
// before a message of ours (divided by the speed) has passed since our
// previous one.
func (s *session) pace(ctx context.Context, t time.Duration) error {
	if s.set.speed <= 0 {
		return nil
	}
	gap := t - s.lastT
	if gap <= 0 {
		return nil
	}
	wait := time.Until(s.lastWall.Add(time.Duration(float64(gap) / s.set.speed)))
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send sends one recorded message of ours, with captures substituted.
// An unset capture is an error that ends the replay; a send the
// connection refuses is a mismatch.
func (s *session) send(ctx context.Context, m *Message) error {
	step := Step{Kind: StepSend, Name: m.describe(), Index: m.Index, Dir: m.Dir, Op: m.Op, T: m.T}
	if s.dead {
		step.Skipped = "not sent: the connection is closed"
		s.addStep(step)
		return nil
	}
	p := m.Payload
	if m.Op == inspect.OpText {
		var err error
		if p, err = s.caps.expand(p); err != nil {
			var ue *UnsetCaptureError
			if !errors.As(err, &ue) {
				return fmt.Errorf("%s: %w", m.describe(), err)
			}
			// The step that needs the value fails; without it nothing
			// after it can be played as recorded.
			step.Mismatch = s.unsetCapture(m, ue)
			s.addStep(step)
			return errStopped
		}
	}
	if err := s.pace(ctx, m.T); err != nil {
		return err
	}
	err := s.write(m, p)
	s.lastT, s.lastWall = m.T, time.Now()
	s.starved = false
	if err != nil {
		s.dead = true
		s.mu.Lock()
		gone := s.peerClose != nil || s.ended
		s.mu.Unlock()
		problem := fmt.Sprintf("could not send %s: %v", m.name(), err)
		if gone {
			problem = fmt.Sprintf("could not send %s: %s", m.name(), s.goneText())
		}
		step.Mismatch = &Mismatch{What: m.name(), Index: m.Index, T: m.T, Problem: problem,
			Expected: "the connection open", Got: "closed"}
	} else if !m.Op.IsControl() {
		s.res.Sent++
	}
	s.addStep(step)
	return nil
}

// errStopped ends a replay at a mismatch that nothing after it can be
// played without.
var errStopped = errors.New("replay stopped at a mismatch")

// unsetCapture is the mismatch of a send whose capture had no value, with
// a hint when the recording has the value only in a later message.
func (s *session) unsetCapture(m *Message, ue *UnsetCaptureError) *Mismatch {
	mm := &Mismatch{What: m.name(), Index: m.Index, T: m.T,
		Problem:  ue.Error(),
		Expected: fmt.Sprintf("a value at %s in a message received before this send", ue.Where),
		Got:      "none",
	}
	d, _ := s.caps.declared(ue.Name)
	for _, later := range s.sc.Items {
		if later.Dir == s.peer && later.T > m.T && s.caps.holds(d, later.Op, later.Payload) {
			mm.Problem += fmt.Sprintf(" (the recording has it in %s, which came after this send: the recorded order is the cause; capture from an earlier message, or record again)", later.name())
			break
		}
	}
	return mm
}

// write puts a message on the wire, in the recorded frames when the
// recording has them and they still add up to the payload.
func (s *session) write(m *Message, p []byte) error {
	nc := s.conn.NetConn()
	nc.SetWriteDeadline(time.Now().Add(s.set.timeout))
	defer nc.SetWriteDeadline(time.Time{})
	switch {
	case m.Op == inspect.OpPing:
		return s.conn.Ping(p)
	case m.Op.IsControl():
		return s.conn.Pong(p)
	case reproducible(m, len(p)):
		for _, f := range m.Frames {
			chunk := p[:f.Len]
			p = p[f.Len:]
			if err := s.conn.WriteFrame(wire.FrameSpec{Fin: f.Fin, Op: f.Op, Payload: chunk}); err != nil {
				return err
			}
		}
		return nil
	}
	return s.conn.Send(m.Op, p)
}

// reproducible reports whether m's recorded frames make a valid
// fragmented message of n bytes.
func reproducible(m *Message, n int) bool {
	if len(m.Frames) < 2 || m.Deflated {
		return false
	}
	var sum uint64
	for i, f := range m.Frames {
		last := i == len(m.Frames)-1
		if f.Fin != last || f.Rsv != 0 || (i == 0) != (f.Op != inspect.OpContinuation) {
			return false
		}
		sum += f.Len
	}
	return m.Frames[0].Op == m.Op && sum == uint64(n)
}

// finish checks that the connection ends the way the recording did.
func (s *session) finish(ctx context.Context) error {
	e := s.sc.End
	us, peer := peerName(s.us), peerName(s.peer)
	step := Step{Kind: StepClose, Name: "close", T: e.T}
	began := time.Now()
	want := inspect.Close{Code: e.Code, Reason: e.Reason}
	fail := func(problem, expected, got string) {
		step.Mismatch = &Mismatch{What: "close", T: e.T, Problem: problem, Expected: expected, Got: got}
	}
	gotClose := func() (inspect.Close, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.peerClose == nil {
			return inspect.Close{}, false
		}
		return *s.peerClose, true
	}
	// waitPeer waits for the peer to close or drop, reporting what else
	// it sends meanwhile.
	waitPeer := func() (waitStatus, error) {
		deadline := time.Now().Add(s.set.timeout)
		for {
			r, st := s.next(ctx, deadline)
			switch st {
			case cancelled:
				return st, ctx.Err()
			case gotMessage:
				s.unexpected(r)
				continue
			}
			return st, nil
		}
	}

	switch {
	case !e.Known:
		s.drain()
		step.Skipped = "the recording does not say how the connection ended"
		s.conn.Close(inspect.CloseNormal, "")
	case e.Closer == peer:
		st, err := waitPeer()
		if err != nil {
			return err
		}
		wantText := fmt.Sprintf("%s by the %s", closeText(want), peer)
		switch c, ok := gotClose(); {
		case ok && c.Code != want.Code:
			fail(fmt.Sprintf("close code differs: expected %s, got %s", want.Code, c.Code), wantText, fmt.Sprintf("%s by the %s", closeText(c), peer))
		case ok:
		case st == timedOut:
			fail(fmt.Sprintf("expected the %s to close the connection (%s) within %s", peer, closeText(want), s.set.timeout), wantText, "the connection still open")
			s.conn.Close(inspect.CloseNormal, "")
		default:
			fail(fmt.Sprintf("expected the %s to close the connection (%s), but %s without a close frame", peer, closeText(want), s.goneText()), wantText, "no close frame")
		}
	case e.Closer == us:
		s.drain()
		wantText := fmt.Sprintf("%s by the %s, answered", closeText(want), us)
		if c, ok := gotClose(); ok {
			fail(fmt.Sprintf("the %s closed first (%s); the recording has the %s close (%s)", peer, closeText(c), us, closeText(want)), wantText, fmt.Sprintf("%s by the %s", closeText(c), peer))
			break
		}
		code := want.Code
		if code == inspect.CloseNoStatus {
			code = 0 // an empty close frame, as recorded
		}
		s.conn.Close(code, want.Reason)
		if !s.conn.Wait(s.set.timeout + time.Second) {
			s.conn.Abort()
		}
		<-s.conn.Done()
		s.drain()
		switch c, ok := gotClose(); {
		case !ok:
			fail(fmt.Sprintf("the close handshake did not complete: no close frame from the %s (%s)", peer, s.goneText()), wantText, "no answer")
		case e.Answered && c.Code != e.AnswerCode:
			fail(fmt.Sprintf("the %s answered the close with %s, recorded %s", peer, c.Code, e.AnswerCode), wantText, fmt.Sprintf("answered with %s", closeText(c)))
		}
	case e.Dropper == peer:
		st, err := waitPeer()
		if err != nil {
			return err
		}
		wantText := fmt.Sprintf("the %s drops the connection without a close frame", peer)
		if c, ok := gotClose(); ok {
			fail(fmt.Sprintf("expected the %s to drop the connection without a close frame, it closed with %s", peer, closeText(c)), wantText, closeText(c))
		} else if st == timedOut {
			fail(fmt.Sprintf("expected the %s to drop the connection within %s", peer, s.set.timeout), wantText, "the connection still open")
		}
		s.conn.Abort()
	default:
		// The recording ended without a close handshake from our side (or
		// from an unknown one): do the same.
		s.drain()
		if c, ok := gotClose(); ok {
			fail(fmt.Sprintf("the %s closed the connection (%s); the recording has no close frame", peer, closeText(c)), "no close frame", closeText(c))
		}
		s.conn.Abort()
	}
	step.Wait = time.Since(began)
	s.addStep(step)
	return nil
}
