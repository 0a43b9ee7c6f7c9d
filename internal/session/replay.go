package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/appproto/all"
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	"github.com/wscope/wscope/internal/replay"
	"github.com/wscope/wscope/internal/wire"
)

// ReplayOptions are what `replay` runs: a recording played against a
// server, or served as a mock.
type ReplayOptions struct {
	IO            *IOStreams
	File          string
	Conn          int                  // which recorded connection; 0 the first
	Client        replay.ClientOptions // as the client: where and how to connect
	Walk          replay.Options       // matching and timing
	Serve         string               // host:port to serve the recording on, instead
	Once          bool
	MaxConns      int
	Report        string // JUnit XML file
	Record        string
	RecordSecrets bool
	RecordForce   bool     // --record may replace an existing file
	Redact        []string // more header and query parameter names to redact
	Verbose       bool
	Decode        string // --decode, for the --record file
	// NetDial, when set, says how to reach the server at u (a proxy, a
	// unix socket); known only once the recording gave the URL.
	NetDial func(u *url.URL) (func(ctx context.Context, network, addr string) (net.Conn, error), error)
}

// maxReplayEvents bounds what replay loads into memory: a replay is a
// test, not an archive.
const maxReplayEvents = 1 << 20

// Replay runs `wscope replay`.
func Replay(ctx context.Context, opts *ReplayOptions) error {
	if err := ValidRedact(opts.Redact); err != nil {
		return err
	}
	if err := CheckDecode(opts.Decode); err != nil {
		return err
	}
	decodedCapture := ""
	for _, c := range opts.Walk.Captures {
		if c.Field != "" {
			decodedCapture = c.String()
			break
		}
	}
	if len(opts.Walk.IgnoreFields) > 0 || decodedCapture != "" {
		p, err := appproto.Lookup(all.Protocols, opts.Decode)
		if err != nil {
			if len(opts.Walk.IgnoreFields) == 0 {
				return UsageErr("--capture %s needs --decode NAME, the decoder whose field it takes", decodedCapture)
			}
			return UsageErr("--ignore-field needs --decode NAME, the decoder whose fields are compared")
		}
		opts.Walk.Decode = func(dir inspect.Direction, op inspect.OpCode, b []byte) []inspect.Decoded {
			return p.New("").Decode(&inspect.Message{Dir: dir, Op: op, Payload: b})
		}
	}
	events, err := loadEvents(opts.File, opts.Walk.MaxMessageSize, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	script, err := replay.NewScript(events, opts.Conn)
	if err != nil {
		return UsageErr("%s: %v", opts.File, err)
	}
	if opts.Record != "" {
		rec, err := createRecording(opts.Record, inspect.RecordingHeader{Version: Version},
			record.WriterOptions{Secrets: opts.RecordSecrets, Redact: opts.Redact, Force: opts.RecordForce, MaxDelay: record.DefaultMaxDelay})
		if err != nil {
			return recordFileErr(err)
		}
		defer rec.Close()
		opts.Walk.OnEvent = newDecoding(opts.Decode).wrap(func(e *inspect.Event) { rec.Write(e) })
	}
	if opts.Serve != "" {
		return replayServe(ctx, opts, script, opts.Walk)
	}
	return replayClient(ctx, opts, script)
}

// replayClient plays the recorded client against the server.
func replayClient(ctx context.Context, opts *ReplayOptions, script *replay.Script) error {
	ios := opts.IO
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := watchInterrupt(ios.Interrupt, cancel)
	copts := opts.Client
	copts.Options = opts.Walk
	target := copts.URL
	if target == "" {
		target = script.URL
		if strings.Contains(target, inspect.Redacted) {
			fmt.Fprintf(ios.ErrOut, "wscope: warning: the recorded URL %s had secrets redacted: give the real one with --url\n", target)
		}
	}
	if copts.Subprotocols == nil && strings.Contains(script.Subprotocol, inspect.Redacted) {
		fmt.Fprintf(ios.ErrOut, "wscope: warning: the recorded subprotocol %s had its token redacted: offer the real one with -s\n", script.Subprotocol)
	}
	if target == "" {
		return UsageErr("%s: %v: give one with --url", opts.File, replay.ErrNoURL)
	}
	u, err := wire.ParseURL(target)
	if err != nil {
		return UsageErr("%v", err)
	}
	if opts.NetDial != nil {
		if copts.NetDial, err = opts.NetDial(u); err != nil {
			return err
		}
	}
	res, err := replay.RunClient(rctx, script, copts)
	if stop() {
		return Silent(ExitInterrupted)
	}
	if err != nil {
		var he *wire.HandshakeError
		var ce *wire.ConnectError
		if errors.As(err, &he) {
			return reportDialError(ios.ErrOut, he)
		}
		if errors.As(err, &ce) {
			return Exitf(ExitConnect, "%v%s", err, dialHint(err))
		}
		return Exitf(ExitRuntime, "%v", err)
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
		return Exitf(ExitRuntime, "%v", err)
	}
	if opts.Report != "" {
		if err := writeReport(opts.Report, res, suite); err != nil {
			return err
		}
	}
	if !res.OK() {
		return Silent(ExitMismatch)
	}
	return nil
}

func writeReport(path string, res *replay.Result, suite string) error {
	f, err := os.Create(path)
	if err != nil {
		return Exitf(ExitRuntime, "--report: %v", err)
	}
	if err := res.WriteJUnit(f, suite); err != nil {
		f.Close()
		return Exitf(ExitRuntime, "--report: %v", err)
	}
	if err := f.Close(); err != nil {
		return Exitf(ExitRuntime, "--report: %v", err)
	}
	return nil
}

// replayServe plays the recorded server for every client until Ctrl-C
// (or, with --once, until the first client is done).
func replayServe(ctx context.Context, opts *ReplayOptions, script *replay.Script, walk replay.Options) error {
	ios := opts.IO
	ln, err := net.Listen("tcp", opts.Serve)
	if err != nil {
		return Exitf(ExitRuntime, "could not listen on %s: %v", opts.Serve, err)
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
	notes := &lockedWriter{w: ios.ErrOut}
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
			OnAcceptPause: func(err error) {
				acceptPause(func(format string, args ...any) { notes.printf(format+"\n", args...) }, err)
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
					return Silent(ExitMismatch)
				}
				return nil
			}
		case <-ios.Interrupt:
			cancel()
			<-serveErr
			return Silent(ExitInterrupted)
		case err := <-serveErr:
			if err != nil && ctx.Err() == nil {
				return Exitf(ExitRuntime, "accepting connections on %s: %v", ln.Addr(), err)
			}
			return nil
		}
	}
}

// loadEvents reads every event of a recording or HAR into memory (cloned).
func loadEvents(path string, maxMessage int64, errOut io.Writer) ([]*inspect.Event, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(record.SniffLen)
	var src record.Source
	switch record.Sniff(head) {
	case record.FormatRecording:
		var r *record.Reader
		if r, err = record.NewReader(br); err == nil {
			r.SetMaxLineSize(record.MaxLineSize(maxMessage))
			src = r
		}
	case record.FormatHAR:
		src, err = record.NewHARReader(br)
	default:
		return nil, UsageErr("%s: not a wscope recording or HAR (replay needs messages; convert a capture with wscope inspect -o json)", path)
	}
	if err != nil {
		return nil, UsageErr("%s: %v", path, err)
	}
	var events []*inspect.Event
	for {
		e, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, UsageErr("%s: %v", path, err)
		}
		if len(events) == maxReplayEvents {
			return nil, UsageErr("%s: more than %d events: too long to replay", path, maxReplayEvents)
		}
		events = append(events, record.CloneEvent(e))
	}
	for _, w := range src.Warnings() {
		fmt.Fprintf(errOut, "wscope: warning: %s: %s\n", path, w)
	}
	return events, nil
}
