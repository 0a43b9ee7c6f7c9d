package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"

	"github.com/wscope/wscope/internal/session"
	"github.com/wscope/wscope/internal/wire"
)

// syncBuffer is a bytes.Buffer safe for a command's goroutines and the
// test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testIO returns streams on stdin and two buffers, not at a terminal.
func testIO(stdin string) (*IOStreams, *syncBuffer, *syncBuffer) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	return &IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut}, out, errOut
}

// runWscope runs the whole command line in-process and returns the exit
// status and both outputs.
func runWscope(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, out, errOut := testIO(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code = Run(ctx, ios, args)
	return code, out.String(), errOut.String()
}

// defaultSession is what sessionOptions hold when no flag is given.
func defaultSession() sessionOptions {
	return sessionOptions{
		Options: session.Options{
			Output:       session.FormatText,
			BinaryAs:     "base64",
			Stdin:        session.StdinLines,
			MaxFrames:    wire.DefaultMaxMessageFrames,
			CloseTimeout: wire.DefaultCloseTimeout,
			EOFWait:      session.DefaultEOFWait,
		},
		MaxMessageSize: wire.DefaultMaxMessageSize,
	}
}

// parseCmd runs the command newCmd makes, on ios (nil: testIO("")), with
// args and a runF that keeps the options, and returns them. It prints
// nothing.
func parseCmd[O any](t *testing.T, ios *IOStreams, newCmd func(*IOStreams, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	if ios == nil {
		ios, _, _ = testIO("")
	}
	var got *O
	c := newCmd(ios, func(_ context.Context, o *O) error {
		got = o
		return nil
	})
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	if err := c.Execute(); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	return got, nil
}

// parseConnect runs `connect args...` with a runF that keeps the options.
func parseConnect(t *testing.T, ios *IOStreams, args ...string) (*ConnectOptions, error) {
	t.Helper()
	return parseCmd(t, ios, NewCmdConnect, args...)
}

// statusOf is the exit status Run would turn a run function's error into.
func statusOf(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	}
	return ExitUsage
}

func TestNewCmdConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		change func(*ConnectOptions)
	}{
		{"defaults", []string{"ws://h/"}, func(*ConnectOptions) {}},
		{"headers repeated, commas kept", []string{"-H", "A: 1", "--header", "B: 2,3", "ws://h/"}, func(o *ConnectOptions) {
			o.Headers = []string{"A: 1", "B: 2,3"}
		}},
		{"subprotocols comma list and repeated", []string{"-s", "a,b", "--subprotocol", "c", "ws://h/"}, func(o *ConnectOptions) {
			o.Subprotocols = []string{"a", "b", "c"}
		}},
		{"origin", []string{"--origin", "https://app.example", "ws://h/"}, func(o *ConnectOptions) { o.Origin = "https://app.example" }},
		{"auth", []string{"--auth", "user:p:ss", "ws://h/"}, func(o *ConnectOptions) { o.Auth = "user:p:ss" }},
		{"insecure", []string{"-k", "wss://h/"}, func(o *ConnectOptions) { o.URL, o.TLS.Insecure = "wss://h/", true }},
		{"insecure long", []string{"--insecure", "wss://h/"}, func(o *ConnectOptions) { o.URL, o.TLS.Insecure = "wss://h/", true }},
		{"ca cert key", []string{"--ca", "ca.pem", "--cert", "c.pem", "--key", "k.pem", "ws://h/"}, func(o *ConnectOptions) {
			o.TLS = tlsOptions{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}
		}},
		{"connect timeout", []string{"--connect-timeout", "3s", "ws://h/"}, func(o *ConnectOptions) { o.ConnectTimeout = 3 * time.Second }},
		{"execute repeated, commas kept", []string{"-x", "a", "--execute", "b,c", "-x", "/ping", "ws://h/"}, func(o *ConnectOptions) {
			o.Execute = []string{"a", "b,c", "/ping"}
		}},
		{"wait", []string{"-w", "2s", "ws://h/"}, func(o *ConnectOptions) { o.Wait = 2 * time.Second }},
		{"wait long", []string{"--wait", "150ms", "ws://h/"}, func(o *ConnectOptions) { o.Wait = 150 * time.Millisecond }},
		{"output", []string{"-o", "json", "ws://h/"}, func(o *ConnectOptions) { o.Output = session.FormatJSON }},
		{"output long", []string{"--output=frames", "ws://h/"}, func(o *ConnectOptions) { o.Output = session.FormatFrames }},
		{"output not validated by parsing", []string{"-o", "yaml", "ws://h/"}, func(o *ConnectOptions) { o.Output = "yaml" }},
		{"binary-as", []string{"--binary-as", "hex", "ws://h/"}, func(o *ConnectOptions) { o.BinaryAs = "hex" }},
		{"show-control", []string{"--show-control", "ws://h/"}, func(o *ConnectOptions) { o.ShowControl = true }},
		{"verbose", []string{"-v", "ws://h/"}, func(o *ConnectOptions) { o.Verbose = true }},
		{"binary", []string{"--binary", "ws://h/"}, func(o *ConnectOptions) { o.Binary = true }},
		{"stdin", []string{"--stdin", "raw", "ws://h/"}, func(o *ConnectOptions) { o.Stdin = session.StdinRaw }},
		{"echo", []string{"--echo", "ws://h/"}, func(o *ConnectOptions) { o.Echo = true }},
		{"fragment", []string{"--fragment", "16", "ws://h/"}, func(o *ConnectOptions) { o.Fragment = 16 }},
		{"max-message-size", []string{"--max-message-size", "1MiB", "ws://h/"}, func(o *ConnectOptions) { o.MaxMessageSize = 1 << 20 }},
		{"max-message-size bytes", []string{"--max-message-size=4096", "ws://h/"}, func(o *ConnectOptions) { o.MaxMessageSize = 4096 }},
		{"max-message-size unlimited", []string{"--max-message-size", "0", "ws://h/"}, func(o *ConnectOptions) { o.MaxMessageSize = 0 }},
		{"no-auto-pong", []string{"--no-auto-pong", "ws://h/"}, func(o *ConnectOptions) { o.NoAutoPong = true }},
		{"strict", []string{"--strict", "ws://h/"}, func(o *ConnectOptions) { o.Strict = true }},
		{"close-timeout", []string{"--close-timeout", "2s", "ws://h/"}, func(o *ConnectOptions) { o.CloseTimeout = 2 * time.Second }},
		{"record-secrets", []string{"--record-secrets", "ws://h/"}, func(o *ConnectOptions) { o.RecordSecrets = true }},
		{"force and redact", []string{"--record", "r.jsonl", "--force", "--redact", "X-Tenant", "--redact", "sid", "ws://h/"}, func(o *ConnectOptions) {
			o.Record, o.RecordForce, o.Redact = "r.jsonl", true, []string{"X-Tenant", "sid"}
		}},
		{"no-tui", []string{"--no-tui", "ws://h/"}, func(o *ConnectOptions) { o.NoTUI = true }},
		{"transport", []string{"--proxy", "socks5://p:1", "--no-proxy", "--unix", "/s", "--keylog", "k.log", "ws://h/"}, func(o *ConnectOptions) {
			o.Proxy, o.NoProxy, o.Unix, o.TLS.Keylog = "socks5://p:1", true, "/s", "k.log"
		}},
		{"redirects", []string{"-L", "--max-redirects", "3", "ws://h/"}, func(o *ConnectOptions) { o.Location, o.MaxRedirects = true, 3 }},
		{"reconnect", []string{"--reconnect", "--reconnect-max-delay", "2s", "--reconnect-attempts", "0", "ws://h/"}, func(o *ConnectOptions) {
			o.Reconnect, o.ReconnectMaxDelay, o.ReconnectAttempts = true, 2*time.Second, 0
		}},
		{"heartbeat", []string{"--ping-interval", "1s", "--ping-timeout", "3s", "ws://h/"}, func(o *ConnectOptions) {
			o.PingInterval, o.PingTimeout = time.Second, 3*time.Second
		}},
		{"tui options", []string{"--no-history", "--scrollback", "500", "ws://h/"}, func(o *ConnectOptions) { o.NoHistory, o.Scrollback = true, 500 }},
		{"filters and record", []string{"--from", "server", "--op", "text", "--grep", "x", "--record", "r.jsonl", "ws://h/"}, func(o *ConnectOptions) {
			o.From, o.Op, o.Grep, o.Record = "server", "text", "x", "r.jsonl"
		}},
		{"flags after the URL", []string{"ws://h/", "-o", "json", "-k"}, func(o *ConnectOptions) { o.Output, o.TLS.Insecure = session.FormatJSON, true }},
		{"URL taken as given", []string{"127.0.0.1:9000/x?y=1"}, func(o *ConnectOptions) { o.URL = "127.0.0.1:9000/x?y=1" }},
		{"dash dash", []string{"--", "-odd"}, func(o *ConnectOptions) { o.URL = "-odd" }},
		{"everything", []string{
			"-H", "X: 1", "-s", "p1,p2", "--origin", "o", "--auth", "u:p", "-k", "--ca", "ca", "--cert", "c", "--key", "k",
			"--connect-timeout", "1s", "-x", "m", "-w", "1s", "-o", "frames", "--binary-as", "raw", "--show-control", "-v",
			"--binary", "--stdin", "json", "--echo", "--fragment", "3", "--max-message-size", "2K", "--no-auto-pong",
			"--strict", "--close-timeout", "750ms", "--record-secrets", "--no-tui", "wss://h:1/p",
		}, func(o *ConnectOptions) {
			o.URL, o.Headers, o.Subprotocols, o.Origin, o.Auth = "wss://h:1/p", []string{"X: 1"}, []string{"p1", "p2"}, "o", "u:p"
			o.TLS = tlsOptions{Insecure: true, CAFile: "ca", CertFile: "c", KeyFile: "k"}
			o.ConnectTimeout, o.Execute, o.Wait = time.Second, []string{"m"}, time.Second
			o.sessionOptions = sessionOptions{Options: session.Options{
				Output: session.FormatFrames, BinaryAs: "raw", ShowControl: true, Verbose: true, Binary: true, Stdin: session.StdinJSON,
				Echo: true, Fragment: 3, MaxFrames: wire.DefaultMaxMessageFrames, NoAutoPong: true, Strict: true,
				CloseTimeout: 750 * time.Millisecond, EOFWait: session.DefaultEOFWait, RecordSecrets: true, NoTUI: true,
			}, MaxMessageSize: 2048}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _ := testIO("")
			got, err := parseConnect(t, ios, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			want := &ConnectOptions{IO: ios, URL: "ws://h/", ConnectTimeout: 10 * time.Second, MaxRedirects: 10, ReconnectMaxDelay: 30 * time.Second, ReconnectAttempts: 10, sessionOptions: defaultSession()}
			tt.change(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("options\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestNewCmdConnectArgErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"ws://a/", "ws://b/"},
		{"--fragment", "x", "ws://h/"},
		{"--max-message-size", "1T", "ws://h/"},
		{"--connect-timeout", "5", "ws://h/"},
		{"--bogus", "ws://h/"},
		{"-H"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			ios, _, _ := testIO("")
			if o, err := parseConnect(t, ios, args...); err == nil {
				t.Errorf("parsed into %+v, want an error", o)
			}
		})
	}
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing listens here, so a test that got past its usage error would
	// fail to connect and exit 3, not 2.
	closed := closedAddr(t)
	exists := filepath.Join(dir, "exists.jsonl")
	if err := os.WriteFile(exists, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"connect", "--record", exists, "ws://" + closed}, "--record: " + exists + " exists (--force replaces it)"},
		{[]string{"connect", "--record", link, "ws://" + closed}, "--record: " + link + " is a symbolic link (--force replaces the link, not what it points to)"},
		{[]string{"listen", "--record", exists, "127.0.0.1:0"}, "--record: " + exists + " exists"},
		{[]string{"proxy", "--record", exists, "--upstream", "ws://" + closed, "--listen", "127.0.0.1:0"}, "--record: " + exists + " exists"},
		{[]string{"replay", "--record", exists, "--url", "ws://" + closed, "../testdata/connect-echo.wsrec.jsonl"}, "--record: " + exists + " exists"},
		{[]string{"connect", "--redact", "", "ws://" + closed}, `--redact "": want a header or query parameter name`},
		{[]string{"connect", "--redact", "a=b", "ws://" + closed}, `--redact "a=b"`},
		{[]string{"replay", "--redact", "?token", "--url", "ws://" + closed, "../testdata/connect-echo.wsrec.jsonl"}, `--redact "?token"`},
		{[]string{"connect"}, "accepts 1 arg(s), received 0"},
		{[]string{"connect", "ws://a/", "ws://b/"}, "accepts 1 arg(s), received 2"},
		{[]string{"connect", "--bogus", "ws://" + closed}, "unknown flag: --bogus (see 'wscope connect --help')"},
		{[]string{"connect", "-Z", "ws://" + closed}, "unknown shorthand flag: 'Z' in -Z (see 'wscope connect --help')"},
		{[]string{"connect", "--fragment", "x", "ws://" + closed}, `invalid argument "x" for "--fragment"`},
		{[]string{"connect", "--max-message-size", "1T", "ws://" + closed}, `invalid size "1T"`},
		{[]string{"connect", "--no-tui=maybe", "ws://" + closed}, "--no-tui"},
		{[]string{"connect", "-o", "yaml", "ws://" + closed}, `unknown output format "yaml"`},
		{[]string{"connect", "--binary-as", "octal", "ws://" + closed}, `unknown --binary-as "octal"`},
		{[]string{"connect", "--stdin", "xml", "ws://" + closed}, `unknown --stdin mode "xml"`},
		{[]string{"connect", "--fragment", "-1", "ws://" + closed}, "--fragment"},
		{[]string{"connect", "--close-timeout", "0s", "ws://" + closed}, "--close-timeout"},
		{[]string{"connect", "ftp://" + closed}, "scheme must be ws or wss"},
		{[]string{"connect", "ws://" + closed + "/#frag"}, "#fragment"},
		{[]string{"connect", "ws:///nohost"}, "no host"},
		{[]string{"connect", "-H", "No colon", "ws://" + closed}, `invalid header "No colon"`},
		{[]string{"connect", "-H", "X: a\r\nEvil: b", "ws://" + closed}, "invalid header"},
		{[]string{"connect", "--ca", filepath.Join(dir, "missing.pem"), "wss://" + closed}, "--ca: "},
		{[]string{"connect", "--ca", notPEM, "wss://" + closed}, "--ca: no PEM certificate"},
		{[]string{"connect", "--cert", notPEM, "wss://" + closed}, "--cert and --key go together"},
		{[]string{"listen", "--max-conns", "-1", "127.0.0.1:0"}, "--max-conns must not be negative"},
		{[]string{"listen", "-o", "yaml", "127.0.0.1:0"}, `unknown output format "yaml"`},
		{[]string{"listen", "a", "b"}, "accepts at most 1 arg(s), received 2"},
		{[]string{"listen", "--bogus"}, "unknown flag: --bogus (see 'wscope listen --help')"},
		{[]string{"nope"}, `unknown command "nope" for "wscope"`},
		{[]string{"version", "extra"}, `unknown command "extra" for "wscope version"`},
		{[]string{"--bogus"}, "unknown flag: --bogus (see 'wscope --help')"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runWscope(t, "", tt.args...)
			if code != ExitUsage {
				t.Errorf("exit status %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if !strings.HasPrefix(stderr, "wscope: ") || !strings.Contains(stderr, tt.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", stderr, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing (no usage dump)", stdout)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"connect", "--help"}, {"listen", "-h"}, {"help", "connect"}} {
		code, stdout, stderr := runWscope(t, "", args...)
		if code != ExitOK || stderr != "" || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: exit %d, stdout %.80q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRunConnectRefusedTCP(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runWscope(t, "hi\n", "connect", "--connect-timeout", "5s", "ws://"+closedAddr(t)+"/")
	if code != ExitConnect {
		t.Errorf("exit status %d, want %d", code, ExitConnect)
	}
	if !strings.Contains(stderr, "could not connect") || stdout != "" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
}

// refusingServer answers every request with 403 and keeps its headers.
func refusingServer(t *testing.T) (*httptest.Server, func() http.Header) {
	t.Helper()
	var mu sync.Mutex
	var last http.Header
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("X-Why", "testing")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "go away")
	}))
	t.Cleanup(ts.Close)
	return ts, func() http.Header {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestRunConnectHandshakeRefused(t *testing.T) {
	t.Parallel()
	ts, header := refusingServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	code, stdout, stderr := runWscope(t, "hi\n", "connect",
		"-H", "X-One: 1", "-H", "X-Dup: a", "-H", "X-Dup: b",
		"-s", "chat, superchat", "-s", " v2 ",
		"--origin", "https://app.example",
		"--auth", "user:pass",
		"-k",
		"ws://"+addr+"/path?q=1")
	if code != ExitConnect {
		t.Errorf("exit status %d, want %d", code, ExitConnect)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	for _, want := range []string{
		"wscope: WARNING: TLS certificate verification is disabled (-k)",
		"wscope: handshake refused: HTTP 403 Forbidden\n",
		"< HTTP/1.1 403 Forbidden\n",
		"< X-Why: testing\n",
		"<\ngo away\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
	h := header()
	if h == nil {
		t.Fatal("the server saw no request")
	}
	checks := map[string]string{
		"X-One":         "1",
		"Origin":        "https://app.example",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pass")),
		"Upgrade":       "websocket",
	}
	for name, want := range checks {
		if got := h.Get(name); got != want {
			t.Errorf("request header %s = %q, want %q", name, got, want)
		}
	}
	if got := h.Values("X-Dup"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Dup = %q, want both values in order", got)
	}
	if got := strings.Join(h.Values("Sec-Websocket-Protocol"), ","); strings.ReplaceAll(got, " ", "") != "chat,superchat,v2" {
		t.Errorf("Sec-WebSocket-Protocol = %q, want chat, superchat, v2", got)
	}
}

func TestRunConnectURLCredentials(t *testing.T) {
	t.Parallel()
	ts, header := refusingServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	code, _, _ := runWscope(t, "", "connect", "ws://user:pass@"+addr+"/")
	if code != ExitConnect {
		t.Errorf("exit status %d, want %d", code, ExitConnect)
	}
	if got, want := header().Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("user:pass")); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
}

func TestRunConnectURLCredentialsEscaped(t *testing.T) {
	t.Parallel()
	t.Skip(`bug: credentials in the URL are sent as u.User.String(), which is still percent-encoded: ws://us%40er:p%40ss@host sends Basic base64("us%40er:p%40ss") instead of base64("us@er:p@ss") (cmd/connect.go:112)`)
	ts, header := refusingServer(t)
	addr := strings.TrimPrefix(ts.URL, "http://")
	runWscope(t, "", "connect", "ws://us%40er:p%40ss%3A@"+addr+"/")
	if got, want := header().Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("us@er:p@ss:")); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
}

// gorillaEcho is an independent WebSocket echo server (gorilla/websocket)
// that answers a message "close CODE" by closing with that code.
func gorillaEcho(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: []string{"chat"}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			op, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			var code int
			if _, err := fmt.Sscanf(string(p), "close %d", &code); err == nil {
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "asked"), time.Now().Add(time.Second))
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}
			if err := c.WriteMessage(op, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return "ws://" + strings.TrimPrefix(ts.URL, "http://") + "/echo"
}

func TestRunConnectEcho(t *testing.T) {
	t.Parallel()
	url := gorillaEcho(t)
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "lines", stdin: "hello\r\n\nworld", stdout: "hello\n\nworld\n"},
		{name: "binary lines", stdin: "\x00\x01\n", args: []string{"--binary"}, stdout: "AAE=\n"},
		{name: "binary as hex", stdin: "hi\n", args: []string{"--binary", "--binary-as", "hex"}, stdout: "6869\n"},
		{name: "json stdin", stdin: `{"text":"a"}` + "\n" + `{"hex":"ff"}` + "\n" + `{"text":"abcdef","fragment":2}` + "\n", args: []string{"--stdin", "json"}, stdout: "a\n/w==\nabcdef\n"},
		{name: "slash commands are text in a pipe", stdin: "/ping x\n", stdout: "/ping x\n"},
		{name: "execute", stdin: "not read\n", args: []string{"-x", "one", "-x", "//two", "-x", "/ping p", "--show-control"}, stdout: "one\n/two\n[pong] p\n[close] 1000 Normal Closure\n"},
		{name: "fragment", stdin: "fragmented\n", args: []string{"--fragment", "3"}, stdout: "fragmented\n"},
		{name: "verbose", stdin: "x\n", args: []string{"-v", "-s", "chat"}, stdout: "x\n", stderr: "< HTTP/1.1 101 Switching Protocols"},
		{name: "server closes 4001", stdin: "close 4001\n", args: []string{"-w", "5s"}, code: ExitAbnormal, stderr: "wscope: connection ended abnormally: 4001 Private Use \"asked\" by server"},
		{name: "server closes 1001", stdin: "close 1001\n", args: []string{"-w", "5s"}, code: ExitOK},
		{name: "bad input line is skipped, and fails the run", stdin: "{\n" + `{"text":"ok"}` + "\n", args: []string{"--stdin", "json"}, code: ExitRuntime, stdout: "ok\n", stderr: "wscope: 1 line of input was not sent (named above)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runWscope(t, tt.stdin, append(append([]string{"connect"}, tt.args...), url)...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) || tt.stderr == "" && stderr != "" {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
		})
	}
}

func TestRunConnectJSONRecording(t *testing.T) {
	t.Parallel()
	url := gorillaEcho(t)
	for _, secrets := range []bool{false, true} {
		t.Run(fmt.Sprint("secrets=", secrets), func(t *testing.T) {
			t.Parallel()
			args := []string{"connect", "-o", "json", "--auth", "user:pass", "-H", "Cookie: c=1", url}
			if secrets {
				args = append(args, "--record-secrets")
			}
			code, stdout, stderr := runWscope(t, "hello\n", args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) < 7 {
				t.Fatalf("%d lines, want header, open, frames, msgs, end:\n%s", len(lines), stdout)
			}
			if !strings.HasPrefix(lines[0], `{"wsrec":1,`) || !strings.Contains(lines[1], `"ev":"open"`) || !strings.Contains(lines[len(lines)-1], `"ev":"end"`) {
				t.Errorf("recording shape:\n%s", stdout)
			}
			for _, want := range []string{`"ev":"msg","conn":1,"dir":"c2s","op":"text"`, `"ev":"msg","conn":1,"dir":"s2c","op":"text"`, `"text":"hello"`} {
				if !strings.Contains(stdout, want) {
					t.Errorf("recording lacks %s", want)
				}
			}
			secret := base64.StdEncoding.EncodeToString([]byte("user:pass"))
			if strings.Contains(stdout, secret) != secrets || strings.Contains(stdout, "c=1") != secrets {
				t.Errorf("secrets present=%v with --record-secrets=%v:\n%s", !secrets, secrets, lines[1])
			}
			if !secrets && !strings.Contains(lines[1], `["Authorization","[redacted]"]`) {
				t.Errorf("open event without the redacted Authorization: %s", lines[1])
			}
		})
	}
}

func TestSilent(t *testing.T) {
	t.Parallel()
	if err := silent(ExitOK); err != nil {
		t.Errorf("silent(0) = %v, want nil", err)
	}
	err := silent(ExitAbnormal)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitAbnormal || !ee.Silent || err.Error() != "exit status 4" {
		t.Errorf("silent(4) = %#v (%v)", err, err)
	}
	ios, _, errOut := testIO("")
	if code := Run(context.Background(), ios, []string{"connect", "-o", "x", "ws://h/"}); code != ExitUsage || errOut.String() == "" {
		t.Errorf("usage error: exit %d, stderr %q", code, errOut)
	}
	ee = &ExitError{Code: 3, Err: errors.New("inner")}
	if !errors.Is(ee, ee.Err) || ee.Error() != "inner" {
		t.Errorf("ExitError does not wrap its error: %v", ee)
	}
}

// Credentials in the URL go as an Authorization header; neither the URL
// nor the header of the recording has them.
func TestRunConnectURLCredentialsNotRecorded(t *testing.T) {
	t.Parallel()
	url := strings.Replace(gorillaEcho(t), "ws://", "ws://ann:pw-s3cret@", 1)
	code, stdout, stderr := runWscope(t, "hello\n", "connect", "-o", "json", url)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "pw-s3cret") || strings.Contains(stdout, base64.StdEncoding.EncodeToString([]byte("ann:pw-s3cret"))) ||
		!strings.Contains(stdout, `["Authorization","[redacted]"]`) || !strings.Contains(stdout, `"text":"hello"`) {
		t.Errorf("recording:\n%.2000s", stdout)
	}
}
