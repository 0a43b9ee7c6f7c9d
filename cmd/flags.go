package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// sessionOptions are the flags every command that holds connections
// shares, spelled the same everywhere.
type sessionOptions struct {
	Output         string
	BinaryAs       string
	ShowControl    bool
	Verbose        bool
	Binary         bool
	Stdin          string
	Echo           bool
	Fragment       int
	MaxMessageSize byteSize
	NoAutoPong     bool
	Strict         bool
	CloseTimeout   time.Duration
	Record         string
	RecordSecrets  bool
	From           string
	Op             string
	Grep           string
	NoTUI          bool
	NoHistory      bool
	Scrollback     int
	PingInterval   time.Duration
	PingTimeout    time.Duration
	Compress       compressOptions
}

func (o *sessionOptions) addFlags(fs *pflag.FlagSet) {
	o.MaxMessageSize = wire.DefaultMaxMessageSize
	fs.StringVarP(&o.Output, "output", "o", formatText, "output `format`: text (received payloads), frames (one line per frame), json (NDJSON recording)")
	fs.StringVar(&o.BinaryAs, "binary-as", "base64", "how text output shows binary messages: base64, hex or raw")
	fs.BoolVar(&o.ShowControl, "show-control", false, "print ping, pong and close frames in text output")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "print the handshake request and response on stderr")
	fs.BoolVar(&o.Binary, "binary", false, "send each stdin line as a binary message")
	fs.StringVar(&o.Stdin, "stdin", stdinLines, "stdin `mode`: lines (one message per line), raw (the stream as binary chunks), json (one object per line)")
	fs.BoolVar(&o.Echo, "echo", false, "send every received data message straight back with the same opcode")
	fs.IntVar(&o.Fragment, "fragment", 0, "split sent messages into frames of at most `N` bytes")
	fs.Var(&o.MaxMessageSize, "max-message-size", "largest frame or message accepted; more closes with 1009 (e.g. 1MiB)")
	fs.BoolVar(&o.NoAutoPong, "no-auto-pong", false, "do not answer pings automatically")
	fs.BoolVar(&o.Strict, "strict", false, "close with 1002 on the peer's first RFC 6455 violation instead of only reporting it")
	fs.DurationVar(&o.CloseTimeout, "close-timeout", wire.DefaultCloseTimeout, "how long the peer may stay silent once the close handshake started (replies still arriving extend it)")
	fs.StringVar(&o.Record, "record", "", "write every event to `FILE` as a wscope recording, each event as it happens")
	fs.BoolVar(&o.RecordSecrets, "record-secrets", false, "keep Authorization, Cookie, Set-Cookie and Proxy-Authorization values in recordings")
	fs.BoolVar(&o.NoTUI, "no-tui", false, "use the plain line mode at a terminal")
	fs.BoolVar(&o.NoHistory, "no-history", false, "do not keep the TUI's send history across runs")
	fs.IntVar(&o.Scrollback, "scrollback", 0, "rows the TUI keeps (0: 100000); older rows stay in the --record file")
	fs.DurationVar(&o.PingInterval, "ping-interval", 0, "send a ping this often (0: never); -v reports each pong's round trip")
	fs.DurationVar(&o.PingTimeout, "ping-timeout", 0, "with --ping-interval: close with 1001 when a ping waits this long for its pong (connect then exits 4)")
	fs.StringVar(&o.From, "from", "", "show only what one side sent: client or server (recordings keep everything)")
	fs.StringVar(&o.Op, "op", "", "show only these opcodes, e.g. text,binary or control")
	fs.StringVar(&o.Grep, "grep", "", "show only frames and messages whose payload matches this `regexp`")
	o.Compress.addFlags(fs)
}

// useTUI reports whether the session opens the TUI: at a terminal, with
// the default output, unless --no-tui.
func (o *sessionOptions) useTUI(ios *IOStreams) bool {
	return ios.Interactive() && !o.NoTUI && o.Output == formatText
}

func (o *sessionOptions) validate() error {
	if err := validFormat(o.Output); err != nil {
		return err
	}
	if err := validBinaryAs(o.BinaryAs); err != nil {
		return err
	}
	switch o.Stdin {
	case stdinLines, stdinRaw, stdinJSON:
	default:
		return usageErr("unknown --stdin mode %q (want lines, raw or json)", o.Stdin)
	}
	if o.Fragment < 0 {
		return usageErr("--fragment must be positive")
	}
	if o.CloseTimeout <= 0 {
		return usageErr("--close-timeout must be positive")
	}
	if o.PingInterval < 0 || o.PingTimeout < 0 || o.PingTimeout > 0 && o.PingInterval == 0 {
		return usageErr("--ping-timeout needs --ping-interval, and both must be positive")
	}
	return nil
}

func (o *sessionOptions) config(id int, start time.Time) wire.Config {
	max := int64(o.MaxMessageSize)
	if max == 0 {
		max = -1 // 0 on the command line means no limit
	}
	return wire.Config{
		ID:             id,
		Start:          start,
		MaxMessageSize: max,
		NoAutoPong:     o.NoAutoPong,
		Strict:         o.Strict,
		CloseTimeout:   o.CloseTimeout,
		FragmentSize:   o.Fragment,
		// Text output shows only what the peer sends; a recording keeps all.
		OmitSent: o.Output == formatText && o.Record == "",
	}
}

// sink returns the output for a session, with the recording started on
// stdout (-o json) and in the --record file.
func (o *sessionOptions) sink(ios *IOStreams, recv inspect.Direction, showConn bool) (*sink, error) {
	s := newSink(ios.Out, ios.ErrOut, o.Output, recv)
	s.binaryAs, s.showControl, s.showConn = o.BinaryAs, o.ShowControl, showConn
	var err error
	if s.filter, err = parseFilter(o.From, o.Op, o.Grep, 0); err != nil {
		return nil, err
	}
	if err := s.startRecording(o.Record, o.RecordSecrets); err != nil {
		return nil, err
	}
	return s, nil
}

// parseFilter reads the --from, --op, --grep and --conn flags.
func parseFilter(from, ops, grep string, conn int) (inspect.Filter, error) {
	var f inspect.Filter
	var err error
	if from != "" {
		if f.From, err = inspect.ParseDirection(from); err != nil {
			return f, usageErr("--from: want client or server, not %q", from)
		}
	}
	if ops != "" {
		if f.Ops, err = inspect.ParseOps(ops); err != nil {
			return f, usageErr("%v", err)
		}
	}
	if grep != "" {
		if f.Grep, err = regexp.Compile(grep); err != nil {
			return f, usageErr("--grep: %v", err)
		}
	}
	if conn < 0 {
		return f, usageErr("--conn must be positive")
	}
	f.Conn = conn
	return f, nil
}

// byteSize is a flag value like "64MiB", "1M", "4096".
type byteSize int64

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		shift  uint
		suffix string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
func (b *byteSize) Type() string { return "size" }

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseByteSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	shift := 0
	if n := len(t); n > 0 {
		shift = map[byte]int{'K': 10, 'M': 20, 'G': 30}[t[n-1]]
		if shift > 0 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("invalid size %q (want bytes, or a number with K, M or G)", s)
	}
	return n << shift, nil
}

// parseHeaders reads -H "Name: value" flags.
func parseHeaders(hs []string) ([]inspect.HeaderField, error) {
	var out []inspect.HeaderField
	for _, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, usageErr("invalid header %q (want \"Name: value\")", h)
		}
		out = append(out, inspect.HeaderField{Name: name, Value: strings.TrimSpace(value)})
	}
	return out, nil
}

func basicAuth(userpass string) inspect.HeaderField {
	return inspect.HeaderField{Name: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))}
}

// tlsOptions are the client TLS flags.
type tlsOptions struct {
	Insecure bool
	CAFile   string
	CertFile string
	KeyFile  string
	Keylog   string
}

func (o *tlsOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.Insecure, "insecure", "k", false, "do not verify the server's TLS certificate (loudly)")
	fs.StringVar(&o.CAFile, "ca", "", "PEM `file` of CA certificates to trust instead of the system's")
	fs.StringVar(&o.CertFile, "cert", "", "PEM client certificate `file` (with --key)")
	fs.StringVar(&o.KeyFile, "key", "", "PEM private key `file` for --cert")
	fs.StringVar(&o.Keylog, "keylog", "", "append TLS secrets to `FILE` for Wireshark (default: $SSLKEYLOGFILE)")
}

// warn says, loudly, that -k turned verification off.
func (o *tlsOptions) warn(w io.Writer) {
	if o.Insecure {
		fmt.Fprintln(w, "wscope: WARNING: TLS certificate verification is disabled (-k): anyone on the path can read and change this session")
	}
}

// config builds the client TLS configuration; nil means the defaults.
func (o *tlsOptions) config() (*tls.Config, error) {
	kl, err := keyLog(o.Keylog)
	if err != nil {
		return nil, err
	}
	if !o.Insecure && o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" && kl == nil {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: o.Insecure}
	if kl != nil {
		c.KeyLogWriter = kl
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, usageErr("--ca: %v", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageErr("--ca: no PEM certificate in %s", o.CAFile)
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, usageErr("--cert and --key go together")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, usageErr("--cert/--key: %v", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
