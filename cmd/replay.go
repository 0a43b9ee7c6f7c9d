package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	"github.com/wscope/wscope/internal/replay"
	"github.com/wscope/wscope/internal/wire"
)

// ReplayOptions are the flags of `wscope replay`.
type ReplayOptions struct {
	IO   *IOStreams
	File string

	URL          string
	Serve        string
	Conn         int
	Headers      []string
	Subprotocols []string
	TLS          tlsOptions
	transportOptions
	ConnectTimeout time.Duration
	Timeout        time.Duration
	Realtime       bool
	Speed          float64
	Unordered      bool
	StrictFrames   bool
	Pings          bool
	JSON           bool
	Ignore         []string
	Captures       []string
	Report         string
	Record         string
	RecordSecrets  bool
	Once           bool
	MaxConns       int
	MaxMessageSize byteSize
	Verbose        bool
}

// maxReplayEvents bounds what replay loads into memory: a replay is a
// test, not an archive.
const maxReplayEvents = 1 << 20

// NewCmdReplay builds `wscope replay`.
func NewCmdReplay(ios *IOStreams, runF func(context.Context, *ReplayOptions) error) *cobra.Command {
	opts := &ReplayOptions{IO: ios}
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay a recorded session against a server, or serve it as a mock",
		Long: `Turn a recording into a test.

As the client (default): connect to --url (default: the recorded URL), send
the recorded client messages in order and, before each, wait for the server
messages the recording had at that point and compare them. The close is
asserted too: same code, closed by the same side. Differences are printed as
a JSON-aware diff with the message index and time, and wscope exits 5.

As the server (--serve ADDR): accept clients, wait for the recorded client
messages, answer with the recorded server messages and close the way the
recording closed. Mismatched client input is reported the same way.

Messages are compared exactly by default; --json compares JSON semantically
(key order and whitespace do not matter) and --ignore removes paths on both
sides ($.id, $.data.items[0].ts, $.items[*].id, $..ts). --capture '$.token=tok'
takes a value from a received message and puts it in later sends wherever
{{tok}} stands. Pings and pongs are ignored unless --pings. Sends happen as
soon as they can unless --realtime or --speed X follows the recorded timing.

` + replay.MarkerHelp + `

Recorded headers and the subprotocol are sent again, except credentials,
which are sent only when given with -H.

The results go to stdout: the differences (every step with -v) and a
summary line. The exit status is 0 when everything matched, 5 on any
difference, 3 when the server could not be reached or refused the
handshake. With --serve it runs until Ctrl-C (exit status 130), or with
--once until the first client has gone, exiting 0 or 5 by its result.`,
		Example: `  # CI: replay against staging, JUnit report, exit 5 on any difference
  wscope replay testdata/login.wsrec.jsonl --url "$WS_URL" \
    --json --ignore '$.ts' --report junit.xml

  # a session token from the server's first message, used in later sends
  wscope replay login.wsrec.jsonl --url ws://127.0.0.1:8080/ \
    --capture '$.session=sid'

  # a mock server on 127.0.0.1:9000 for client development
  wscope replay login.wsrec.jsonl --serve 9000`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return replayRun(c.Context(), opts)
		},
	}
	opts.MaxMessageSize = wire.DefaultMaxMessageSize
	fs := c.Flags()
	fs.StringVar(&opts.URL, "url", "", "server to replay against (default: the recorded URL)")
	fs.StringVar(&opts.Serve, "serve", "", "be the recorded server on `ADDR` instead (a bare port means 127.0.0.1:PORT)")
	fs.IntVar(&opts.Conn, "conn", 0, "which recorded connection to replay (default: the first)")
	fs.StringArrayVarP(&opts.Headers, "header", "H", nil, "add or replace a request header \"Name: value\" (repeatable)")
	fs.StringSliceVarP(&opts.Subprotocols, "subprotocol", "s", nil, "offer these subprotocols instead of the recorded one")
	opts.TLS.addFlags(fs)
	opts.transportOptions.addFlags(fs)
	fs.DurationVar(&opts.ConnectTimeout, "connect-timeout", 10*time.Second, "bound on TCP connect, TLS and the handshake")
	fs.DurationVar(&opts.Timeout, "timeout", replay.DefaultTimeout, "how long to wait for each expected message and for the close")
	fs.BoolVar(&opts.Realtime, "realtime", false, "follow the recorded gaps between sends")
	fs.Float64Var(&opts.Speed, "speed", 0, "follow the recorded timing this many times faster (implies --realtime)")
	fs.BoolVar(&opts.Unordered, "unordered", false, "the peer's messages may come in any order")
	fs.BoolVar(&opts.StrictFrames, "strict-frames", false, "also compare how messages were split into frames")
	fs.BoolVar(&opts.Pings, "pings", false, "send the recorded pings and compare pings and pongs too")
	fs.BoolVar(&opts.JSON, "json", false, "compare JSON messages semantically")
	fs.StringArrayVar(&opts.Ignore, "ignore", nil, "remove this JSON `path` on both sides before comparing (repeatable)")
	fs.StringArrayVar(&opts.Captures, "capture", nil, "`PATH=NAME`: take a value from received messages for {{NAME}} in later sends (repeatable)")
	fs.StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&opts.Record, "record", "", "record the replayed session(s) to `FILE`")
	fs.BoolVar(&opts.RecordSecrets, "record-secrets", false, "keep credentials in the --record file")
	fs.BoolVar(&opts.Once, "once", false, "with --serve: exit after the first client, with its result")
	fs.IntVar(&opts.MaxConns, "max-conns", 0, "with --serve: refuse clients beyond this many at once (0: no limit)")
	fs.Var(&opts.MaxMessageSize, "max-message-size", "largest frame or message accepted")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print each step as it passes, not only the mismatches")
	return c
}

func replayRun(ctx context.Context, opts *ReplayOptions) error {
	if opts.Speed < 0 {
		return usageErr("--speed must be positive")
	}
	if opts.Timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	headers, err := parseHeaders(opts.Headers)
	if err != nil {
		return err
	}
	var captures []replay.Capture
	for _, c := range opts.Captures {
		cp, err := replay.ParseCapture(c)
		if err != nil {
			return usageErr("--capture %q: %v", c, err)
		}
		captures = append(captures, cp)
	}
	if _, err := replay.NewMatcher(replay.MatchOptions{JSON: opts.JSON, Ignore: opts.Ignore}); err != nil {
		return usageErr("--ignore: %v", err)
	}
	tlsConf, err := opts.TLS.config()
	if err != nil {
		return err
	}
	events, err := loadEvents(opts.File, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	script, err := replay.NewScript(events, opts.Conn)
	if err != nil {
		return usageErr("%s: %v", opts.File, err)
	}
	ios := opts.IO
	var rec *record.Writer
	if opts.Record != "" {
		if rec, err = record.Create(opts.Record, inspect.RecordingHeader{Version: versionString()}, record.WriterOptions{Secrets: opts.RecordSecrets}); err != nil {
			return usageErr("--record: %v", err)
		}
		defer rec.Close()
	}
	onEvent := func(e *inspect.Event) {
		if rec != nil {
			rec.Write(e)
		}
	}
	walk := replay.Options{
		MaxMessageSize: int64(opts.MaxMessageSize),
		Timeout:        opts.Timeout,
		Realtime:       opts.Realtime,
		Speed:          opts.Speed,
		Unordered:      opts.Unordered,
		StrictFrames:   opts.StrictFrames,
		Pings:          opts.Pings,
		JSON:           opts.JSON,
		Ignore:         opts.Ignore,
		Captures:       captures,
		OnEvent:        onEvent,
	}
	if opts.Serve != "" {
		return replayServe(ctx, opts, script, walk)
	}

	opts.TLS.warn(ios.ErrOut)
	target := opts.URL
	if target == "" {
		target = script.URL
	}
	u, err := wire.ParseURL(target)
	if err != nil {
		return usageErr("%v", err)
	}
	netDial, err := opts.netDial(u, tlsConf, func(f string, a ...any) { fmt.Fprintf(ios.ErrOut, f+"\n", a...) })
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := watchInterrupt(ios.Interrupt, cancel)
	res, err := replay.RunClient(rctx, script, replay.ClientOptions{
		URL:            opts.URL,
		Headers:        headers,
		Subprotocols:   opts.Subprotocols,
		TLS:            tlsConf,
		ConnectTimeout: opts.ConnectTimeout,
		NetDial:        netDial,
		Options:        walk,
	})
	if stop() {
		return silent(ExitInterrupted)
	}
	if err != nil {
		var he *wire.HandshakeError
		var ce *wire.ConnectError
		if errors.As(err, &he) {
			return reportDialError(ios.ErrOut, he, false)
		}
		if errors.As(err, &ce) {
			return exitf(ExitConnect, "%v", err)
		}
		return exitf(ExitRuntime, "%v", err)
	}
	return reportResult(opts, res, opts.File)
}

// reportResult prints the result, writes the JUnit report and returns the
// exit status: 5 on any mismatch.
func reportResult(opts *ReplayOptions, res *replay.Result, suite string) error {
	ios := opts.IO
	if opts.Verbose {
		for _, s := range res.Steps {
			status := "ok"
			switch {
			case s.Mismatch != nil:
				status = "FAIL"
			case s.Skipped != "":
				status = "skip: " + s.Skipped
			}
			fmt.Fprintf(ios.ErrOut, "  %-40s %s (%s)\n", s.Name, status, s.Wait.Round(time.Microsecond))
		}
	}
	if err := res.WriteText(ios.Out); err != nil {
		return exitf(ExitRuntime, "%v", err)
	}
	if opts.Report != "" {
		if err := writeReport(opts.Report, res, suite); err != nil {
			return err
		}
	}
	if !res.OK() {
		return silent(ExitMismatch)
	}
	return nil
}

func writeReport(path string, res *replay.Result, suite string) error {
	f, err := os.Create(path)
	if err != nil {
		return exitf(ExitRuntime, "--report: %v", err)
	}
	if err := res.WriteJUnit(f, suite); err != nil {
		f.Close()
		return exitf(ExitRuntime, "--report: %v", err)
	}
	if err := f.Close(); err != nil {
		return exitf(ExitRuntime, "--report: %v", err)
	}
	return nil
}

// replayServe plays the recorded server for every client until Ctrl-C
// (or, with --once, until the first client is done).
func replayServe(ctx context.Context, opts *ReplayOptions, script *replay.Script, walk replay.Options) error {
	ios := opts.IO
	ln, err := net.Listen("tcp", listenAddr(opts.Serve))
	if err != nil {
		return exitf(ExitRuntime, "could not listen on %s: %v", opts.Serve, err)
	}
	defer ln.Close()
	fmt.Fprintf(ios.ErrOut, "serving %s as ws://%s/ (Ctrl-C to stop)\n", opts.File, ln.Addr())

	type done struct {
		conn int
		res  *replay.Result
		err  error
	}
	results := make(chan done, 16)
	var out = &lockedWriter{w: ios.Out}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- replay.Serve(sctx, ln, script, replay.ServeOptions{
			MaxConns: opts.MaxConns,
			Options:  walk,
			OnMismatch: func(conn int, m replay.Mismatch) {
				out.printf("[%d] %s", conn, m.Text())
			},
			OnDone: func(conn int, r *replay.Result, err error) {
				select {
				case results <- done{conn, r, err}:
				default:
				}
			},
		})
	}()
	failed := false
	var last *replay.Result
	for {
		select {
		case d := <-results:
			switch {
			case d.err != nil:
				out.printf("[%d] %v\n", d.conn, d.err)
				failed = true
			case d.res != nil:
				out.printf("[%d] %s\n", d.conn, d.res.Summary())
				failed = failed || !d.res.OK()
				last = d.res
			}
			if opts.Once {
				cancel()
				<-serveErr
				if last != nil && opts.Report != "" {
					if err := writeReport(opts.Report, last, opts.File); err != nil {
						return err
					}
				}
				if failed {
					return silent(ExitMismatch)
				}
				return nil
			}
		case <-ios.Interrupt:
			cancel()
			<-serveErr
			return silent(ExitInterrupted)
		case err := <-serveErr:
			if err != nil && ctx.Err() == nil {
				return exitf(ExitRuntime, "%v", err)
			}
			return nil
		}
	}
}

// loadEvents reads every event of a recording or HAR into memory (cloned).
func loadEvents(path string, errOut io.Writer) ([]*inspect.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(record.SniffLen)
	var src record.Source
	switch record.Sniff(head) {
	case record.FormatRecording:
		src, err = record.NewReader(br)
	case record.FormatHAR:
		src, err = record.NewHARReader(br)
	default:
		return nil, usageErr("%s: not a wscope recording or HAR (replay needs messages; convert a capture with wscope inspect -o json)", path)
	}
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	var events []*inspect.Event
	for {
		e, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, usageErr("%s: %v", path, err)
		}
		if len(events) == maxReplayEvents {
			return nil, usageErr("%s: more than %d events: too long to replay", path, maxReplayEvents)
		}
		events = append(events, record.CloneEvent(e))
	}
	for _, w := range src.Warnings() {
		fmt.Fprintf(errOut, "wscope: warning: %s: %s\n", path, w)
	}
	return events, nil
}
