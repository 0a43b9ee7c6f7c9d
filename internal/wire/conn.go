package wire

import (
	"bufio"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wscope/wscope/inspect"
)

// DefaultMaxMessageSize is the default bound on frames and messages.
const DefaultMaxMessageSize = 64 << 20

// DefaultMaxMessageFrames is the default bound on the frames of one
// message: enough for any real sender (Autobahn's largest case sends 65,536),
// while 50 million empty continuations no longer keep a peer busy.
const DefaultMaxMessageFrames = 1 << 20

// DefaultCloseTimeout bounds the wait for the peer's side of the close
// handshake.
const DefaultCloseTimeout = 5 * time.Second

const bufSize = 64 << 10

// smallBufSize is the read buffer a PoolBuffers connection keeps: a
// silent peer's close frame, a ping or a short message fits.
const smallBufSize = 512

// Config is what a Conn does with what it sees. The zero value is usable.
type Config struct {
	// ID is the connection id carried by every event.
	ID int
	// Start is the session clock's origin; event times are offsets from it.
	// Zero means the moment the connection opened.
	Start time.Time
	// MaxMessageSize bounds each frame and each reassembled message; a peer
	// that announces more is closed with 1009 before anything is allocated.
	// Zero means DefaultMaxMessageSize; negative means no limit.
	MaxMessageSize int64
	// MaxMessageFrames bounds the frames of each message the peer sends;
	// past it the connection is closed with 1009. Zero means
	// DefaultMaxMessageFrames; negative means no limit.
	MaxMessageFrames int
	// NoAutoPong stops the automatic answer to pings.
	NoAutoPong bool
	// Strict fails the connection at the peer's first violation of RFC
	// 6455 (1002; 1007 for invalid UTF-8, at the first fragment that
	// cannot be valid) instead of only reporting and counting it.
	Strict bool
	// CloseTimeout bounds the silence from the peer once the close
	// handshake started (waiting for its close frame and its TCP close);
	// while replies still arrive the wait goes on, up to ten times
	// CloseTimeout. Zero means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// FragmentSize splits outgoing data messages into frames of at most
	// this many bytes; zero sends each message as one frame.
	FragmentSize int
	// OnEvent receives every event: frames and messages both ways, and the
	// end, which is the last. It is called from the reading goroutine and
	// from writers, so it must be safe for concurrent use. The event and
	// everything it points to are valid only during the call. It may write
	// to the connection when handling an event of the receiving direction,
	// never one of the sending direction. A sent frame is reported once
	// its bytes have been handed to the socket, never before.
	OnEvent func(*inspect.Event)
	// OmitSent stops events for the data we send: for outputs that show
	// only what the peer sent, it saves the cost of checking our own
	// frames. Frame numbers are the same either way.
	OmitSent bool
	// OnIdle is called by the reading goroutine when it has decoded every
	// byte received so far: the moment to flush buffered output.
	OnIdle func()
	// WriteTimeout, when set, bounds every write to the peer: a peer that
	// takes nothing for that long is dropped (TCP closed, no close frame),
	// so that a server sending to many clients is not held up by one.
	WriteTimeout time.Duration
	// BufferSize is the size of the read buffer and of the write buffer,
	// each; zero means 64 KiB. A client moving bulk data gains from more
	// (fewer system calls).
	BufferSize int
	// PoolBuffers holds large buffers only while they are needed: a
	// connection reads through a small buffer of its own (512 bytes)
	// while its peer is silent or sends a frame at a time, through one
	// from a pool (64 KiB) while several frames come at once, and holds a
	// write buffer (from a pool too) only while it has something to send;
	// BufferSize is ignored. A server holding thousands of mostly idle
	// clients needs it. Bulk input costs a copy of 512 bytes per burst.
	PoolBuffers bool
	// IdleTimeout, when set, closes the connection with 1001 once the peer
	// has sent nothing (not a byte: a pong counts) for that long. A Relay
	// closes both sides once neither has sent anything.
	IdleTimeout time.Duration
}

// Errors returned by the send API.
var (
	ErrClosing     = errors.New("connection is closing: the close frame was already sent")
	ErrClosed      = errors.New("connection is closed")
	ErrControlSize = errors.New("control frame payload is longer than 125 bytes")
	ErrNotDataOp   = errors.New("opcode is not text or binary")
)

// Conn is one live WebSocket connection seen from one side.
type Conn struct {
	cfg    Config
	nc     net.Conn
	role   inspect.Role
	start  time.Time
	rdir   inspect.Direction // what we receive
	wdir   inspect.Direction // what we send
	track  *inspect.Tracker
	events eventSink

	// Read side, owned by Run.
	dec    *inspect.Decoder
	br     *bufio.Reader // the decoder's
	small  *bufio.Reader // PoolBuffers: the connection's own
	rframe inspect.Frame
	revent inspect.Event

	// The reading goroutine writes the fields above for every frame, a
	// writer the ones below: on one cache line, each write would steal
	// the line from the other core.
	_ [64]byte

	// Write side, guarded by wmu: gobwas has no write locking, and the
	// automatic pong must not interleave with the user's frames.
	wmu sync.Mutex
	// The reading goroutine never waits for wmu: a writer blocked on a
	// peer that stops reading while it writes to us would wait for our
	// reader forever. Its pong waits here for whoever holds wmu next.
	pmu sync.Mutex
	// pongPending is read without pmu by every unlock: a ping is rare,
	// a lock per frame sent is not free.
	pongPending atomic.Bool
	pong        []byte

	bw      *bufio.Writer
	deflate *inspect.Deflater // permessage-deflate was negotiated
	sent    sentFrames
	wframe  inspect.Frame
	wevent  inspect.Event
	hdr     []byte
	rng     *rand.ChaCha8
	ended   bool // Run is done: nothing more is written or reported

	stalled   atomic.Bool // a write ran out of WriteTimeout
	closeSent atomic.Bool
	// closeBy, once the close handshake started, is the latest moment
	// (unix nanoseconds) the read deadline may be pushed to: the peer may
	// take CloseTimeout of silence, and longer only while data still flows.
	closeBy  atomic.Int64
	lastRead atomic.Int64 // unix nanoseconds of the last read that brought bytes
	done     chan struct{}
	end      inspect.End
}

// withDefaults fills in what the zero values of c mean.
func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = time.Now()
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxMessageFrames == 0 {
		c.MaxMessageFrames = DefaultMaxMessageFrames
	}
	if c.BufferSize <= 0 {
		c.BufferSize = bufSize
	}
	return c
}

// trackerOptions is what the tracker of a connection seen as role needs
// to know of c: whose frames are judged, and their bounds.
func (c Config) trackerOptions(peer inspect.Direction) inspect.TrackerOptions {
	o := inspect.TrackerOptions{Peer: peer, Strict: c.Strict}
	if c.MaxMessageSize > 0 {
		o.MaxMessageSize = uint64(c.MaxMessageSize)
	}
	if c.MaxMessageFrames > 0 {
		o.MaxFrames = c.MaxMessageFrames
	}
	return o
}

func newConn(nc net.Conn, br *bufio.Reader, role inspect.Role, cfg Config) *Conn {
	cfg = cfg.withDefaults()
	c := &Conn{
		cfg:   cfg,
		nc:    nc,
		role:  role,
		start: cfg.Start,
		done:  make(chan struct{}),
	}
	c.events.onEvent = cfg.OnEvent
	c.lastRead.Store(time.Now().UnixNano())
	if role == inspect.RoleClient {
		c.rdir, c.wdir = inspect.ServerToClient, inspect.ClientToServer
		var seed [32]byte
		crand.Read(seed[:])
		// Mask keys must be unpredictable (section 5.3); ChaCha8 is a CSPRNG
		// and costs nanoseconds per frame.
		c.rng = rand.NewChaCha8(seed)
	} else {
		c.rdir, c.wdir = inspect.ClientToServer, inspect.ServerToClient
	}
	tc, ok := nc.(*teeConn)
	if !ok {
		tc = &teeConn{Conn: nc}
		c.nc = tc
	}
	tc.onRead = c.readProgress
	if cfg.WriteTimeout > 0 {
		tc.writeTimeout, tc.onStall = cfg.WriteTimeout, c.stall
	}
	switch {
	case br == nil && cfg.PoolBuffers:
		br = pooledReader(tc)
	case br == nil:
		br = bufio.NewReaderSize(tc, cfg.BufferSize)
	case cfg.PoolBuffers:
		// Accept's, from the pool.
	default:
		// It holds what came behind the handshake: kept, under one of
		// the size asked for (it returns itself when it is as large).
		br = bufio.NewReaderSize(br, cfg.BufferSize)
	}
	c.br = br
	if cfg.PoolBuffers {
		c.small = bufio.NewReaderSize(tc, smallBufSize)
	}
	c.dec = inspect.NewDecoder(br, c.rdir)
	if cfg.MaxMessageSize > 0 {
		c.dec.MaxFrameSize = uint64(cfg.MaxMessageSize)
	}
	c.track = inspect.NewTracker(cfg.trackerOptions(c.rdir))
	if cfg.Strict {
		c.dec.Watch = c.track.Watch // fail fast, inside a frame too
	}
	c.sent = sentFrames{c: c, nc: c.nc}
	if !cfg.PoolBuffers {
		c.bw = bufio.NewWriterSize(&c.sent, cfg.BufferSize)
	}
	c.revent.Conn, c.wevent.Conn = cfg.ID, cfg.ID
	return c
}

// ID returns the connection id.
func (c *Conn) ID() int { return c.cfg.ID }

// LastRead returns when bytes last arrived from the peer (when the
// connection opened, if none have): the peer has been silent since.
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Done is closed when Run has returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// End returns how the connection ended; valid after Done is closed.
func (c *Conn) End() inspect.End { return c.end }

func (c *Conn) since() time.Duration { return time.Since(c.start) }

// emit reports e. Its time never goes back: frames that came in one read
// share that read's time, and what was sent while handling them was
// stamped later, so a later one of them is reported no earlier than that.
func (c *Conn) emit(e *inspect.Event) { c.events.emit(e) }

// eventSink hands events to OnEvent with times that never go back, though
// several goroutines stamp and report them.
type eventSink struct {
	onEvent func(*inspect.Event)
	lastT   atomic.Int64 // the latest event time reported
}

func (s *eventSink) emit(e *inspect.Event) {
	if s.onEvent == nil {
		return
	}
	for {
		last := s.lastT.Load()
		if int64(e.T) <= last {
			e.T = time.Duration(last)
			break
		}
		if s.lastT.CompareAndSwap(last, int64(e.T)) {
			break
		}
	}
	s.onEvent(e)
}

// waitDone blocks until done is closed or d passes.
func waitDone(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Run reads frames until the connection ends, then closes it, emits the
// end event and returns how it ended. Call it once.
func (c *Conn) Run() inspect.End {
	defer close(c.done)
	idle := watchIdle(c.cfg.IdleTimeout, c.LastRead, c.closeIdle)
	tcp, err := c.readLoop()
	idle.stop()
	c.nc.Close()
	if c.cfg.PoolBuffers && c.br != c.small {
		releaseReader(c.br)
	}
	// Under the write lock: no sent frame is reported after the end, and
	// nothing is written once it is decided.
	c.wmu.Lock()
	c.ended = true
	c.sent.drop()
	if c.cfg.PoolBuffers && c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
	c.end = c.track.End(tcp, err)
	c.emit(&inspect.Event{T: c.since(), Kind: inspect.KindEnd, Conn: c.cfg.ID, End: &c.end})
	c.wmu.Unlock()
	return c.end
}

func (c *Conn) readLoop() (tcp string, err error) {
	f := &c.rframe
	// Frames that came with the handshake are buffered already: they are
	// stamped now, not at zero, so they never precede the open event.
	c.revent.T = c.since()
	for {
		fresh := c.br.Buffered() == 0
		if fresh {
			c.idle()
		}
		// The peer's silence counts from now, not from before our own
		// output held the reader up.
		c.extendClose()
		if c.cfg.PoolBuffers {
			c.pickReader(fresh)
		}
		err := c.dec.Next(f)
		if fresh {
			// Frames that came in one read arrived together: one clock
			// reading per read, not per frame, keeps the hot path cheap.
			c.revent.T = c.since()
		}
		if err != nil {
			if c.cutFrame(f, err) {
				continue
			}
			return c.readFailed(f, err)
		}
		st := c.track.Frame(f)
		c.revent.Kind, c.revent.Frame, c.revent.Msg = inspect.KindFrame, f, nil
		c.emit(&c.revent)
		if st.Fail != 0 {
			// Before the message reaches anyone: nothing acts on what
			// failed the connection.
			c.fail(st.Fail, st.FailWhy)
		}
		if st.Msg != nil {
			c.revent.Kind, c.revent.Frame, c.revent.Msg = inspect.KindMsg, nil, st.Msg
			c.emit(&c.revent)
			continue
		}
		switch f.Op {
		case inspect.OpPing:
			// A ping too long to be valid gets no pong that would be
			// invalid too (section 5.5).
			if !c.cfg.NoAutoPong && !c.closeSent.Load() && len(f.Payload) <= 125 {
				c.queuePong(f.Payload)
			}
		case inspect.OpClose:
			if st.Answer {
				c.sendClose(st.AnswerCode, "")
			}
			if c.role == inspect.RoleServer && c.closeSent.Load() {
				// Both close frames crossed: the server drops TCP first
				// (section 7.1.1).
				return "local", nil
			}
			// The client waits for the server to close TCP (section
			// 7.1.1), bounded.
			c.armClose()
		}
	}
}

// cutFrame handles a frame the decoder cut under Strict (its text could
// not be valid): reported, and the connection failed with 1007. It
// reports whether err was that.
func (c *Conn) cutFrame(f *inspect.Frame, err error) bool {
	var cut *inspect.CutError
	if !errors.As(err, &cut) {
		return false
	}
	st := c.track.Cut(f)
	c.revent.Kind, c.revent.Frame, c.revent.Msg = inspect.KindFrame, f, nil
	c.emit(&c.revent)
	c.fail(st.Fail, st.FailWhy)
	return true
}

// idle flushes what was written while handling received frames (echoes,
// pongs) and tells the owner the input is drained. When a writer holds the
// lock, that writer flushes instead.
func (c *Conn) idle() {
	if c.wmu.TryLock() {
		if c.bw != nil && c.bw.Buffered() > 0 {
			c.flush()
		}
		c.unlock()
	}
	if c.cfg.OnIdle != nil {
		c.cfg.OnIdle()
	}
}

// queuePong answers a ping (section 5.5.2). Only the latest ping needs an
// answer (section 5.5.3), so a pong still waiting is replaced.
func (c *Conn) queuePong(p []byte) {
	c.pmu.Lock()
	c.pong = append(c.pong[:0], p...)
	c.pongPending.Store(true)
	c.pmu.Unlock()
	if c.wmu.TryLock() {
		c.unlock()
	}
}

// unlock releases the write lock, sending a waiting pong first. A pong
// queued while it unlocks is seen after: queuePong marks it, then tries
// the lock, and unlock looks again once it let go.
func (c *Conn) unlock() {
	for {
		if c.pongPending.Load() {
			c.pmu.Lock()
			// Taken even when it can no longer be sent, or this would
			// loop.
			if c.pongPending.Swap(false) && !c.closeSent.Load() && !c.ended {
				c.writeFrame(inspect.Header{Fin: true, Op: inspect.OpPong, Length: uint64(len(c.pong))}, c.pong, MaskAuto)
				c.flush()
			}
			c.pmu.Unlock()
		}
		c.wmu.Unlock()
		if !c.pongPending.Load() || !c.wmu.TryLock() {
			return
		}
	}
}

// armClose bounds what is left of the connection once the close handshake
// has started: CloseTimeout of silence from the peer, extended while bytes
// still arrive (replies in flight), up to ten times CloseTimeout in all.
func (c *Conn) armClose() {
	now := time.Now()
	c.closeBy.CompareAndSwap(0, now.Add(10*c.cfg.CloseTimeout).UnixNano())
	c.nc.SetReadDeadline(now.Add(c.cfg.CloseTimeout))
}

// readProgress is called after every read that returned bytes.
func (c *Conn) readProgress() {
	c.lastRead.Store(time.Now().UnixNano())
	c.extendClose()
}

// extendClose gives the peer CloseTimeout of silence from now, once the
// close handshake has started, within its bound.
func (c *Conn) extendClose() {
	by := c.closeBy.Load()
	if by == 0 {
		return
	}
	d := time.Now().Add(c.cfg.CloseTimeout)
	if limit := time.Unix(0, by); d.After(limit) {
		d = limit
	}
	c.nc.SetReadDeadline(d)
}

// fail closes the connection from our side because of what the peer sent.
func (c *Conn) fail(code inspect.CloseCode, why string) {
	if len(why) > 123 {
		why = why[:120] + "..."
	}
	c.Close(code, why)
}

// closeIdle closes a connection whose peer has been silent for
// IdleTimeout, unless the close handshake has begun already.
func (c *Conn) closeIdle() {
	if !c.closeSent.Load() {
		c.Close(closeIdle, idleReason(c.cfg.IdleTimeout))
	}
}

// stall drops a peer that stopped taking what it is sent.
func (c *Conn) stall() {
	if !c.stalled.Swap(true) {
		c.nc.Close()
	}
}

func (c *Conn) readFailed(f *inspect.Frame, err error) (string, error) {
	if c.stalled.Load() {
		return "local", fmt.Errorf("dropped: the %s took nothing of what was sent for %s", peerName(c.rdir), c.cfg.WriteTimeout)
	}
	var tl *inspect.TooLargeError
	if errors.As(err, &tl) {
		// Report the header we refused, then close: its payload was never
		// read, so nothing after it can be trusted.
		st := c.track.Oversized(f, tl)
		c.revent.Kind, c.revent.Frame, c.revent.Msg = inspect.KindFrame, f, nil
		c.emit(&c.revent)
		c.fail(st.Fail, st.FailWhy)
		return "local", nil
	}
	tcp, err := classify(err)
	if tcp == "timeout" && c.closeSent.Load() {
		return tcp, fmt.Errorf("no close frame from the peer within %s", c.cfg.CloseTimeout)
	}
	return tcp, err
}

// classify names how the transport ended and rewrites the error so it
// reads well on its own.
func classify(err error) (tcp string, _ error) {
	var te *inspect.TruncatedError
	switch {
	case errors.Is(err, io.EOF):
		return "fin", errors.New("connection closed without a close frame")
	case errors.As(err, &te):
		return "fin", fmt.Errorf("connection closed mid-frame: %w", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout", err
	case errors.Is(err, syscall.ECONNRESET):
		return "reset", errors.New("connection reset by peer")
	case errors.Is(err, net.ErrClosed):
		return "local", errors.New("connection closed locally")
	}
	return "", err
}

func peerName(d inspect.Direction) string {
	if d == inspect.ClientToServer {
		return "client"
	}
	return "server"
}

// Close starts the close handshake with code and reason (code 0 sends an
// empty close frame) and returns at once; Run finishes when the peer
// answers or CloseTimeout passes. A reason too long for a control frame is
// refused before anything is sent. Calling it again does nothing.
func (c *Conn) Close(code inspect.CloseCode, reason string) error {
	if err := CheckClose(code, reason); err != nil {
		return err
	}
	// The write deadline frees a writer stuck on a peer that stopped
	// reading, so the close frame gets its turn.
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.CloseTimeout))
	c.armClose()
	return c.sendClose(code, reason)
}

func (c *Conn) sendClose(code inspect.CloseCode, reason string) error {
	if c.closeSent.Swap(true) {
		return nil
	}
	var body []byte
	if code != 0 {
		body = inspect.AppendClose(make([]byte, 0, 2+len(reason)), code, reason)
	}
	err := c.writeControl(inspect.OpClose, body)
	if c.role == inspect.RoleServer && c.track.CloseSent(c.rdir) {
		// Both frames crossed: the server drops TCP first (section 7.1.1).
		c.nc.Close()
	}
	return err
}

// Abort drops the connection without a close handshake.
func (c *Conn) Abort() { c.nc.Close() }

// Wait blocks until Run has returned or d passes.
func (c *Conn) Wait(d time.Duration) bool { return waitDone(c.done, d) }

// The buffers of connections with Config.PoolBuffers.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}
)

func pooledReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func releaseReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

// pickReader chooses the read buffer of a PoolBuffers connection for its
// next frame: its own small one once what came is decoded (the peer is
// silent, or sends a frame at a time), one from the pool while more than
// a frame came in a read. That one reads through the small one: what it
// holds first, then the socket directly.
func (c *Conn) pickReader(fresh bool) {
	switch {
	case fresh && c.br != c.small:
		releaseReader(c.br)
		c.br = c.small
	case !fresh && c.br == c.small:
		c.br = pooledReader(c.small)
	default:
		return
	}
	c.dec.SetReader(c.br)
	if fresh {
		c.dec.Shrink(smallBufSize)
	}
}
