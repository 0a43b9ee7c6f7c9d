// Package cmd holds wscope's commands: each one an options struct filled
// from flags and a run function that tests call with fake streams.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/internal/session"
)

func init() { session.Version = versionString() } // in recording headers

// NewRootCmd builds the command tree on the given streams.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "wscope",
		Short: "See every WebSocket frame as it is on the wire",
		Long: `wscope talks to WebSocket servers (connect), is one (listen), sits between
a client and its server (proxy), replays recorded sessions against either
side (replay) and opens recordings, browser HAR files and pcap captures
offline (inspect); demo tries all this against a built-in server. It shows
every frame as it really is on the wire: opcode, FIN, RSV bits, mask bit and
key, length encoding, fragments, extensions, close codes and names, and
every RFC 6455 violation. At a terminal it opens a frame inspector (TUI).

In a pipe it reads one message per stdin line and writes one line per
received message (-o text), per frame (-o frames) or per event as NDJSON
(-o json, the wscope recording format). Stdout carries only that output and
the reports asked for (inspect --check and --stats, replay's results);
notes, warnings, errors, the handshake (-v) and a server's "listening on"
line go to stderr.

Exit status:
  0    finished cleanly: the close handshake completed with 1000, 1001 or
       no code (1005) received, and the peer broke no rule of RFC 6455
  1    a runtime error not covered below
  2    usage error: a bad flag, URL or argument, or an unreadable file
  3    could not connect: DNS, TCP, TLS, proxy, or the handshake refused
       (non-101; the HTTP status and body are printed)
  4    the connection ended abnormally: 1006 (no close frame received),
       another close code received (printed), or the peer violated RFC
       6455 (the count and first rule printed), even if it went on
  5    replay found a mismatch, or inspect --check found violations
  130  interrupted (Ctrl-C)`,
		Example: `  # a tour of what wscope shows, against its own server: no network needed
  wscope demo

  # send a line, print the reply, exit 0 after the close handshake
  echo hello | wscope connect ws://127.0.0.1:8080/echo

  # a recording, then its frames and RFC 6455 violations offline
  echo hello | wscope connect ws://127.0.0.1:8080/echo \
    --record session.wsrec.jsonl
  wscope inspect session.wsrec.jsonl --check`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.SetVersionTemplate("wscope {{.Version}}\n")
	// -v is --verbose on every command, so not --version here: on its own
	// there is nothing to be verbose about, and the help is shown.
	root.Flags().Bool("version", false, "print the version and exit (wscope version says more)")
	root.Flags().BoolP("verbose", "v", false, "on a command: print the handshake and more on stderr")
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	wrapFlagHelp(root, helpWidth(ios))
	root.AddCommand(
		NewCmdConnect(ios, nil),
		NewCmdListen(ios, nil),
		NewCmdProxy(ios, nil),
		NewCmdInspect(ios, nil),
		NewCmdReplay(ios, nil),
		NewCmdDemo(ios, nil),
		NewCmdVersion(ios, nil),
		NewCmdConfig(ios, nil),
	)
	addCompletionCmd(root)
	completeFlagValues(root)
	return root
}

// Execute runs wscope with the process arguments and returns the exit
// status.
func Execute() int {
	ios := SystemIO()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ios.Interrupt = sig
	return Run(context.Background(), ios, os.Args[1:])
}

// Run executes the command line args on ios and returns the exit status.
func Run(ctx context.Context, ios *IOStreams, args []string) int {
	root := NewRootCmd(ios)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		// Commands return *ExitError; anything else is cobra's own word on
		// the command line (unknown command, wrong argument count).
		ee = &ExitError{Code: ExitUsage, Err: err}
	}
	if !ee.Silent && ee.Err != nil {
		fmt.Fprintf(ios.ErrOut, "wscope: %v\n", ee.Err)
	}
	return ee.Code
}
