package cmd

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/session"
	tp "github.com/wscope/wscope/internal/testpeer"
)

func parseProxy(t *testing.T, args ...string) (*ProxyOptions, error) {
	t.Helper()
	return parseCmd(t, nil, NewCmdProxy, args...)
}

func TestNewCmdProxy(t *testing.T) {
	t.Parallel()
	o, err := parseProxy(t, "--upstream", "wss://example.com/ws")
	if err != nil || o.Listen != DefaultProxyAddr || o.Upstream != "wss://example.com/ws" || o.Output != session.FormatText ||
		o.CloseTimeout != defaultSession().CloseTimeout || o.MaxMessageSize != defaultSession().MaxMessageSize ||
		o.MaxConns != session.DefaultMaxConns || o.IdleTimeout != 0 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = parseProxy(t, "--upstream", "ws://h", "--listen", ":1", "-H", "X-A: 1", "--rewrite-host", "--rewrite-origin",
		"--once", "-o", "frames", "--record", "r.jsonl", "-k", "--tls-self-signed", "--proxy", "http://p:1", "--from", "server",
		"--max-conns", "7", "--idle-timeout", "30s")
	if err != nil {
		t.Fatal(err)
	}
	if o.Listen != ":1" || len(o.Headers) != 1 || !o.RewriteHost || !o.RewriteOrigin || !o.Once || o.Output != session.FormatFrames ||
		o.Record != "r.jsonl" || !o.TLS.Insecure || !o.ServerTLS.SelfSigned || o.Proxy != "http://p:1" || o.From != "server" ||
		o.MaxConns != 7 || o.IdleTimeout != 30*time.Second {
		t.Errorf("options %+v", o)
	}
	if _, err := parseProxy(t); err == nil || !strings.Contains(err.Error(), "upstream") {
		t.Errorf("no --upstream: %v", err)
	}
	// A relay sends nothing of its own: the sending flags are not offered.
	for _, flag := range []string{"--echo", "--stdin", "--compress", "--fragment", "--ping-interval", "--strict"} {
		if _, err := parseProxy(t, "--upstream", "ws://h", flag); err == nil {
			t.Errorf("%s accepted", flag)
		}
	}
}

func TestRunProxyUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"proxy", "--upstream", "ftp://h"},
		{"proxy", "--upstream", "ws://h", "-H", "bad"},
		{"proxy", "--upstream", "ws://h", "-o", "xml"},
		{"proxy", "--upstream", "ws://h", "--connect-timeout", "0s"},
		{"proxy", "--upstream", "ws://h", "--max-conns", "-1"},
		{"proxy", "--upstream", "ws://h", "--idle-timeout", "-1s"},
	} {
		if code, _, stderr := runWscope(t, "", args...); code != ExitUsage || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// startProxy runs proxyRun in-process towards upstream and returns its
// address and what it printed.
func startProxy(t *testing.T, upstream string, edit func(*ProxyOptions)) (addr string, out, errOut *syncBuffer, done <-chan error) {
	t.Helper()
	ios, out, errOut := testIO("")
	addrc := make(chan net.Addr, 1)
	opts := &ProxyOptions{IO: ios, Listen: "127.0.0.1:0", Upstream: upstream, ConnectTimeout: 5 * time.Second, ready: func(a net.Addr) { addrc <- a }}
	opts.sessionOptions = defaultSession()
	if edit != nil {
		edit(opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	d := make(chan error, 1)
	go func() { d <- proxyRun(ctx, opts) }()
	select {
	case a := <-addrc:
		return a.String(), out, errOut, d
	case err := <-d:
		t.Fatalf("proxy ended: %v", err)
	}
	return "", nil, nil, nil
}

// A gorilla client through the relay to a gorilla echo server: both
// directions in text output with their direction, and --once ends with
// the client's status.
func TestRunProxyEchoOnce(t *testing.T) {
	t.Parallel()
	addr, out, errOut, done := startProxy(t, gorillaEcho(t), func(o *ProxyOptions) { o.Once = true })
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "hello" {
		t.Fatalf("echo %q %v", p, err)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	c.ReadMessage()
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("proxy: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("proxy still running after --once")
	}
	if got, want := out.String(), "[1] c2s hello\n[1] s2c hello\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if e := errOut.String(); !strings.Contains(e, "relaying ws://127.0.0.1:") || !strings.Contains(e, "[1] closed: 1000") {
		t.Errorf("stderr %q", e)
	}
}

// With --once, an upstream that is not there ends the proxy with exit 3
// after the client got a 502.
func TestRunProxyUpstreamDownOnce(t *testing.T) {
	t.Parallel()
	addr, _, errOut, done := startProxy(t, "ws://"+closedAddr(t)+"/", func(o *ProxyOptions) { o.Once = true })
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err == nil || resp == nil || resp.StatusCode != 502 {
		t.Fatalf("client: %v %v", resp, err)
	}
	select {
	case err := <-done:
		if code := statusOf(err); code != ExitConnect {
			t.Errorf("exit %d (%v), want %d", code, err, ExitConnect)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("proxy still running")
	}
	if e := errOut.String(); !strings.Contains(e, "[1] ") || !strings.Contains(e, "could not connect") {
		t.Errorf("stderr %q", e)
	}
}

// A client that reads nothing while the upstream sends is dropped with
// its relay once a write to it has waited the write timeout.
func TestRunProxyDropsAStalledClient(t *testing.T) {
	t.Parallel()
	upstreamDropped := make(chan bool, 1)
	upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
		if rc.Accept() != nil {
			return
		}
		big := tp.ServerFrame(inspect.OpBinary, make([]byte, 1<<20))
		for range 256 {
			if rc.WriteFrame(big) != nil {
				upstreamDropped <- true
				return
			}
		}
		upstreamDropped <- false
	})
	addr, _, errOut, done := startProxy(t, upstream.URL(), func(o *ProxyOptions) {
		o.Once = true
		o.writeTimeout = 300 * time.Millisecond
		o.Output = session.FormatFrames // nothing shown per frame but its header
	})
	tp.DialRaw(t, "ws://"+addr+"/", tp.RawDialOptions{}) // never reads
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("proxy --once still running: the stalled client was not dropped")
	}
	if e := errOut.String(); !regexp.MustCompile(`\[1\] closed: .*dropped: the client took nothing of what was sent for 300ms`).MatchString(e) {
		t.Errorf("stderr does not say the stalled client was dropped:\n%s", e)
	}
	select {
	case dropped := <-upstreamDropped:
		if !dropped {
			t.Error("256 MiB went through to a client that reads nothing")
		}
	case <-time.After(5 * time.Second):
		t.Error("the upstream is still connected")
	}
}
