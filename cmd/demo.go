package cmd

import (
	"context"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/demo"
	"github.com/wscope/wscope/internal/session"
)

// DemoOptions are the flags of `wscope demo`.
type DemoOptions struct {
	IO *IOStreams

	Duration time.Duration
	Serve    bool
	Addr     string
	// outputSet: -o was given; otherwise a pipe shows frames.
	outputSet bool
	sessionOptions

	// server shapes the demo server (tests make its tour quick).
	server demo.Options
	// ready, when set, is told where the demo server listens.
	ready func(net.Addr)
}

// demoFlags are the session flags that make sense against the demo
// server; the others (--echo, --stdin, --strict, ...) are left out.
var demoFlags = []string{"output", "verbose", "show-control", "binary-as", "from", "op", "grep", "record", "force", "redact", "no-tui", "no-history", "scrollback", "fragment", "compress"}

// NewCmdDemo builds `wscope demo`; runF replaces the run function in
// tests of flag parsing.
func NewCmdDemo(ios *IOStreams, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: ios}
	c := &cobra.Command{
		Use:   "demo [--serve [ADDR]]",
		Short: "Try wscope against a built-in server: no network needed",
		Long: `Start a WebSocket server on 127.0.0.1 (a free port; nothing leaves the
machine) and connect to it exactly as "wscope connect" does, to see what
wscope shows without a server of your own.

The server plays a short tour: a welcome text, a JSON tick every second, a
message in three fragments (text, cont, cont+FIN), a binary message, a
ping (wscope answers with a pong) and a big JSON message, which goes
compressed (RSV1) because the demo offers permessage-deflate
(--compress=false to see it plain). Then it echoes what you send and obeys
these messages:

  help                    list the commands
  ping [text]             the server pings you
  fragment [text]         the text comes back in three fragments
  binary | big            a binary message | the big JSON message again
  ticker on|off           start or stop the ticker
  close [code [reason]]   the server closes with that code: close 4000 bye

At a terminal it opens the TUI: type in the send box (Enter sends); Esc
leaves it, then q quits with 1000 and ? lists the keys. Slash commands send
from your side instead: /ping, /close 4000 bye, /fragment 3 hello, /help.

In a pipe it prints one line per frame (-o frames, unless -o says
otherwise), sends each stdin line as a text message, and when --duration
has passed (and the tour has been shown) closes with 1000 and exits 0. A
close the server makes on request with a code other than 1000 or 1001
exits 4, as connect does.

--serve runs only the server, on ADDR (default 127.0.0.1:8080; a bare port
means 127.0.0.1:PORT, ":PORT" every interface), until Ctrl-C: point a
browser, wscat, your own client or "wscope connect" at it. The other flags
do not apply to it.`,
		Example: `  # the tour in the TUI (Esc, then q, quits)
  wscope demo

  # the tour as frames, in a pipe, for five seconds
  wscope demo </dev/null | cat

  # NDJSON events, with two messages of your own
  printf '%s\n' hello 'fragment split me up' | wscope demo -o json --duration 2s

  # ask the server for a close with code 4000: exit status 4
  echo 'close 4000 bye' | wscope demo; echo "exit $?"

  # only the server, then connect to it from another terminal
  wscope demo --serve 9000
  wscope connect ws://127.0.0.1:9000/ --compress -o frames`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Addr = args[0]
			}
			opts.outputSet = c.Flags().Changed("output")
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return demoRun(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.DurationVar(&opts.Duration, "duration", 5*time.Second, "in a pipe: run this long, and at least until the tour was shown, then close with 1000")
	fs.BoolVar(&opts.Serve, "serve", false, "only run the demo server, on ADDR (default 127.0.0.1:8080), until Ctrl-C")
	session := pflag.NewFlagSet("session", pflag.ContinueOnError)
	opts.sessionOptions.addFlags(session)
	for _, name := range demoFlags {
		fs.AddFlag(session.Lookup(name))
	}
	out := fs.Lookup("output")
	out.Usage = "output `format`: text (received payloads), frames (one line per frame) or json (NDJSON recording); default: the TUI at a terminal, frames in a pipe"
	out.DefValue = ""
	opts.Compress.On = true
	comp := fs.Lookup("compress")
	comp.DefValue = "true"
	comp.Usage = "offer permessage-deflate (RFC 7692), so the big message goes compressed; --compress=false to see it plain"
	return c
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	so, err := opts.options(inspect.RoleClient)
	if err != nil {
		return err
	}
	addr := opts.Addr
	if opts.Serve {
		addr = DefaultListenAddr
		if opts.Addr != "" {
			addr = listenAddr(opts.Addr)
		}
	}
	return session.Demo(ctx, &session.DemoOptions{
		IO:        opts.IO,
		Options:   so,
		Duration:  opts.Duration,
		Serve:     opts.Serve,
		Addr:      addr,
		OutputSet: opts.outputSet,
		Server:    opts.server,
		Ready:     opts.ready,
	})
}
