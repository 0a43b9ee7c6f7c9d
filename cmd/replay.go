package cmd

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/internal/replay"
	"github.com/wscope/wscope/internal/session"
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
	IgnoreFields   []string
	Captures       []string
	Report         string
	Record         string
	RecordSecrets  bool
	RecordForce    bool
	Redact         []string
	Once           bool
	MaxConns       int
	MaxMessageSize byteSize
	Verbose        bool
	Decode         string
}

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
{{tok}} stands. With --decode NAME, --capture '@sid=sid' takes the field sid
of what the decoder reads in a received message (its first unit that has
it), and '@data$[1].token=tok' a value inside a field that holds JSON (a
Socket.IO event's data); --ignore-field KEY compares what the decoder reads
but that field. Pings and pongs are ignored unless --pings. Sends happen as
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

  # Socket.IO: the token in the data of the server's "hello" event
  wscope replay sio.wsrec.jsonl --url "$WS_URL" --decode socketio \
    --ignore-field sid --capture '@data$[1].token=tok'

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
	fs.StringArrayVar(&opts.IgnoreFields, "ignore-field", nil, "with --decode NAME: compare what the decoder reads, but this `field` (e.g. ack, id; repeatable)")
	fs.StringArrayVar(&opts.Captures, "capture", nil, "`PATH=NAME`: take a value from received messages for {{NAME}} in later sends; @FIELD=NAME or @FIELD$PATH=NAME: from a field --decode reads (repeatable)")
	fs.StringVar(&opts.Report, "report", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&opts.Record, "record", "", "record the replayed session(s) to `FILE` (a HAR when it ends in .har; a new file: see --force)")
	fs.BoolVar(&opts.RecordSecrets, "record-secrets", false, "keep secrets in the --record file: credential and API key headers, tokens in the query, the Kubernetes bearer subprotocol")
	fs.BoolVar(&opts.RecordForce, "force", false, "let --record replace an existing FILE (a symbolic link is replaced, never written through)")
	fs.StringArrayVar(&opts.Redact, "redact", nil, "also redact this header or query parameter `NAME` in the --record file (repeatable)")
	fs.StringVar(&opts.Decode, "decode", "", decodeUsage+"; here, for the --record file, --ignore-field and --capture @FIELD")
	fs.BoolVar(&opts.Once, "once", false, "with --serve: exit after the first client, with its result")
	fs.IntVar(&opts.MaxConns, "max-conns", 0, "with --serve: refuse clients beyond this many at once (0: no limit)")
	fs.Var(&opts.MaxMessageSize, "max-message-size", "largest frame or message accepted; the recording's lines may be twice this plus 1MiB")
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
	walk, err := opts.walk()
	if err != nil {
		return err
	}
	tlsConf, err := opts.TLS.config()
	if err != nil {
		return err
	}
	ios := opts.IO
	serve := ""
	if opts.Serve != "" {
		serve = listenAddr(opts.Serve)
	} else {
		opts.TLS.warn(ios.ErrOut)
	}
	return session.Replay(ctx, &session.ReplayOptions{
		IO:   ios,
		File: opts.File,
		Conn: opts.Conn,
		Client: replay.ClientOptions{
			URL:            opts.URL,
			Headers:        headers,
			Subprotocols:   opts.Subprotocols,
			TLS:            tlsConf,
			ConnectTimeout: opts.ConnectTimeout,
		},
		Walk:          walk,
		Serve:         serve,
		Once:          opts.Once,
		MaxConns:      opts.MaxConns,
		Report:        opts.Report,
		Record:        opts.Record,
		RecordSecrets: opts.RecordSecrets,
		RecordForce:   opts.RecordForce,
		Redact:        opts.Redact,
		Verbose:       opts.Verbose,
		Decode:        opts.Decode,
		NetDial: func(u *url.URL) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
			return opts.netDial(u, tlsConf, ios.ErrOut)
		},
	})
}

// walk is how the recording is played: matching, timing, captures.
func (opts *ReplayOptions) walk() (replay.Options, error) {
	var captures []replay.Capture
	for _, c := range opts.Captures {
		cp, err := replay.ParseCapture(c)
		if err != nil {
			return replay.Options{}, usageErr("--capture %q: %v", c, err)
		}
		captures = append(captures, cp)
	}
	if _, err := replay.NewMatcher(replay.MatchOptions{JSON: opts.JSON, Ignore: opts.Ignore}); err != nil {
		return replay.Options{}, usageErr("--ignore: %v", err)
	}
	return replay.Options{
		MaxMessageSize: int64(opts.MaxMessageSize),
		Timeout:        opts.Timeout,
		Realtime:       opts.Realtime,
		Speed:          opts.Speed,
		Unordered:      opts.Unordered,
		StrictFrames:   opts.StrictFrames,
		Pings:          opts.Pings,
		JSON:           opts.JSON,
		Ignore:         opts.Ignore,
		IgnoreFields:   opts.IgnoreFields,
		Captures:       captures,
	}, nil
}
