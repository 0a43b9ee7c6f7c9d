package session

import (
	"regexp"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// Version is the tool version written in recording headers; the command
// layer sets it from the build.
var Version = "(devel)"

// Output formats (-o).
const (
	FormatText   = "text"
	FormatFrames = "frames"
	FormatJSON   = "json"
	FormatHAR    = "har" // inspect only: a HAR is written whole, at the end
)

// Stdin modes (--stdin).
const (
	StdinLines = "lines"
	StdinRaw   = "raw"
	StdinJSON  = "json"
)

// DefaultEOFWait is how long, at the end of the input, the peer must have
// been silent before the close frame goes: servers that stop sending once
// a close has arrived (asyncio's websockets does; RFC 6455 allows it) get
// to send their last replies first.
const DefaultEOFWait = 25 * time.Millisecond

// Options are the settings every command that holds connections shares,
// spelled the same everywhere; the command layer fills them from flags.
type Options struct {
	Output         string
	BinaryAs       string
	ShowControl    bool
	Verbose        bool
	Binary         bool
	Stdin          string
	Echo           bool
	Fragment       int
	MaxMessageSize int64 // 0 means no limit
	MaxFrames      int   // frames per message; 0 means no limit
	NoAutoPong     bool
	Strict         bool
	CloseTimeout   time.Duration
	EOFWait        time.Duration
	Record         string
	RecordSecrets  bool
	RecordForce    bool     // --record may replace an existing file
	Redact         []string // more header and query parameter names to redact
	From           string
	Op             string
	Grep           string
	NoTUI          bool
	NoHistory      bool
	Scrollback     int
	PingInterval   time.Duration
	PingTimeout    time.Duration
	// Decode is --decode: an application protocol decoder's name, "none",
	// or "" to choose one for each connection.
	Decode string
	// Compress is permessage-deflate as offered (connect) or accepted
	// (listen); nil means off.
	Compress *wire.Compression
}

// UseTUI reports whether the session opens the TUI: at a terminal that
// can draw it, with the default output, unless NoTUI.
func (o *Options) UseTUI(ios *IOStreams) bool {
	return ios.FullScreen() && !o.NoTUI && o.Output == FormatText
}

// Validate checks what the flags alone cannot.
func (o *Options) Validate() error {
	if err := ValidFormat(o.Output); err != nil {
		return err
	}
	if err := ValidBinaryAs(o.BinaryAs); err != nil {
		return err
	}
	switch o.Stdin {
	case StdinLines, StdinRaw, StdinJSON:
	default:
		return UsageErr("unknown --stdin mode %q (want lines, raw or json)", o.Stdin)
	}
	switch {
	case o.Fragment < 0:
		return UsageErr("--fragment must be positive")
	case o.CloseTimeout <= 0:
		return UsageErr("--close-timeout must be positive")
	case o.EOFWait < 0:
		return UsageErr("--eof-wait must not be negative")
	case o.MaxFrames < 0:
		return UsageErr("--max-message-frames must not be negative")
	case o.PingInterval < 0 || o.PingTimeout < 0 || o.PingTimeout > 0 && o.PingInterval == 0:
		return UsageErr("--ping-timeout needs --ping-interval, and both must be positive")
	}
	if err := ValidRedact(o.Redact); err != nil {
		return err
	}
	return CheckDecode(o.Decode)
}

// ValidFormat checks an -o value.
func ValidFormat(f string) error {
	switch f {
	case FormatText, FormatFrames, FormatJSON:
		return nil
	}
	return UsageErr("unknown output format %q (want text, frames or json)", f)
}

// ValidBinaryAs checks a --binary-as value.
func ValidBinaryAs(s string) error {
	switch s {
	case "base64", "hex", "raw":
		return nil
	}
	return UsageErr("unknown --binary-as %q (want base64, hex or raw)", s)
}

// config is the wire configuration of connection id.
func (o *Options) config(id int, start time.Time) wire.Config {
	maxSize, maxFrames := o.MaxMessageSize, o.MaxFrames
	if maxSize == 0 {
		maxSize = -1 // 0 on the command line means no limit
	}
	if maxFrames == 0 {
		maxFrames = -1
	}
	return wire.Config{
		ID:               id,
		Start:            start,
		MaxMessageSize:   maxSize,
		MaxMessageFrames: maxFrames,
		NoAutoPong:       o.NoAutoPong,
		Strict:           o.Strict,
		CloseTimeout:     o.CloseTimeout,
		FragmentSize:     o.Fragment,
		// Text output shows only what the peer sends; a recording keeps all.
		OmitSent: o.Output == FormatText && o.Record == "",
	}
}

// sink returns the output for a session, with the recording started on
// stdout (-o json) and in the Record file.
func (o *Options) sink(ios *IOStreams, recv inspect.Direction, showConn bool) (*sink, error) {
	s := newSink(ios.Out, ios.ErrOut, o.Output, recv)
	s.binaryAs, s.showControl, s.showConn = o.BinaryAs, o.ShowControl, showConn
	s.textDecoded = textDecoded(o.Decode, ios.OutTTY)
	var err error
	if s.filter, err = ParseFilter(o.From, o.Op, o.Grep, 0); err != nil {
		return nil, err
	}
	if err := s.startRecording(o.Record, o.recordOptions()); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseFilter reads the --from, --op, --grep and --conn flags.
func ParseFilter(from, ops, grep string, conn int) (inspect.Filter, error) {
	var f inspect.Filter
	var err error
	if from != "" {
		if f.From, err = inspect.ParseDirection(from); err != nil {
			return f, UsageErr("--from: want client or server, not %q", from)
		}
	}
	if ops != "" {
		if f.Ops, err = inspect.ParseOps(ops); err != nil {
			return f, UsageErr("--op: %v", err)
		}
	}
	if grep != "" {
		if f.Grep, err = regexp.Compile(grep); err != nil {
			return f, UsageErr("--grep: %v", err)
		}
	}
	if conn < 0 {
		return f, UsageErr("--conn must be positive")
	}
	f.Conn = conn
	return f, nil
}

// textDecoded reports whether -o text shows decoded summaries instead of
// payloads: at a terminal, or in a pipe when --decode names a decoder (a
// pipe reading payloads keeps them unless asked).
func textDecoded(decode string, outTTY bool) bool {
	return decode != "none" && (outTTY || decode != "")
}
