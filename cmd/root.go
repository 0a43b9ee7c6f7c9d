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
)

// NewRootCmd builds the command tree on the given streams.
func NewRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "wscope",
		Short: "See every WebSocket frame as it is on the wire",
		Long: `wscope talks to WebSocket servers (connect), is one (listen), replays
recorded sessions against either side (replay) and opens recordings, browser
HAR files and pcap captures offline (inspect). It shows every frame as it
really is on the wire: opcode, FIN, RSV bits, mask bit and key, length
encoding, fragments, extensions, close codes and names, and every RFC 6455
violation. At a terminal it opens a frame inspector (TUI).

In a pipe it reads one message per stdin line and writes one line per
received message (-o text), per frame (-o frames) or per event as NDJSON
(-o json, the wscope recording format).`,
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
	root.AddCommand(
		NewCmdConnect(ios, nil),
		NewCmdListen(ios, nil),
		NewCmdProxy(ios, nil),
		NewCmdInspect(ios, nil),
		NewCmdReplay(ios, nil),
		NewCmdDemo(ios, nil),
		NewCmdVersion(ios, nil),
	)
	addCompletionCmd(root)
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
