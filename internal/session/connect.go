package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// ConnectOptions are what `connect` (and `demo`) run: where to connect,
// what to send, and the shared session options.
type ConnectOptions struct {
	IO *IOStreams
	Options
	// Dial says how to reach the server: URL, headers, TLS, transport and
	// the extension offer (Options.Compress goes in Dial.Compress).
	Dial    wire.DialOptions
	Execute []string // -x: sent after connecting instead of stdin
	// Interactive sends Execute first, then stays: the TUI, the line mode
	// or stdin go on on the same connection.
	Interactive  bool
	Wait         time.Duration
	Location     bool // follow redirects
	MaxRedirects int

	Reconnect         bool
	ReconnectMaxDelay time.Duration
	ReconnectAttempts int
}

// client is one `connect` session: the connection in use (it changes
// with Reconnect), what observes it, and the input that feeds it.
type client struct {
	opts     *ConnectOptions
	ios      *IOStreams
	out      *sink
	lineMode bool
	start    time.Time
	cfg      wire.Config
	ref      *connRef
	hb       *heartbeat
	in, pre  *inputReader // what is sent (nil in the TUI); pre: -x before it, when the session stays
	observe  observers
	sio      *sioSession // the Socket.IO client's part, when the socketio decoder reads the connection
}

// Connect runs `wscope connect` and returns how it ended, as an exit
// status error (nil for 0).
func Connect(ctx context.Context, opts *ConnectOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if opts.Reconnect && (opts.ReconnectMaxDelay <= 0 || opts.ReconnectAttempts < 0) {
		return UsageErr("--reconnect-max-delay must be positive and --reconnect-attempts not negative")
	}
	opts.Dial.Compress = opts.Compress
	// -x alone sends and closes; -i, or a person at the terminal who did
	// not ask for -w, stays after it.
	stay := len(opts.Execute) == 0 || opts.Interactive || opts.IO.InTTY && opts.Wait == 0
	if opts.UseTUI(opts.IO) && stay {
		return connectTUI(ctx, opts)
	}
	lineMode := opts.IO.Interactive() && stay
	ios := opts.IO
	var ed *lineEditor
	if lineMode {
		// Editing and history at a terminal; what arrives is printed
		// above the line being typed.
		if ed = newLineEditor(ios, historyFile(opts.NoHistory)); ed != nil {
			defer ed.Close()
			edited := *ios
			edited.In, edited.Out, edited.ErrOut = ed, ed.Stdout(), ed.Stderr()
			ios = &edited
		}
	}
	c, err := newClient(opts, ios, lineMode)
	if err != nil {
		return err
	}
	defer c.out.close()
	if ed != nil {
		c.out.prompt = "" // the editor draws it
	}
	conn, err := c.dialFirst(ctx)
	if err != nil {
		return err
	}
	c.in = c.input()
	sendDone := make(chan error, 1)
	go func() {
		c.sio.waitReady(ctx)
		sendDone <- c.sendInput()
	}()
	return c.run(ctx, conn, sendDone)
}

// ioBufferSize is the buffer of stdin, of stdout and of a client's
// connection, each way: a pipe of many small lines goes through in a
// system call per 256 KiB rather than per 64 KiB: a quarter of the reads
// and writes, as many as the bare gobwas/ws client of bench/ makes.
const ioBufferSize = 256 << 10

// newClient prepares a session on ios: its output, its connection
// settings and its observers (the output, the heartbeat, --echo).
func newClient(opts *ConnectOptions, ios *IOStreams, lineMode bool) (*client, error) {
	out, err := opts.sink(ios, inspect.ServerToClient, false)
	if err != nil {
		return nil, err
	}
	if lineMode && opts.Output == FormatText {
		out.linePrefix, out.prompt, out.overPrompt = "< ", "> ", "\r\x1b[K"
		if ios.NoScreen {
			out.overPrompt = "\r" // no erasing: "< " covers "> "
		}
	}
	c := &client{opts: opts, ios: ios, out: out, lineMode: lineMode, start: time.Now(), ref: newConnRef(nil)}
	c.cfg = opts.config(1, c.start)
	c.cfg.OnIdle = out.flush
	c.cfg.BufferSize = ioBufferSize
	c.hb = opts.heartbeat(inspect.ServerToClient, func(s string) { out.note("wscope: %s", s) })
	c.observe = observers{newDecoding(opts.Decode).wrap(out.event), c.hb.event}
	if opts.Echo {
		c.observe = append(c.observe, echo(inspect.ServerToClient, func(int) *wire.Conn { conn, _ := c.ref.get(); return conn }))
	}
	c.sio = newSIOSession(func() *wire.Conn { conn, _ := c.ref.get(); return conn })
	c.observe = append(c.observe, c.sio.event, mqttReplies(func() *wire.Conn { conn, _ := c.ref.get(); return conn }))
	c.cfg.OnEvent = c.observe.event
	return c, nil
}

// dial connects once, following redirects with -L (each hop said on
// stderr).
func (c *client) dial(ctx context.Context, cfg wire.Config) (*wire.Conn, *inspect.Open, error) {
	if !c.opts.Location {
		return wire.Dial(ctx, c.opts.Dial, cfg)
	}
	return wire.DialFollow(ctx, c.opts.Dial, cfg, c.opts.MaxRedirects, func(h wire.Hop) {
		if c.opts.Verbose && h.Request != nil && h.Response != nil {
			c.out.handshake(&inspect.Open{Request: *h.Request, Response: *h.Response})
		}
		c.out.note("wscope: %d redirect to %s", h.Status, h.To)
	})
}

// dialFirst makes the session's first connection and starts it; Ctrl-C
// during the dial ends the session.
func (c *client) dialFirst(ctx context.Context) (*wire.Conn, error) {
	dialCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := watchInterrupt(c.ios.Interrupt, cancel)
	conn, open, err := c.dial(dialCtx, c.cfg)
	interrupted := stop()
	if err != nil {
		if interrupted {
			return nil, Silent(ExitInterrupted)
		}
		c.observe.event(&inspect.Event{T: time.Since(c.start), Kind: inspect.KindError, Conn: 1, Text: err.Error()})
		return nil, reportDialError(c.ios.ErrOut, err)
	}
	c.opened(conn, open)
	if c.lineMode {
		c.out.note("connected to %s (Ctrl-C or /close to quit, /help for commands)", c.opts.Dial.URL)
		c.out.raw(c.out.prompt)
	}
	return conn, nil
}

// opened reports a new connection and starts reading it.
func (c *client) opened(conn *wire.Conn, open *inspect.Open) {
	if c.opts.Verbose {
		c.out.handshake(open)
	}
	c.observe.event(&inspect.Event{T: time.Since(c.start), Kind: inspect.KindOpen, Conn: conn.ID(), Open: open})
	c.ref.set(conn)
	go conn.Run()
	c.hb.start(conn)
}

// run waits for the session to end: the connection (reconnected as
// asked), the end of the input, or Ctrl-C.
func (c *client) run(ctx context.Context, conn *wire.Conn, sendDone <-chan error) error {
	for {
		select {
		case <-conn.Done():
			next, err := c.reconnect(ctx, conn)
			if err != nil {
				return err
			}
			if next == nil {
				c.ref.stop()
				return c.finish(conn.End())
			}
			conn = next
		case err := <-sendDone:
			if errors.Is(err, errInterrupted) {
				return c.interrupt(conn) // Ctrl-C in the line editor
			}
			if err != nil {
				c.out.note("wscope: %v", err)
			}
			return c.closeAfterInput(conn)
		case <-c.ios.Interrupt:
			return c.interrupt(conn)
		}
	}
}

// reconnect answers a connection that ended: with Reconnect and an end
// the peer caused, the next connection; nil when the session is over.
func (c *client) reconnect(ctx context.Context, conn *wire.Conn) (*wire.Conn, error) {
	end := conn.End()
	if !c.opts.Reconnect || !endedByPeer(&end) {
		return nil, nil
	}
	next, open, interrupted := c.redial(ctx, conn.ID(), inspect.DescribeEnd(&end), c.observe.event)
	if interrupted {
		c.ref.stop()
		return nil, Silent(ExitInterrupted)
	}
	if next != nil {
		c.hb.reset()
		c.opened(next, open)
	}
	return next, nil
}

// closeAfterInput ends the session once the input has: it waits -w, then
// for the peer to fall silent (its last replies), then closes with 1000
// and waits for the close handshake, which the connection bounds.
func (c *client) closeAfterInput(conn *wire.Conn) error {
	if !waitOrDone(conn, c.opts.Wait, c.ios.Interrupt) || !c.waitQuiet(conn) {
		return c.interrupt(conn)
	}
	if err := conn.Close(inspect.CloseNormal, ""); err != nil && !errors.Is(err, wire.ErrClosed) {
		c.out.note("wscope: %v", err)
	}
	select {
	case <-conn.Done():
	case <-c.ios.Interrupt:
		return c.interrupt(conn)
	}
	return c.finish(conn.End())
}

// waitQuiet waits until the peer has sent nothing for EOFWait, bounded by
// the close timeout; false means Ctrl-C.
func (c *client) waitQuiet(conn *wire.Conn) bool {
	quiet := c.opts.EOFWait
	if quiet <= 0 {
		return true
	}
	deadline := time.Now().Add(c.opts.CloseTimeout)
	for {
		until := conn.LastRead().Add(quiet)
		if !until.After(time.Now()) || time.Now().After(deadline) {
			return true
		}
		t := time.NewTimer(time.Until(until))
		select {
		case <-t.C:
		case <-conn.Done():
			t.Stop()
			return true
		case <-c.ios.Interrupt:
			t.Stop()
			return false
		}
	}
}

// finish reports how the session ended and returns the exit status.
func (c *client) finish(end inspect.End) error {
	err := finish(end, c.out, c.lineMode || c.opts.Verbose)
	if err == nil && c.hb.failed() {
		return Silent(ExitAbnormal) // our own 1001 after the pongs stopped
	}
	if err == nil {
		err = c.refusedInput()
	}
	return err
}

// refusedInput is exit status 1 when some of the input of a pipe or -x
// could not be sent, though the rest was: a script must not pass after
// input that did not go out. At a terminal the person saw each error.
func (c *client) refusedInput() error {
	if c.in == nil || c.lineMode {
		return nil
	}
	n := c.in.refused.Load()
	if c.pre != nil {
		n += c.pre.refused.Load()
	}
	switch n {
	case 0:
		return nil
	case 1:
		return Exitf(ExitRuntime, "1 line of input was not sent (named above)")
	default:
		return Exitf(ExitRuntime, "%d lines of input were not sent (each named above)", n)
	}
}

// interrupt closes with 1001 on Ctrl-C, waits briefly for the handshake
// and exits 130.
func (c *client) interrupt(conn *wire.Conn) error {
	c.ref.stop()
	conn.Close(inspect.CloseGoingAway, "")
	conn.Wait(2 * time.Second)
	conn.Abort()
	c.out.flush()
	return Silent(ExitInterrupted)
}

// input is what the session sends: the -x messages, or stdin.
// It is -x's messages when there are some and the session does not stay
// after them, else stdin; a session that stays has -x in c.pre.
func (c *client) input() *inputReader {
	opts := c.opts
	if len(opts.Execute) > 0 {
		c.pre = c.preamble()
		if !opts.Interactive && !(c.ios.InTTY && opts.Wait == 0) {
			in := c.pre
			c.pre = nil
			return in
		}
	}
	return newInputReader(c.ios.In, opts.Stdin, opts.Binary, c.lineMode, inspect.ClientToServer, int(opts.MaxMessageSize))
}

// preamble reads -x's messages, slash commands included.
func (c *client) preamble() *inputReader {
	src := strings.NewReader(strings.Join(c.opts.Execute, "\n") + "\n")
	return newInputReader(src, StdinLines, c.opts.Binary, true, inspect.ClientToServer, int(c.opts.MaxMessageSize))
}

// sendInput sends the -x preamble, if the session stays after it, then
// c.in, until it ends.
func (c *client) sendInput() error {
	if c.pre != nil {
		if err := c.pump(c.pre); err != nil {
			return err
		}
	}
	return c.pump(c.in)
}

// pump sends what in reads on the current connection.
func (c *client) pump(in *inputReader) error {
	flush := func() error {
		conn, _ := c.ref.get()
		return conn.Flush()
	}
	return pump(in, func(a *action) error { return c.ref.send(a, c.opts.Reconnect) }, flush, c.out)
}

// pump reads actions until EOF and hands each to send, flushing whenever
// the input is drained rather than per message. A line that cannot be
// sent is reported and skipped, and counted in in.refused with a send that
// failed and a read error.
func pump(in *inputReader, send func(*action) error, flush func() error, out *sink) error {
	for {
		a, err := in.next()
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			in.refused.Add(1)
			var perr *inputError
			if errors.As(err, &perr) {
				out.note("wscope: %v", err)
				out.raw(out.prompt)
				continue
			}
			flush()
			return err
		}
		if a.kind == actHelp {
			out.note("%s", SlashHelp())
			out.raw(out.prompt)
			continue
		}
		if err := send(a); err != nil {
			if errors.Is(err, wire.ErrClosing) || errors.Is(err, wire.ErrClosed) {
				return nil
			}
			in.refused.Add(1)
			out.note("wscope: %v", err)
		}
		if a.kind == actClose {
			return flush()
		}
		if in.drained() {
			if err := flush(); err != nil {
				return err
			}
			out.flush()
			out.raw(out.prompt)
		}
	}
}

// finish reports how a connection ended and returns the exit status:
// inspect.End.ExitStatus decides.
func finish(end inspect.End, out *sink, always bool) error {
	out.flush()
	if end.ExitStatus() == inspect.ExitClean {
		if always {
			out.note("closed: %s", inspect.DescribeEnd(&end))
		}
		return nil
	}
	out.note("wscope: connection ended abnormally: %s", inspect.DescribeEnd(&end))
	return Silent(ExitAbnormal)
}

// endedByPeer reports whether a connection ended in a way --reconnect
// answers: abnormally, and not by a close handshake wscope started.
func endedByPeer(end *inspect.End) bool {
	return end.ExitStatus() != inspect.ExitClean && !(end.Clean && end.Closer == "client")
}

// waitOrDone waits d or until the connection ends; false means Ctrl-C.
func waitOrDone(conn *wire.Conn, d time.Duration, intr <-chan os.Signal) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-conn.Done():
	case <-t.C:
	case <-intr:
		return false
	}
	return true
}

// watchInterrupt calls cancel on Ctrl-C until the returned stop is
// called; stop reports whether Ctrl-C came.
func watchInterrupt(intr <-chan os.Signal, cancel func()) (stop func() bool) {
	done := make(chan struct{})
	hit := make(chan bool, 1)
	go func() {
		select {
		case <-intr:
			cancel()
			hit <- true
		case <-done:
			hit <- false
		}
	}()
	return func() bool {
		close(done)
		return <-hit
	}
}

// reportDialError prints why the connection failed (a refused handshake
// with its status, headers and body) and returns exit status 3.
func reportDialError(w io.Writer, err error) error {
	var he *wire.HandshakeError
	if !errors.As(err, &he) {
		return Exitf(ExitConnect, "%v%s", err, dialHint(err))
	}
	fmt.Fprintf(w, "wscope: %v\n", he)
	if he.Response != nil {
		printResponse(w, he.Response)
	}
	if len(he.Body) > 0 {
		w.Write(he.Body)
		if he.Body[len(he.Body)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	return Silent(ExitConnect)
}

// dialHint says which flag helps with a connection error, for the errors
// whose cure is a flag: the wire layer names the problem, not our flags.
func dialHint(err error) string {
	var ce *wire.ConnectError
	if !errors.As(err, &ce) {
		return ""
	}
	switch ce.Cert {
	case wire.CertWrongName:
		return " (use -k to skip verification)"
	case wire.CertUntrusted:
		return " (use --ca FILE, or -k to skip verification)"
	case wire.CertClientRefused:
		return " (use --cert FILE --key FILE, with a certificate its CA issued)"
	}
	return ""
}
