package inspect

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// TrackerOptions say whose connection a Tracker follows and what it
// accepts.
type TrackerOptions struct {
	// Peer is the direction the tracked endpoint receives: ServerToClient
	// for a client, ClientToServer for a server. Zero means an observer of
	// both sides (a proxy, a capture), which answers nothing and counts
	// both sides' violations.
	Peer Direction
	// Strict fails the connection at the peer's first violation, as a
	// conforming endpoint must (RFC 6455 section 7.1.7). Otherwise
	// violations are reported and counted, and the connection goes on.
	Strict bool
	// MaxMessageSize bounds each message the peer sends (decompressed,
	// too); 0 means no limit.
	MaxMessageSize uint64
	// MaxFrames bounds the frames of each message the peer sends; 0 means
	// no limit.
	MaxFrames int
}

// Tracker follows one connection through its frames both ways, as a
// live endpoint, a relay or a capture sees them: it numbers the frames,
// checks each against RFC 6455 (and RFC 7692), reassembles and inflates
// messages, follows the close handshake, and decides how the connection
// ended. Whoever feeds it does the I/O and acts on what each Step says;
// none of them decides an ending on its own.
//
// The frames of one direction must be fed in order by one goroutine at a
// time; the two directions may be fed concurrently.
type Tracker struct {
	opts TrackerOptions
	asm  [2]Assembler // by direction: c2s, s2c
	seq  atomic.Uint64

	mu         sync.Mutex
	closed     [2]bool   // a close frame went this way: its sender's, or the observer's own
	closes     [2]Close  // the first one, by direction
	own        [2]*Close // the first close frame each side itself sent
	closer     string
	violations int
	first      *ViolationAt
	failure    string // why the tracked endpoint failed the connection
	ended      bool
}

// Step is what one frame means for the connection, and what the tracked
// endpoint must do about it.
type Step struct {
	// Msg is the data message the frame completed, valid until the next
	// frame of its direction. A message with violations is for the views
	// only: nothing should act on it (echo it, replay it).
	Msg *Message
	// Err is why the message the frame belonged to was dropped: a
	// *TooLargeError, *TooManyFramesError or *DecompressError.
	Err error
	// Fail, when not zero, is the code a conforming endpoint fails the
	// connection with because of the frame (section 7.1.7), and FailWhy
	// the reason to send: 1009 for a frame or message over the limits,
	// 1007 for a message that cannot be inflated, and under Strict 1002
	// (1007 for invalid UTF-8) for a violation. An observer is told only
	// of frames too large to be read.
	Fail    CloseCode
	FailWhy string
	// Answer is set when the frame is the peer's first close frame and
	// none has gone back yet: the endpoint answers with a close frame of
	// AnswerCode, 0 meaning an empty one (section 5.5.1).
	Answer     bool
	AnswerCode CloseCode
	// Closed is set when the frame completed the close handshake: a close
	// frame has now crossed each way.
	Closed bool
}

// NewTracker returns a Tracker for a connection just opened.
func NewTracker(o TrackerOptions) *Tracker {
	t := &Tracker{opts: o}
	for i := range t.asm {
		a := &t.asm[i]
		a.Dir = Direction(i + 1)
		if t.isPeer(a.Dir) {
			a.MaxMessageSize, a.MaxFrames = o.MaxMessageSize, o.MaxFrames
		}
	}
	return t
}

// SetDeflate says permessage-deflate was negotiated (RFC 7692): RSV1 is
// allowed on the first frame of a message sent in dir, and such messages
// are inflated, with the sender's context kept between them when
// takeover.
func (t *Tracker) SetDeflate(dir Direction, takeover bool) {
	a := &t.asm[dir-1]
	a.Deflate, a.Inflater = true, &Inflater{Takeover: takeover}
}

// isPeer reports whether frames sent in d are the peer's: judged, bounded
// and counted.
func (t *Tracker) isPeer(d Direction) bool { return t.opts.Peer == 0 || d == t.opts.Peer }

// Frame takes the next frame of its direction (f.Dir set): it numbers it
// (f.Seq), checks it (f.Violations, f.Close), and says what it means.
func (t *Tracker) Frame(f *Frame) Step {
	f.Seq = t.seq.Add(1)
	msg, err := t.asm[f.Dir-1].Add(f)
	st := Step{Msg: msg, Err: err}
	peer := t.isPeer(f.Dir)
	if peer && len(f.Violations) > 0 {
		t.count(f)
	}
	switch {
	case !peer || t.opts.Peer == 0:
	case err != nil:
		st.Fail, st.FailWhy = messageFailure(err)
	case t.opts.Strict && len(f.Violations) > 0:
		v := f.Violations[0]
		st.Fail, st.FailWhy = v.Rule.FailCode(), string(v.Rule)+": "+v.Message
	}
	if st.Fail != 0 {
		t.fail(st.FailWhy)
	}
	if f.Op == OpClose {
		t.sawClose(f, &st, false)
	}
	return st
}

// Injected takes a frame the observer itself sent on in direction f.Dir
// (a proxy closing both sides): numbered and checked like the peers', it
// counts as received by the side it went to, not as sent by the other.
func (t *Tracker) Injected(f *Frame) {
	f.Seq = t.seq.Add(1)
	t.asm[f.Dir-1].CheckHeader(f)
	checkClose(f)
	if f.Op == OpClose {
		t.sawClose(f, &Step{}, true)
	}
}

// Frames returns how many frames have been numbered.
func (t *Tracker) Frames() uint64 { return t.seq.Load() }

// Skip numbers n frames that are not fed to the tracker (data frames the
// endpoint sent that no output shows), so that frame numbers are the same
// whatever is shown.
func (t *Tracker) Skip(n int) { t.seq.Add(uint64(n)) }

// Oversized takes a frame whose header announced more than the limit, so
// its payload was not read and nothing after it can be: the header is
// checked (a 64-bit length with its top bit set is a violation before it
// is too large), and the connection fails, with 1002 under Strict when the
// header breaks a rule, else with 1009.
func (t *Tracker) Oversized(f *Frame, err *TooLargeError) Step {
	f.Seq = t.seq.Add(1)
	f.Payload = nil
	t.asm[f.Dir-1].CheckHeader(f)
	st := Step{Fail: CloseMessageTooBig, FailWhy: err.Error()}
	if t.isPeer(f.Dir) && len(f.Violations) > 0 {
		t.count(f)
		if t.opts.Strict {
			v := f.Violations[0]
			st.Fail, st.FailWhy = v.Rule.FailCode(), string(v.Rule)+": "+v.Message
		}
	}
	t.fail(st.FailWhy)
	return st
}

// Watch is a Decoder.Watch for the peer's frames under Strict: a frame
// whose text cannot be valid UTF-8 is cut at the first piece that shows
// it, before the rest arrives (Autobahn 6.4.3), and goes to Cut.
func (t *Tracker) Watch(f *Frame, off int, piece []byte) bool {
	return t.asm[f.Dir-1].TextPiece(f, off, piece)
}

// Cut takes a frame the decoder cut because Watch refused its text: it is
// numbered and checked, and the connection fails with 1007 (RFC 6455
// section 8.1); the message it belonged to is dropped.
func (t *Tracker) Cut(f *Frame) Step {
	f.Seq = t.seq.Add(1)
	a := &t.asm[f.Dir-1]
	a.CheckHeader(f)
	f.Violations = append(f.Violations, invalidText("text is not valid UTF-8: the frame was cut where that became certain"))
	a.Reset()
	t.count(f)
	st := Step{Fail: CloseInvalidPayload, FailWhy: string(RuleTextInvalidUTF8) + ": text is not valid UTF-8"}
	t.fail(st.FailWhy)
	return st
}

// messageFailure is how an endpoint fails a connection for a message it
// could not take: 1009 past a limit; 1007 for one that cannot be inflated
// (RFC 7692 section 8 leaves the code open: the payload is invalid data).
func messageFailure(err error) (CloseCode, string) {
	var (
		de *DecompressError
		le *InflateLimitError
	)
	switch {
	case errors.As(err, &le):
		return CloseMessageTooBig, "compressed message " + le.Error()
	case errors.As(err, &de):
		return CloseInvalidPayload, "cannot decompress message: " + de.Err.Error()
	}
	return CloseMessageTooBig, err.Error()
}

func (t *Tracker) count(f *Frame) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.violations += len(f.Violations)
	if t.first == nil {
		t.first = &ViolationAt{Violation: f.Violations[0], Dir: f.Dir, Seq: f.Seq}
	}
}

func (t *Tracker) fail(why string) {
	t.mu.Lock()
	if t.failure == "" {
		t.failure = why
	}
	t.mu.Unlock()
}

// sawClose follows the close handshake (section 7.1.2): the first close
// frame each way counts, and each side must have sent one of its own.
func (t *Tracker) sawClose(f *Frame, st *Step, injected bool) {
	i := f.Dir - 1
	c := Close{Code: CloseNoStatus}
	if f.Close != nil {
		c = *f.Close
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !injected && t.own[i] == nil {
		t.own[i] = &c
		if t.closer == "" {
			t.closer = sideName(f.Dir)
		}
	}
	if t.closed[i] {
		st.Closed = t.handshakeDone()
		return
	}
	t.closed[i], t.closes[i] = true, c
	st.Closed = t.handshakeDone()
	if injected || t.opts.Peer == 0 || f.Dir != t.opts.Peer || t.closed[f.Dir.Reverse()-1] {
		return
	}
	// Echo the peer's code (section 5.5.1). A body too short for a code,
	// or a code that may not be sent, is a protocol error.
	st.Answer, st.AnswerCode = true, 0
	switch {
	case len(f.Payload) == 1, f.Close != nil && !f.Close.Code.ValidOnWire():
		st.AnswerCode = CloseProtocolError
	case f.Close != nil:
		st.AnswerCode = f.Close.Code
	}
}

// handshakeDone reports whether the close handshake completed: each side
// sent a close frame and got one. t.mu must be held.
func (t *Tracker) handshakeDone() bool {
	return t.closed[0] && t.closed[1] && t.own[0] != nil && t.own[1] != nil
}

// MarkCloser records that the observer itself started the close handshake
// (a proxy closing both sides), when nobody did before it; the close frames
// it sends go to Injected.
func (t *Tracker) MarkCloser(who string) {
	t.mu.Lock()
	if t.closer == "" {
		t.closer = who
	}
	t.mu.Unlock()
}

// CloseSent reports whether a close frame has gone in direction d.
func (t *Tracker) CloseSent(d Direction) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed[d-1]
}

// OwesClose reports whether the side that sends in d was sent a close
// frame and has not answered it yet.
func (t *Tracker) OwesClose(d Direction) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed[d.Reverse()-1] && t.own[d-1] == nil
}

// Ended reports whether End was called: nothing more belongs to the
// connection.
func (t *Tracker) Ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// End decides how the connection ended, given how its transport ended
// (tcp, as End.TCP spells it) and the error that ended it, if any; once the
// close handshake has completed, how TCP went down no longer matters.
func (t *Tracker) End(tcp string, err error) End {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	e := End{TCP: tcp, Code: CloseAbnormal, Closer: t.closer, Clean: t.handshakeDone()}
	e.ClientClose, e.ServerClose = t.own[0], t.own[1]
	// Section 7.1.5: the code of the first close frame received. An
	// observer reports what the client received.
	recv := t.opts.Peer
	if recv == 0 {
		recv = ServerToClient
	}
	if t.closed[recv-1] {
		e.Code, e.Reason = t.closes[recv-1].Code, t.closes[recv-1].Reason
	}
	var why []string
	if t.failure != "" {
		why = append(why, t.failure)
	}
	if err != nil && !e.Clean {
		why = append(why, err.Error())
	}
	e.Err = strings.Join(why, "; ")
	e.Violations = t.violations
	if t.first != nil {
		v := *t.first
		e.FirstViolation = &v
	}
	return e
}

// sideName names the side that sends in d.
func sideName(d Direction) string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}
