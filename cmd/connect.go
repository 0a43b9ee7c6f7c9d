package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// ConnectOptions are the flags of `wscope connect`.
type ConnectOptions struct {
	IO  *IOStreams
	URL string

	Headers        []string
	Subprotocols   []string
	Origin         string
	Auth           string
	ConnectTimeout time.Duration
	Execute        []string
	Wait           time.Duration
	Location       bool
	MaxRedirects   int

	Reconnect         bool
	ReconnectMaxDelay time.Duration
	ReconnectAttempts int
	TLS               tlsOptions
	transportOptions
	sessionOptions
}

// NewCmdConnect builds `wscope connect`; runF replaces the run function in
// tests of flag parsing.
func NewCmdConnect(ios *IOStreams, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{IO: ios}
	c := &cobra.Command{
		Use:   "connect URL",
		Short: "Connect to a WebSocket server and show what crosses the wire",
		Long: `Connect to a WebSocket server (ws:// or wss://; http(s):// and a bare
host:port are accepted) and exchange messages.

In a pipe, each stdin line is sent as one text message (--binary: binary;
--stdin raw: the stream as binary chunks; --stdin json: one JSON object per
line describing any message or frame), and each received message is written
to stdout as one line. Lines read before the connection opens are queued,
never dropped. At stdin EOF wscope sends what is queued, waits --wait, sends
a close frame and keeps reading until the server's close frame arrives
(bounded by --close-timeout), so no reply in flight is lost.

At a terminal it opens the frame inspector (a TUI: frame list, detail pane,
send box with history and slash commands, filter; ? lists the keys). With
--no-tui, or -o frames/json, it runs a line mode instead: "> " is your
prompt, "< " marks received messages, and slash commands (/help) send pings,
closes, binary data and crafted frames.

--stdin json objects: {"text":"hi"}, {"b64":"AAE="}, {"hex":"00 01"},
{"op":"ping","text":"x"}, {"op":"close","code":4000,"reason":"bye"},
{"text":"abcdef","fragment":2}, {"sleep":0.5}; any of fin, rsv1-3, mask
("none", or 8 hex digits), len (a lie), len_enc makes it a raw frame. Lines
of a wscope recording work too: its msg events in the sending direction are
sent, everything else (header, frame events, the other direction) is skipped.

Received messages, frames or events go to stdout; the handshake (-v), notes
and errors go to stderr. The exit status tells how the session ended: 0
after a close with 1000 or 1001, 3 when the connection or the handshake
failed (the status and body are printed), 4 after 1006, a protocol error or
any other close code, 130 on Ctrl-C.`,
		Example: `  # one message, print the reply, exit 0 after the close handshake
  echo hello | wscope connect ws://127.0.0.1:8080/echo

  # wscat-style: send, print what comes back within two seconds, close
  wscope connect wss://example.com/ws -x '{"op":"subscribe"}' -w 2s

  # every frame with its header bits, or the NDJSON recording
  wscope connect ws://127.0.0.1:8080 -x hello -o frames
  wscope connect ws://127.0.0.1:8080 -o json < msgs.txt > session.wsrec.jsonl

  # the handshake both ways on stderr, like curl -v
  wscope connect ws://127.0.0.1:8080/ -v </dev/null

  # crafted frames: a ping, then a message in two fragments
  printf '%s\n' '{"op":"ping","text":"x"}' '{"text":"abcdef","fragment":2}' |
    wscope connect ws://127.0.0.1:8080 --stdin json -o frames

  # answer a server that tests its clients (Autobahn's fuzzingserver) until
  # it closes
  wscope connect 'ws://127.0.0.1:9001/runCase?case=1&agent=wscope' \
    --echo -w 60s </dev/null`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.URL = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return connectRun(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header \"Name: value\" (repeatable)")
	fs.StringSliceVarP(&opts.Subprotocols, "subprotocol", "s", nil, "offer a subprotocol (repeatable or comma-separated)")
	fs.StringVar(&opts.Origin, "origin", "", "send this Origin header")
	fs.StringVar(&opts.Auth, "auth", "", "HTTP Basic credentials `user:pass`")
	fs.DurationVar(&opts.ConnectTimeout, "connect-timeout", 10*time.Second, "bound on TCP connect, TLS and the handshake")
	fs.StringArrayVarP(&opts.Execute, "execute", "x", nil, "send `MSG` after connecting (repeatable; slash commands work); stdin is not read")
	fs.DurationVarP(&opts.Wait, "wait", "w", 0, "keep the connection open this long after the last message before closing")
	fs.BoolVar(&opts.Reconnect, "reconnect", false, "when the connection ends abnormally, connect again (exponential backoff with jitter); stdin lines not sent are sent after")
	fs.DurationVar(&opts.ReconnectMaxDelay, "reconnect-max-delay", 30*time.Second, "longest wait between reconnect attempts")
	fs.IntVar(&opts.ReconnectAttempts, "reconnect-attempts", 10, "give up after this many failed attempts in a row (0: never)")
	fs.BoolVarP(&opts.Location, "location", "L", false, "follow redirects (301, 302, 307, 308) of the upgrade request, showing each hop")
	fs.IntVar(&opts.MaxRedirects, "max-redirects", 10, "with -L: give up after this many redirects")
	opts.TLS.addFlags(fs)
	opts.transportOptions.addFlags(fs)
	opts.sessionOptions.addFlags(fs)
	return c
}

func connectRun(ctx context.Context, opts *ConnectOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if err := opts.Compress.prepare(inspect.RoleClient); err != nil {
		return err
	}
	if opts.Reconnect && (opts.ReconnectMaxDelay <= 0 || opts.ReconnectAttempts < 0) {
		return usageErr("--reconnect-max-delay must be positive and --reconnect-attempts not negative")
	}
	u, err := wire.ParseURL(opts.URL)
	if err != nil {
		return usageErr("%v", err)
	}
	headers, err := parseHeaders(opts.Headers)
	if err != nil {
		return err
	}
	if opts.Origin != "" {
		headers = append(headers, inspect.HeaderField{Name: "Origin", Value: opts.Origin})
	}
	if u.User != nil {
		// Credentials in the URL become Basic auth, as in browsers and curl.
		headers = append(headers, basicAuth(u.User.String()))
		u.User = nil
	}
	if opts.Auth != "" {
		headers = append(headers, basicAuth(opts.Auth))
	}
	tlsConf, err := opts.TLS.config()
	if err != nil {
		return err
	}
	ios := opts.IO
	opts.TLS.warn(ios.ErrOut)
	var subprotocols []string
	for _, s := range opts.Subprotocols {
		if s = strings.TrimSpace(s); s != "" {
			subprotocols = append(subprotocols, s)
		}
	}

	dopts := wire.DialOptions{
		URL:          u,
		Headers:      headers,
		Subprotocols: subprotocols,
		TLS:          tlsConf,
		Timeout:      opts.ConnectTimeout,
		Compress:     opts.Compress.cx,
	}
	if dopts.NetDial, err = opts.netDial(u, tlsConf, func(f string, a ...any) { fmt.Fprintf(ios.ErrOut, f+"\n", a...) }); err != nil {
		return err
	}
	if opts.useTUI(ios) && len(opts.Execute) == 0 {
		return connectTUI(ctx, opts, dopts)
	}

	lineMode := ios.Interactive() && len(opts.Execute) == 0
	snk, err := opts.sink(ios, inspect.ServerToClient, false)
	if err != nil {
		return err
	}
	defer snk.close()
	if lineMode && opts.Output == formatText {
		snk.linePrefix, snk.prompt = "< ", "> "
	}
	start := time.Now()
	cfg := opts.config(1, start)
	var conn *wire.Conn
	ref := newConnRef(nil)
	hb := opts.heartbeat(snk)
	cfg.OnEvent = func(e *inspect.Event) {
		snk.event(e)
		hb.event(e)
		if opts.Echo && e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
			c, _ := ref.get()
			c.WriteMessage(e.Msg.Op, e.Msg.Payload)
		}
	}
	cfg.OnIdle = snk.flush

	dialCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopInterrupt := watchInterrupt(ios.Interrupt, cancel)
	conn, open, err := opts.dial(dialCtx, dopts, cfg)
	interrupted := stopInterrupt()
	if err != nil {
		if interrupted {
			return silent(ExitInterrupted)
		}
		snk.event(&inspect.Event{T: time.Since(start), Kind: inspect.KindError, Conn: 1, Text: err.Error()})
		return reportDialError(ios.ErrOut, err, opts.Verbose)
	}
	if opts.Verbose {
		printHandshake(ios.ErrOut, open)
	}
	snk.event(&inspect.Event{T: time.Since(start), Kind: inspect.KindOpen, Conn: 1, Open: open})
	if lineMode {
		snk.note("connected to %s (Ctrl-C or /close to quit, /help for commands)", u)
		snk.raw(snk.prompt)
	}
	ref.set(conn)
	go conn.Run()
	if hb != nil {
		go hb.run(conn)
	}

	sendDone := make(chan error, 1)
	go func() { sendDone <- sendInput(opts, ref, snk, lineMode) }()

	id := 1
wait:
	select {
	case <-conn.Done():
		if end := conn.End(); opts.Reconnect && endedByPeer(&end) {
			next, nextID, interrupted := opts.redial(dialCtx, dopts, cfg, snk.event, snk, id, inspect.DescribeEnd(&end))
			switch {
			case interrupted:
				ref.stop()
				return silent(ExitInterrupted)
			case next != nil:
				conn, id = next, nextID
				hb.reset()
				ref.set(conn)
				go conn.Run()
				if hb != nil {
					go hb.run(conn)
				}
				goto wait
			}
		}
		ref.stop()
	case err := <-sendDone:
		if err != nil {
			snk.note("wscope: %v", err)
		}
		if !waitOrDone(conn, opts.Wait, ios.Interrupt) {
			return interrupt(conn, snk)
		}
		conn.Close(inspect.CloseNormal, "")
		// The connection bounds the close itself (see wire.Config.CloseTimeout).
		select {
		case <-conn.Done():
		case <-ios.Interrupt:
			return interrupt(conn, snk)
		}
	case <-ios.Interrupt:
		return interrupt(conn, snk)
	}
	err = finish(conn.End(), snk, lineMode || opts.Verbose)
	if err == nil && hb.failed() {
		return silent(ExitAbnormal) // our own 1001 after the pongs stopped
	}
	return err
}

// dial connects, following redirects with -L (each hop said on stderr).
func (opts *ConnectOptions) dial(ctx context.Context, dopts wire.DialOptions, cfg wire.Config) (*wire.Conn, *inspect.Open, error) {
	if !opts.Location {
		return wire.Dial(ctx, dopts, cfg)
	}
	return wire.DialFollow(ctx, dopts, cfg, opts.MaxRedirects, func(h wire.Hop) {
		fmt.Fprintf(opts.IO.ErrOut, "wscope: %d redirect to %s\n", h.Status, h.To)
	})
}

// heartbeat returns the --ping-interval heartbeat, or nil.
func (opts *ConnectOptions) heartbeat(snk *sink) *heartbeat {
	if opts.PingInterval <= 0 {
		return nil
	}
	report := func(format string, args ...any) {
		if opts.Verbose || strings.Contains(format, "no pong") {
			snk.note(format, args...)
		}
	}
	return newHeartbeat(opts.PingInterval, opts.PingTimeout, inspect.ServerToClient, report)
}

// sendInput sends -x messages, or stdin, until it ends.
func sendInput(opts *ConnectOptions, ref *connRef, snk *sink, lineMode bool) error {
	var src io.Reader = opts.IO.In
	if len(opts.Execute) > 0 {
		src = strings.NewReader(strings.Join(opts.Execute, "\n") + "\n")
	}
	slash := lineMode || len(opts.Execute) > 0
	in := newInputReader(src, opts.Stdin, opts.Binary, slash, inspect.ClientToServer, int(opts.MaxMessageSize))
	if len(opts.Execute) > 0 && opts.Stdin == stdinRaw {
		in.mode = stdinLines
	}
	flush := func() error {
		c, _ := ref.get()
		return c.Flush()
	}
	return pump(in, func(a *action) error { return ref.send(a, opts.Reconnect) }, flush, snk)
}

// pump reads actions until EOF and hands each to send, flushing whenever
// the input is drained rather than per message.
func pump(in *inputReader, send func(*action) error, flush func() error, snk *sink) error {
	for {
		a, err := in.next()
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			var perr *inputError
			if errors.As(err, &perr) {
				snk.note("wscope: %v", err)
				snk.raw(snk.prompt)
				continue
			}
			flush()
			return err
		}
		switch a.kind {
		case actHelp:
			snk.note("%s", slashHelp)
			snk.raw(snk.prompt)
			continue
		}
		if err := send(a); err != nil {
			if errors.Is(err, wire.ErrClosing) {
				return nil
			}
			snk.note("wscope: %v", err)
		}
		if a.kind == actClose {
			return flush()
		}
		if in.drained() {
			if err := flush(); err != nil {
				return err
			}
			snk.flush()
			snk.raw(snk.prompt)
		}
	}
}

// endedByPeer reports whether a connection ended in a way --reconnect
// answers: abnormally, and not by a close handshake wscope started.
func endedByPeer(end *inspect.End) bool {
	return end.ExitStatus() != inspect.ExitClean && !(end.Clean && end.Closer == "client")
}

// finish reports how the session ended and returns the exit status.
func finish(end inspect.End, snk *sink, always bool) error {
	snk.flush()
	if end.ExitStatus() == inspect.ExitClean {
		if always {
			snk.note("closed: %s", inspect.DescribeEnd(&end))
		}
		return nil
	}
	snk.note("wscope: connection ended abnormally: %s", inspect.DescribeEnd(&end))
	return silent(ExitAbnormal)
}

// interrupt closes with 1001 on Ctrl-C, waits briefly for the handshake
// (a second Ctrl-C stops waiting) and exits 130.
func interrupt(conn *wire.Conn, snk *sink) error {
	conn.Close(inspect.CloseGoingAway, "")
	conn.Wait(2 * time.Second)
	conn.Abort()
	snk.flush()
	return silent(ExitInterrupted)
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

func reportDialError(w io.Writer, err error, verbose bool) error {
	var he *wire.HandshakeError
	if errors.As(err, &he) {
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
		return silent(ExitConnect)
	}
	return exitf(ExitConnect, "%v", err)
}

// printHandshake writes the handshake the way curl -v does.
func printHandshake(w io.Writer, o *inspect.Open) {
	fmt.Fprintf(w, "> %s %s %s\n", o.Request.Method, o.Request.Target, o.Request.Proto)
	for _, h := range o.Request.Headers {
		fmt.Fprintf(w, "> %s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintln(w, ">")
	printResponse(w, &o.Response)
	if o.Subprotocol != "" {
		fmt.Fprintf(w, "* subprotocol: %s\n", o.Subprotocol)
	}
	for _, x := range o.Extensions {
		fmt.Fprintf(w, "* extension: %s\n", formatExtension(x))
	}
	if o.TLS != nil {
		fmt.Fprintf(w, "* TLS: %s %s, server name %q, peer %s\n", o.TLS.Version, o.TLS.Cipher, o.TLS.SNI, o.TLS.PeerSubject)
	}
}

func printResponse(w io.Writer, r *inspect.Response) {
	fmt.Fprintf(w, "< %s %d %s\n", r.Proto, r.Status, r.Reason)
	for _, h := range r.Headers {
		fmt.Fprintf(w, "< %s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintln(w, "<")
}

func formatExtension(x inspect.Extension) string {
	s := x.Name
	for _, p := range x.Params {
		s += "; " + p.Name
		if p.Value != "" {
			s += "=" + p.Value
		}
	}
	return s
}
