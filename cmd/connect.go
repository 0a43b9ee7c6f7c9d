package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/session"
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
	Interactive    bool
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
		Use:   "connect URL|@TARGET",
		Short: "Connect to a WebSocket server and show what crosses the wire",
		Long: `Connect to a WebSocket server (ws:// or wss://; http(s):// and a bare
host:port are accepted) and exchange messages. @TARGET takes the URL and
its settings from a named target of the configuration file (see wscope
config --help); flags override them.

In a pipe, each stdin line is sent as one text message (--binary: binary;
--stdin raw: the stream as binary chunks; --stdin json: one JSON object per
line describing any message or frame), and each received message is written
to stdout as one line. Lines read before the connection opens are queued,
never dropped. At stdin EOF wscope sends what is queued, waits --wait,
then until the server has been silent for --eof-wait (servers that stop
sending once a close has arrived still send their last replies), sends a
close frame and keeps reading until the server's close frame arrives
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
A line that cannot be sent as written (not JSON, an unknown key, two
payloads, a close code outside 0-65535, a length its len_enc cannot hold)
is named on stderr and skipped; the rest is sent.

By default a peer's RFC 6455 violations are reported on their frames and
the connection goes on; --strict fails the connection at the first one, as
a conforming endpoint must (1002; 1007 for invalid UTF-8).

Received messages, frames or events go to stdout; the handshake (-v), notes
and errors go to stderr. The exit status tells how the session ended: 0
when the close handshake completed with 1000, 1001 or no code received and
the peer broke no rule; 3 when the connection or the handshake failed (the
status and body are printed); 4 after 1006, any other close code received,
or a violation by the peer (counted, the first named); 1 when input from a
pipe or -x was not all sent (a bad line, one over --max-message-size, a
refused command), though the session ended cleanly; 130 on Ctrl-C.`,
		Example: `  # one message, print the reply, exit 0 after the close handshake
  echo hello | wscope connect ws://127.0.0.1:8080/echo

  # wscat-style: send, print what comes back within two seconds, close
  wscope connect wss://example.com/ws -x '{"op":"subscribe"}' -w 2s

  # send first, then stay: at a terminal the TUI opens on the connection;
  # in a pipe, -i sends stdin after
  echo '{"op":"ping"}' | wscope connect ws://127.0.0.1:8080 -i -x '{"op":"login"}'

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
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 || !strings.HasPrefix(toComplete, "@") {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, n := range targetNames(strings.TrimPrefix(toComplete, "@")) {
				out = append(out, "@"+n)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.URL = args[0]
			if strings.HasPrefix(opts.URL, "@") {
				if err := opts.applyTarget(c.Flags()); err != nil {
					return err
				}
			}
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
	fs.StringArrayVarP(&opts.Execute, "execute", "x", nil, "send `MSG` after connecting (repeatable; slash commands work); then close, unless -i or at a terminal without -w")
	fs.BoolVarP(&opts.Interactive, "interactive", "i", false, "with -x: stay after sending, with the TUI, the line mode or stdin on the same connection (the default at a terminal unless -w)")
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
	so, err := opts.options(inspect.RoleClient)
	if err != nil {
		return err
	}
	dial, err := opts.dialOptions()
	if err != nil {
		return err
	}
	return session.Connect(ctx, &session.ConnectOptions{
		IO:                opts.IO,
		Options:           so,
		Dial:              dial,
		Execute:           opts.Execute,
		Interactive:       opts.Interactive,
		Wait:              opts.Wait,
		Location:          opts.Location,
		MaxRedirects:      opts.MaxRedirects,
		Reconnect:         opts.Reconnect,
		ReconnectMaxDelay: opts.ReconnectMaxDelay,
		ReconnectAttempts: opts.ReconnectAttempts,
	})
}

// dialOptions turns the connection flags into how to reach the server:
// the URL (its credentials become Basic auth, as in browsers and curl),
// headers, subprotocols, TLS and the transport.
func (opts *ConnectOptions) dialOptions() (wire.DialOptions, error) {
	u, err := wire.ParseURL(opts.URL)
	if err != nil {
		return wire.DialOptions{}, usageErr("%v", err)
	}
	headers, err := parseHeaders(opts.Headers)
	if err != nil {
		return wire.DialOptions{}, err
	}
	if opts.Origin != "" {
		headers = append(headers, inspect.HeaderField{Name: "Origin", Value: opts.Origin})
	}
	if u.User != nil {
		headers = append(headers, basicAuth(u.User.String()))
		u.User = nil
	}
	if opts.Auth != "" {
		headers = append(headers, basicAuth(opts.Auth))
	}
	tlsConf, err := opts.TLS.config()
	if err != nil {
		return wire.DialOptions{}, err
	}
	opts.TLS.warn(opts.IO.ErrOut)
	d := wire.DialOptions{URL: u, Headers: headers, Subprotocols: trimmed(opts.Subprotocols), TLS: tlsConf, Timeout: opts.ConnectTimeout}
	d.NetDial, err = opts.netDial(u, tlsConf, opts.IO.ErrOut)
	return d, err
}

// trimmed drops the spaces around each value and the empty ones.
func trimmed(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
