package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/pcap"
	"github.com/wscope/wscope/internal/record"
	"github.com/wscope/wscope/tui"
)

// InspectOptions are what `inspect` reads and shows.
type InspectOptions struct {
	IO   *IOStreams
	File string // "-" for stdin
	Hex  string // frame bytes instead of a file

	Output         string
	BinaryAs       string
	Check          bool
	Stats          bool
	Filter         inspect.Filter
	MaxMessageSize int64
	NoTUI          bool
	OutputSet      bool   // -o given: no TUI at a terminal
	Decode         string // --decode: a decoder's name, "none", or "" to choose
}

// Inspect runs `wscope inspect`: a file (or --hex bytes) read offline and
// shown, checked or counted.
func Inspect(opts *InspectOptions) error {
	if opts.Output != FormatHAR {
		if err := ValidFormat(opts.Output); err != nil {
			return UsageErr("unknown output format %q (want frames, json, text or har)", opts.Output)
		}
	}
	if err := ValidBinaryAs(opts.BinaryAs); err != nil {
		return err
	}
	if (opts.File == "") == (opts.Hex == "") {
		return UsageErr("inspect needs a FILE (or - for stdin), or --hex BYTES")
	}
	if err := CheckDecode(opts.Decode); err != nil {
		return err
	}
	filter := opts.Filter
	var err error
	ios := opts.IO
	if ios.FullScreen() && !opts.NoTUI && !opts.OutputSet && !opts.Check && !opts.Stats && opts.Hex == "" && opts.File != "-" {
		return inspectTUI(opts, filter)
	}
	format := opts.Output
	if opts.Stats || opts.Check {
		format = FormatText // no events are shown: no recording header either
	}
	snk := newSink(ios.Out, ios.ErrOut, format, 0)
	snk.binaryAs = opts.BinaryAs
	snk.showConn = true
	snk.showDir = true // both directions interleave: say which
	snk.textDecoded = textDecoded(opts.Decode, ios.OutTTY)
	defer snk.close()

	var (
		stats    inspect.Stats
		found    int // violations, for --check
		findings inspect.Findings
		sawIn    bool
	)
	decoded := newDecoding(opts.Decode).wrap(func(e *inspect.Event) {
		if !filter.Match(e) {
			return
		}
		sawIn = true
		switch {
		case opts.Stats:
			stats.Add(e)
		case opts.Check:
			found += reportViolations(snk, &findings, e)
		case opts.Hex != "" && opts.Output == FormatFrames && e.Kind == inspect.KindFrame:
			snk.raw(inspect.Describe(e.Frame) + "\n")
		default:
			snk.event(e)
		}
	})
	handle := func(e *inspect.Event) error { decoded(e); return nil }

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
		return Exitf(ExitUsage, "%s: %v", name, err)
	}
	switch {
	case opts.Stats:
		return writeStats(ios.Out, &stats, opts.Output)
	case opts.Check:
		snk.flush()
		if found > 0 {
			snk.note("wscope: %s: %d violation(s)", name, found)
			return Silent(ExitMismatch)
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
		f, err := openFile(opts.File)
		if err != nil {
			return err
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
		var r *record.Reader
		if r, err = record.NewReader(br); err == nil {
			r.SetMaxLineSize(record.MaxLineSize(opts.MaxMessageSize))
			src = r
		}
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
		var tl *record.LineTooLongError
		if errors.As(err, &tl) {
			// Only that line is lost: say so, and go on with the next.
			snk.note("wscope: warning: %s: %v (a recording of messages up to --max-message-size %d bytes has no line longer)", opts.File, err, opts.MaxMessageSize)
			continue
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
		return UsageErr("--hex: %v", err)
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
	if format != FormatJSON {
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
		App         []appOp        `json:"app,omitempty"`
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
	for _, k := range s.App.Sorted() {
		o := s.App.Ops[k]
		a := appOp{Protocol: k.Protocol, Op: k.Op, Units: o.Units, Requests: o.Requests, Answers: o.Answers, Errors: o.Errors}
		if p50, ok := o.Percentile(50); ok {
			p90, _ := o.Percentile(90)
			p99, _ := o.Percentile(99)
			a.Latency = map[string]float64{"n": float64(len(o.Latencies)), "p50_ms": ms(p50), "p90_ms": ms(p90), "p99_ms": ms(p99)}
		}
		out.App = append(out.App, a)
	}
	return json.NewEncoder(w).Encode(out)
}

// appOp is one line of --stats -o json's "app": an operation of an
// application protocol.
type appOp struct {
	Protocol string             `json:"proto"`
	Op       string             `json:"op"`
	Units    int                `json:"units"`
	Requests int                `json:"requests"`
	Answers  int                `json:"answers"`
	Errors   int                `json:"errors"`
	Latency  map[string]float64 `json:"latency,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// inspectTUI shows a file in the TUI: the file is read beside it, every
// event that passes the filters fed in as it is read.
func inspectTUI(opts *InspectOptions, filter inspect.Filter) error {
	ios := opts.IO
	feed := tui.NewFeed(0)
	quiet := newSink(io.Discard, io.Discard, FormatText, 0)
	var readErr atomic.Pointer[error]
	go func() {
		decoded := newDecoding(opts.Decode).wrap(func(e *inspect.Event) {
			if filter.Match(e) {
				feed.Add(e)
			}
		})
		err := readSession(opts, quiet, func(e *inspect.Event) error { decoded(e); return nil })
		if err != nil {
			readErr.Store(&err)
			feed.Add(&inspect.Event{Kind: inspect.KindError, Text: err.Error()})
		}
		feed.Close()
	}()
	_, err := tui.Run(context.Background(), tui.Options{Title: opts.File, Input: ios.In, Output: ios.Out, Save: saveFunc(record.WriterOptions{})}, feed.Events())
	if err != nil {
		return Exitf(ExitRuntime, "terminal: %v", err)
	}
	if p := readErr.Load(); p != nil {
		return Exitf(ExitUsage, "%s: %v", opts.File, *p)
	}
	return nil
}

// openFile opens a file to read events from: a usage error (exit 2) that
// says what is wrong when it cannot be, a directory included.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, UsageErr("%v", err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, UsageErr("%s is a directory, not a recording, HAR or capture", path)
	}
	return f, nil
}
