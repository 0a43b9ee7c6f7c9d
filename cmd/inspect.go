package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/internal/session"
)

// InspectOptions are the flags of `wscope inspect`.
type InspectOptions struct {
	IO   *IOStreams
	File string

	Hex            string
	Output         string
	BinaryAs       string
	Check          bool
	Stats          bool
	From           string
	Op             string
	Grep           string
	Conn           int
	MaxMessageSize byteSize
	NoTUI          bool
	Decode         string

	outputSet bool // -o given: no TUI at a terminal
}

// NewCmdInspect builds `wscope inspect`.
func NewCmdInspect(ios *IOStreams, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: ios}
	c := &cobra.Command{
		Use:   "inspect FILE|-",
		Short: "Show the frames of a recording, a browser HAR or a pcap capture",
		Long: `Open a session offline and show every frame as connect does: a wscope
recording (.wsrec.jsonl), a HAR file exported by Chrome's DevTools (its
WebSocket messages, without frame details; Firefox's export has none), or a
pcap/pcapng capture (TCP streams reassembled, the HTTP upgrade found on any
port, every frame dissected both ways, permessage-deflate decompressed). The format is
recognised from the content; "-" reads stdin.

--hex dissects frame bytes given on the command line instead, field by field.

-o har writes the session as a HAR that Chrome DevTools imports (one
entry per connection, its messages, control frames and errors; no frame
details), once the whole file is read.

--check lists every RFC 6455 violation with its frame, rule and section and
exits 5 if there is any. --stats reports counts and bytes per direction and
opcode, message sizes, compression, ping round trips and session length.
The filters --from, --op, --grep and --conn apply to every output.

At a terminal a file opens in the TUI; otherwise (and with -o, --check,
--stats, --hex or stdin) the output goes to stdout, frames by default.
Warnings (a truncated last line, a line over the limit that --max-message-size
sets, a HAR message with bad data, bytes lost in a capture) go to stderr. The
exit status is 0, 2 when the file cannot be read or is not a recording, HAR
or capture, and 5 when --check found violations.`,
		Example: `  # every frame of a recording, one line each (the TUI at a terminal)
  wscope inspect session.wsrec.jsonl

  # RFC 6455 violations in a capture: listed, and exit 5 if there is any
  wscope inspect capture.pcapng --check

  # the messages of a browser session, through jq
  wscope inspect devtools.har -o json | jq -c 'select(.ev=="msg") | .text'

  # only the server's text messages that mention "ticker"; then the numbers
  wscope inspect session.wsrec.jsonl --from server --op text --grep ticker
  wscope inspect session.wsrec.jsonl --stats

  # a recording on stdin, as the message payloads
  cat session.wsrec.jsonl | wscope inspect - -o text

  # a recording as a HAR for Chrome DevTools (Network panel, Import HAR)
  wscope inspect session.wsrec.jsonl -o har > session.har

  # one frame's bytes, field by field
  wscope inspect --hex '81 05 48 65 6c 6c 6f'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			opts.outputSet = c.Flags().Changed("output")
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return inspectRun(opts)
		},
	}
	opts.MaxMessageSize = 64 << 20
	fs := c.Flags()
	fs.StringVar(&opts.Hex, "hex", "", "dissect these frame bytes (hex, spaces allowed) instead of a file")
	fs.StringVarP(&opts.Output, "output", "o", session.FormatFrames, "output `format`: frames, json (the recording format), text (message payloads) or har (a HAR for Chrome DevTools, written once the file is read)")
	fs.StringVar(&opts.BinaryAs, "binary-as", "base64", "how text output shows binary messages: base64, hex or raw")
	fs.BoolVar(&opts.Check, "check", false, "list every protocol violation and exit 5 if there is any")
	fs.BoolVar(&opts.Stats, "stats", false, "report counts, sizes, compression and ping round trips")
	fs.StringVar(&opts.From, "from", "", "only what one side sent: client or server")
	fs.StringVar(&opts.Op, "op", "", "only these opcodes, e.g. text,binary or control (data, control, text, binary, close, ping, pong, cont, 0x3...)")
	fs.StringVar(&opts.Grep, "grep", "", "only frames and messages whose payload (or decoded summary and fields) matches this `regexp`")
	fs.StringVar(&opts.Decode, "decode", "", decodeUsage)
	fs.IntVar(&opts.Conn, "conn", 0, "only connection `N`")
	fs.Var(&opts.MaxMessageSize, "max-message-size", "largest frame or message dissected from a capture; a recording line may be twice this plus 1MiB, a longer one is skipped with a warning (0: no limit)")
	fs.BoolVar(&opts.NoTUI, "no-tui", false, "print frames at a terminal instead of opening the TUI")
	return c
}

func inspectRun(opts *InspectOptions) error {
	filter, err := parseFilter(opts.From, opts.Op, opts.Grep, opts.Conn)
	if err != nil {
		return err
	}
	return session.Inspect(&session.InspectOptions{
		IO:             opts.IO,
		File:           opts.File,
		Hex:            opts.Hex,
		Output:         opts.Output,
		BinaryAs:       opts.BinaryAs,
		Check:          opts.Check,
		Stats:          opts.Stats,
		Filter:         filter,
		MaxMessageSize: int64(opts.MaxMessageSize),
		NoTUI:          opts.NoTUI,
		OutputSet:      opts.outputSet,
		Decode:         opts.Decode,
	})
}
