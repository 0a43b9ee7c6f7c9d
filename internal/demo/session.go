package demo

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

const (
	// maxMessage bounds what a client may send the demo.
	maxMessage = 1 << 20
	// compressThreshold: with permessage-deflate, messages this long or
	// longer go compressed and shorter ones as they are, as servers
	// commonly do (RFC 7692 section 6.1 lets each message choose), so the
	// demo shows both.
	compressThreshold = 1024
)

// message is a data message the client sent.
type message struct {
	op      inspect.OpCode
	payload []byte
}

// session is one client's demo. Its goroutine (run) does every write, so
// the frames of a fragmented message are never interleaved with another
// message; the connection's reading goroutine hands messages over on in.
type session struct {
	srv     *Server
	id      int
	conn    *wire.Conn
	deflate bool // permessage-deflate was negotiated
	in      chan message
	quit    chan struct{} // closed when run returns
	// peerClosed is set when the client's close frame arrives: nothing
	// more is written after the close frame the connection answers with.
	peerClosed atomic.Bool

	ticks    int
	tickerOn bool
	closing  bool
}

// event is the connection's OnEvent: it passes the client's messages on.
func (ss *session) event(e *inspect.Event) {
	if e.Kind == inspect.KindFrame && e.Frame.Op == inspect.OpClose {
		ss.peerClosed.Store(true)
	}
	if e.Kind != inspect.KindMsg || e.Msg.Dir != inspect.ClientToServer {
		return
	}
	m := message{op: e.Msg.Op, payload: bytes.Clone(e.Msg.Payload)}
	select {
	case ss.in <- m:
	case <-ss.quit:
	}
}

// run plays the tour, ticks and answers the client until the connection
// ends.
func (ss *session) run() {
	defer close(ss.quit)
	opts := &ss.srv.opts
	tour := ss.tour()
	step := time.NewTimer(opts.Step)
	defer step.Stop()
	life := time.NewTimer(opts.MaxSession)
	defer life.Stop()
	var ticker *time.Ticker
	var tickC <-chan time.Time
	stop := ss.srv.stop
	for {
		select {
		case <-ss.conn.Done():
			if ticker != nil {
				ticker.Stop()
			}
			return
		case <-stop:
			stop = nil
			ss.close(inspect.CloseGoingAway, "the demo server is stopping")
		case <-life.C:
			ss.close(inspect.CloseGoingAway, "the demo session is over: "+opts.MaxSession.String())
		case <-step.C:
			if ss.closing {
				continue
			}
			tour[0]()
			tour = tour[1:]
			if ticker == nil && ss.tickerOn {
				ticker = time.NewTicker(opts.Tick)
				tickC = ticker.C
			}
			if len(tour) > 0 {
				step.Reset(opts.Step)
			} else if opts.OnTour != nil {
				opts.OnTour()
			}
		case <-tickC:
			if ss.tickerOn && !ss.closing {
				ss.tick()
			}
		case m := <-ss.in:
			if !ss.closing {
				ss.answer(m)
			}
		}
	}
}

// tour is the scripted part: one step per Options.Step.
func (ss *session) tour() []func() {
	return []func(){
		func() { ss.text(welcome) },
		func() {
			ss.tickerOn = true
			ss.tick()
		},
		func() { ss.fragments(tourFragments) },
		func() { ss.send(inspect.OpBinary, sampleBinary) },
		func() { ss.ping([]byte("are you there?")) },
		func() { ss.send(inspect.OpText, bigMessage()) },
		func() { ss.text(tourEnd) },
	}
}

func (ss *session) tick() {
	if ss.ticks >= ss.srv.opts.MaxTicks {
		return
	}
	ss.ticks++
	ss.send(inspect.OpText, tickMessage(ss.ticks, time.Now()))
	if ss.ticks == ss.srv.opts.MaxTicks {
		ss.text("the ticker stopped after " + strconv.Itoa(ss.ticks) + " ticks")
	}
}

// answer runs a command typed by the client, or echoes its message.
func (ss *session) answer(m message) {
	if m.op != inspect.OpText {
		ss.send(m.op, m.payload)
		return
	}
	line := strings.TrimSpace(string(m.payload))
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(word) {
	case "help":
		ss.text(help)
	case "ping":
		if rest == "" {
			rest = "ping from the demo server"
		}
		ss.ping([]byte(rest))
	case "fragment":
		if rest == "" {
			ss.fragments(tourFragments)
		} else {
			ss.fragments(thirds(rest))
		}
	case "binary":
		ss.send(inspect.OpBinary, sampleBinary)
	case "big":
		ss.send(inspect.OpText, bigMessage())
	case "ticker":
		switch strings.ToLower(rest) {
		case "on":
			ss.tickerOn = true
			ss.text("ticker on")
		case "off":
			ss.tickerOn = false
			ss.text("ticker off")
		default:
			ss.text("usage: ticker on|off")
		}
	case "close":
		code, reason, err := parseClose(rest)
		if err != "" {
			ss.text(err)
			return
		}
		ss.close(code, reason)
	default:
		ss.send(m.op, m.payload)
	}
}

// parseClose reads "[code [reason]]"; a problem comes back as a message
// for the client.
func parseClose(s string) (inspect.CloseCode, string, string) {
	if s == "" {
		return inspect.CloseNormal, "", ""
	}
	num, reason, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(num)
	code := inspect.CloseCode(n)
	if err != nil || n < 0 || n > 0xffff || !code.ValidOnWire() {
		return 0, "", "close: " + strconv.Quote(num) + " is not a close code that may be sent (try 1000, 1001, 1011, 3000-3999 or 4000-4999)"
	}
	reason = strings.TrimSpace(reason)
	for len(reason) > 123 { // a close frame holds 125 bytes (section 5.5)
		_, n := utf8.DecodeLastRuneInString(reason)
		reason = reason[:len(reason)-n]
	}
	return code, reason, ""
}

// thirds splits s into three pieces at character boundaries.
func thirds(s string) [][]byte {
	r := []rune(s)
	a, b := len(r)/3, 2*len(r)/3
	return [][]byte{[]byte(string(r[:a])), []byte(string(r[a:b])), []byte(string(r[b:]))}
}

// write runs one write of the session, bounded in time, unless either side
// started the close handshake. A failed write aborts the connection, whose
// Run then ends the session.
func (ss *session) write(f func() error) {
	if ss.closing || ss.peerClosed.Load() {
		return
	}
	nc := ss.conn.NetConn()
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	err := f()
	nc.SetWriteDeadline(time.Time{})
	if err != nil && err != wire.ErrClosing {
		ss.conn.Abort()
	}
}

func (ss *session) text(s string) { ss.send(inspect.OpText, []byte(s)) }

// send writes one data message in one frame: compressed when
// permessage-deflate was negotiated and the message is long enough, as it
// is otherwise.
func (ss *session) send(op inspect.OpCode, p []byte) {
	ss.write(func() error {
		if ss.deflate && len(p) < compressThreshold {
			// The connection would compress it: write the frame ourselves.
			return ss.conn.WriteFrame(wire.FrameSpec{Fin: true, Op: op, Payload: p})
		}
		return ss.conn.Send(op, p)
	})
}

// fragments writes one text message as one frame per piece (section 5.4):
// a text frame without FIN, then continuations, the last with FIN. They go
// uncompressed, so each piece reads as it is.
func (ss *session) fragments(pieces [][]byte) {
	ss.write(func() error {
		for i, p := range pieces {
			op := inspect.OpContinuation
			if i == 0 {
				op = inspect.OpText
			}
			if err := ss.conn.WriteFrame(wire.FrameSpec{Fin: i == len(pieces)-1, Op: op, Payload: p}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (ss *session) ping(p []byte) {
	if len(p) > 125 {
		p = p[:125]
	}
	ss.write(func() error { return ss.conn.Ping(p) })
}

// close starts the close handshake; the session goes on until the
// connection ends, writing nothing more.
func (ss *session) close(code inspect.CloseCode, reason string) {
	if ss.closing {
		return
	}
	ss.closing = true
	if err := ss.conn.Close(code, reason); err != nil && err != wire.ErrClosing {
		ss.conn.Abort()
	}
}
