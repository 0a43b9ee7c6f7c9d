package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/session"
	"github.com/wscope/wscope/internal/wire"
)

// sessionOptions are the flags every command that holds connections
// shares, spelled the same everywhere: they fill session.Options, where
// each is used. Adding one means a field there and a line here.
type sessionOptions struct {
	session.Options
	MaxMessageSize byteSize
	Compress       compressOptions
}

func (o *sessionOptions) addFlags(fs *pflag.FlagSet) {
	o.MaxMessageSize = wire.DefaultMaxMessageSize
	fs.StringVarP(&o.Output, "output", "o", session.FormatText, "output `format`: text (received payloads), frames (one line per frame), json (NDJSON recording)")
	fs.StringVar(&o.BinaryAs, "binary-as", "base64", "how text output shows binary messages: base64, hex or raw")
	fs.BoolVar(&o.ShowControl, "show-control", false, "print ping, pong and close frames in text output")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "print the handshake request and response on stderr")
	fs.BoolVar(&o.Binary, "binary", false, "send each stdin line as a binary message")
	fs.StringVar(&o.Stdin, "stdin", session.StdinLines, "stdin `mode`: lines (one message per line), raw (the stream as binary chunks), json (one object per line)")
	fs.BoolVar(&o.Echo, "echo", false, "send every received data message straight back with the same opcode")
	fs.IntVar(&o.Fragment, "fragment", 0, "split sent messages into frames of at most `N` bytes")
	fs.Var(&o.MaxMessageSize, "max-message-size", "largest frame or message accepted; more closes with 1009 (e.g. 1MiB)")
	fs.IntVar(&o.MaxFrames, "max-message-frames", wire.DefaultMaxMessageFrames, "most frames one message may have; more closes with 1009 (0: no limit)")
	fs.BoolVar(&o.NoAutoPong, "no-auto-pong", false, "do not answer pings automatically")
	fs.BoolVar(&o.Strict, "strict", false, "fail the connection at the peer's first RFC 6455 violation (1002; 1007 for invalid UTF-8, at the first bad fragment), as a conforming endpoint must, instead of reporting it and going on")
	fs.DurationVar(&o.CloseTimeout, "close-timeout", wire.DefaultCloseTimeout, "how long the peer may stay silent once the close handshake started (replies still arriving extend it)")
	fs.DurationVar(&o.EOFWait, "eof-wait", session.DefaultEOFWait, "at the end of stdin, wait until the peer has sent nothing for this long before closing, so its last replies arrive (bounded by --close-timeout; 0: close at once)")
	fs.StringVar(&o.Record, "record", "", "write every event to `FILE` as a wscope recording, each within 10 ms of it happening (a new file: see --force); a FILE ending in .har gets a HAR (Chrome DevTools imports it), each connection's entry written when it ends")
	fs.BoolVar(&o.RecordSecrets, "record-secrets", false, "keep secrets in recordings: credential and API key headers, tokens in the query, the Kubernetes bearer subprotocol")
	fs.BoolVar(&o.RecordForce, "force", false, "let --record replace an existing FILE (a symbolic link is replaced, never written through)")
	fs.StringArrayVar(&o.Redact, "redact", nil, "also redact this header or query parameter `NAME` in recordings (repeatable)")
	fs.BoolVar(&o.NoTUI, "no-tui", false, "use the plain line mode at a terminal")
	fs.BoolVar(&o.NoHistory, "no-history", false, "do not keep the TUI's send history across runs")
	fs.IntVar(&o.Scrollback, "scrollback", 0, "rows the TUI keeps (0: 100000); older rows stay in the --record file")
	fs.DurationVar(&o.PingInterval, "ping-interval", 0, "send a ping this often (0: never); -v reports each pong's round trip")
	fs.DurationVar(&o.PingTimeout, "ping-timeout", 0, "with --ping-interval: close with 1001 when a ping waits this long for its pong (connect then exits 4)")
	fs.StringVar(&o.From, "from", "", "show only what one side sent: client or server (recordings keep everything)")
	fs.StringVar(&o.Op, "op", "", "show only these opcodes, e.g. text,binary or control")
	fs.StringVar(&o.Grep, "grep", "", "show only frames and messages whose payload (or decoded summary and fields) matches this `regexp`")
	fs.StringVar(&o.Decode, "decode", "", decodeUsage)
	o.Compress.addFlags(fs)
}

// options returns the session options the flags made, with compression
// prepared for the side playing role.
func (o *sessionOptions) options(role inspect.Role) (session.Options, error) {
	so := o.Options
	so.MaxMessageSize = int64(o.MaxMessageSize)
	cx, err := o.Compress.prepare(role)
	if err != nil {
		return so, err
	}
	so.Compress = cx
	return so, nil
}

// parseFilter reads the --from, --op, --grep and --conn flags.
var parseFilter = session.ParseFilter

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

// decodeUsage is the --decode flag's help, the same on every command.
var decodeUsage = "application protocol `decoder`: " + strings.Join(session.DecoderNames()[1:], ", ") +
	", or none (default: chosen from the subprotocol, the URL, then the first messages)"
