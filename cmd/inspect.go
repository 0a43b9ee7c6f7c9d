package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/pcap"
	"github.com/wscope/wscope/internal/record"
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

	outputSet bool // -o given: no TUI at a terminal
}

// NewCmdInspect builds `wscope inspect`.
func NewCmdInspect(ios *IOStreams, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: ios}
	c := &cobra.Command{
		Use:   "inspect FILE|-",
		Short: "Show the frames of a recording, a browser HAR or a pcap capture",
		Long: `Open a session offline and show every frame as connect does: a wscope
recording (.wsrec.jsonl), a HAR file exported by Chrome or Firefox DevTools
(its WebSocket messages, without frame details), or a pcap/pcapng capture
(TCP streams reassembled, the HTTP upgrade found on any port, every frame
dissected both ways, permessage-deflate decompressed). The format is
recognised from the content; "-" reads stdin.

--hex dissects frame bytes given on the command line instead, field by field.

--check lists every RFC 6455 violation with its frame, rule and section and
exits 5 if there is any. --stats reports counts and bytes per direction and
opcode, message sizes, compression, ping round trips and session length.
The filters --from, --op, --grep and --conn apply to every output.

At a terminal a file opens in the TUI; otherwise (and with -o, --check,
--stats, --hex or stdin) the output goes to stdout, frames by default.
Warnings (a truncated last line, bytes lost in a capture) go to stderr. The
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
	fs.StringVarP(&opts.Output, "output", "o", formatFrames, "output `format`: frames, json (the recording format) or text (message payloads)")
	fs.StringVar(&opts.BinaryAs, "binary-as", "base64", "how text output shows binary messages: base64, hex or raw")
	fs.BoolVar(&opts.Check, "check", false, "list every protocol violation and exit 5 if there is any")
	fs.BoolVar(&opts.Stats, "stats", false, "report counts, sizes, compression and ping round trips")
	fs.StringVar(&opts.From, "from", "", "only what one side sent: client or server")
	fs.StringVar(&opts.Op, "op", "", "only these opcodes, e.g. text,binary or control (data, control, text, binary, close, ping, pong, cont, 0x3...)")
	fs.StringVar(&opts.Grep, "grep", "", "only frames and messages whose payload matches this `regexp`")
	fs.IntVar(&opts.Conn, "conn", 0, "only connection `N`")
	fs.Var(&opts.MaxMessageSize, "max-message-size", "largest frame or message dissected from a capture")
	fs.BoolVar(&opts.NoTUI, "no-tui", false, "print frames at a terminal instead of opening the TUI")
	return c
}

func (o *InspectOptions) filter() (inspect.Filter, error) {
	return parseFilter(o.From, o.Op, o.Grep, o.Conn)
}

func inspectRun(opts *InspectOptions) error {
	if err := validFormat(opts.Output); err != nil {
		return err
	}
	if err := validBinaryAs(opts.BinaryAs); err != nil {
		return err
	}
	if (opts.File == "") == (opts.Hex == "") {
		return usageErr("inspect needs a FILE (or - for stdin), or --hex BYTES")
	}
	filter, err := opts.filter()
	if err != nil {
		return err
	}
	ios := opts.IO
	if ios.Interactive() && !opts.NoTUI && !opts.outputSet && !opts.Check && !opts.Stats && opts.Hex == "" && opts.File != "-" {
		return inspectTUI(opts, filter)
	}
	format := opts.Output
	if opts.Stats || opts.Check {
		format = formatText // no events are shown: no recording header either
	}
	snk := newSink(ios.Out, ios.ErrOut, format, 0)
	snk.binaryAs = opts.BinaryAs
	snk.showConn = true
	defer snk.flush()

	var (
		stats    inspect.Stats
		found    int // violations, for --check
		findings inspect.Findings
		sawIn    bool
	)
	handle := func(e *inspect.Event) error {
		if !filter.Match(e) {
			return nil
		}
		sawIn = true
		switch {
		case opts.Stats:
			stats.Add(e)
		case opts.Check:
			found += reportViolations(snk, &findings, e)
		case opts.Hex != "" && opts.Output == formatFrames && e.Kind == inspect.KindFrame:
			snk.raw(inspect.Describe(e.Frame) + "\n")
		default:
			snk.event(e)
		}
		return nil
	}

	name := opts.File
	if opts.Hex != "" {
		name = "--hex"
		err = dissectHex(opts.Hex, snk, handle)
	} else {
		err = readSession(opts, snk, handle)
	}
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return err
		}
		return exitf(ExitUsage, "%s: %v", name, err)
	}
	switch {
	case opts.Stats:
		return writeStats(ios.Out, &stats, opts.Output)
	case opts.Check:
		snk.flush()
		if found > 0 {
			snk.note("wscope: %s: %d violation(s)", name, found)
			return silent(ExitMismatch)
		}
		snk.note("%s: no violations", name)
	case !sawIn && filter.Active():
		snk.note("wscope: %s: nothing matched the filters", name)
	}
	return nil
}

// readSession reads a file of any supported format and feeds its events
// to handle, streaming.
func readSession(opts *InspectOptions, snk *sink, handle func(*inspect.Event) error) error {
	var in io.Reader = opts.IO.In
	if opts.File != "-" {
		f, err := os.Open(opts.File)
		if err != nil {
			return usageErr("%v", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 1<<20)
	head, _ := br.Peek(record.SniffLen)
	var src record.Source
	var err error
	switch format := record.Sniff(head); format {
	case record.FormatPcap:
		snk.startRecordingWith(inspect.RecordingHeader{Source: "pcap"})
		return pcap.Read(br, pcap.Options{MaxMessageSize: int64(opts.MaxMessageSize)}, handle)
	case record.FormatHAR:
		src, err = record.NewHARReader(br)
	case record.FormatRecording:
		src, err = record.NewReader(br)
	default:
		if len(head) == 0 {
			return errors.New("empty file")
		}
		return errors.New("not a wscope recording, HAR or pcap/pcapng capture")
	}
	if err != nil {
		return err
	}
	snk.startRecordingWith(src.Header())
	for {
		e, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := handle(e); err != nil {
			return err
		}
	}
	for _, w := range src.Warnings() {
		snk.note("wscope: warning: %s: %s", opts.File, w)
	}
	return nil
}

// dissectHex decodes frame bytes given as hex, as a capture of one
// connection. Each frame's direction is taken from its mask bit: clients
// mask, servers do not.
func dissectHex(s string, snk *sink, handle func(*inspect.Event) error) error {
	p, err := parseHex(s)
	if err != nil {
		return usageErr("--hex: %v", err)
	}
	snk.startRecordingWith(inspect.RecordingHeader{Source: "hex"})
	dec := inspect.NewDecoder(bytes.NewReader(p), inspect.ServerToClient)
	track := inspect.NewTracker(inspect.TrackerOptions{})
	var f inspect.Frame
	for {
		err := dec.Next(&f)
		if err == io.EOF {
			return nil
		}
		if f.Masked {
			f.Dir = inspect.ClientToServer
		}
		var tl *inspect.TooLargeError
		if errors.As(err, &tl) {
			track.Oversized(&f, tl)
			handle(&inspect.Event{Kind: inspect.KindFrame, Conn: 1, Frame: &f})
			snk.note("wscope: --hex: frame %d announces %d bytes of payload and %d follow: the rest is not dissected", f.Seq, f.Length, dec.Buffered())
			return nil
		}
		if err != nil {
			return fmt.Errorf("frame %d: %v", track.Frames()+1, err)
		}
		st := track.Frame(&f)
		handle(&inspect.Event{Kind: inspect.KindFrame, Conn: 1, Frame: &f})
		if st.Msg != nil {
			handle(&inspect.Event{Kind: inspect.KindMsg, Conn: 1, Msg: st.Msg})
		}
	}
}

// reportViolations prints what e breaks, one line each, and counts them.
func reportViolations(snk *sink, fs *inspect.Findings, e *inspect.Event) int {
	vs := fs.Of(e)
	var where string
	switch e.Kind {
	case inspect.KindFrame:
		where = fmt.Sprintf("frame %d %s", e.Frame.Seq, e.Frame.Dir)
	case inspect.KindMsg:
		where = fmt.Sprintf("message %s (frames %v)", e.Msg.Dir, e.Msg.Frames)
	}
	for _, v := range vs {
		snk.raw(fmt.Sprintf("%s conn %d %s: %s (%s): %s\n", fmtT(e), e.Conn, where, v.Rule, v.Section, v.Message))
	}
	return len(vs)
}

func fmtT(e *inspect.Event) string { return fmt.Sprintf("%.6f", e.T.Seconds()) }

// writeStats prints the --stats report, as JSON with -o json.
func writeStats(w io.Writer, s *inspect.Stats, format string) error {
	if format != formatJSON {
		return s.WriteText(w)
	}
	type count struct {
		N     int64 `json:"n"`
		Bytes int64 `json:"bytes"`
	}
	type dir struct {
		Messages   count            `json:"messages"`
		Frames     map[string]count `json:"frames"`
		P50        int64            `json:"size_p50_max"`
		P90        int64            `json:"size_p90_max"`
		P99        int64            `json:"size_p99_max"`
		Deflated   count            `json:"deflated"`
		DeflatedOn int64            `json:"deflated_wire_bytes"`
	}
	out := struct {
		Seconds     float64        `json:"seconds"`
		Connections int            `json:"connections"`
		C2S         dir            `json:"c2s"`
		S2C         dir            `json:"s2c"`
		PingRTT     map[string]any `json:"ping_rtt,omitempty"`
		Closes      map[string]int `json:"closes"`
		Violations  map[string]int `json:"violations"`
	}{
		Seconds:     (s.Last - s.First).Seconds(),
		Connections: s.Conns,
		Closes:      map[string]int{},
		Violations:  map[string]int{},
	}
	for _, d := range []inspect.Direction{inspect.ClientToServer, inspect.ServerToClient} {
		x := dir{
			Messages:   count(s.Messages[d]),
			Frames:     map[string]count{},
			P50:        s.Percentile(d, 50),
			P90:        s.Percentile(d, 90),
			P99:        s.Percentile(d, 99),
			Deflated:   count(s.Deflated[d]),
			DeflatedOn: s.DeflatedOn[d],
		}
		for op, c := range s.Frames[d] {
			if c.N > 0 {
				x.Frames[inspect.OpCode(op).String()] = count(c)
			}
		}
		if d == inspect.ClientToServer {
			out.C2S = x
		} else {
			out.S2C = x
		}
	}
	if s.RTT.N > 0 {
		out.PingRTT = map[string]any{"n": s.RTT.N, "min_ms": ms(s.RTT.Min), "mean_ms": ms(s.RTT.Mean()), "max_ms": ms(s.RTT.Max)}
	}
	for code, n := range s.Closes {
		out.Closes[fmt.Sprint(uint16(code))] = n
	}
	for r, n := range s.Violations {
		out.Violations[string(r)] = n
	}
	return json.NewEncoder(w).Encode(out)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
