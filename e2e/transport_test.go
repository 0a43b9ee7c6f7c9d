package e2e

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/wscope/wscope/inspect"

	tp "github.com/wscope/wscope/internal/testpeer"
)

func TestConnectThroughProxies(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})

	p := tp.NewHTTPProxy(t, "ann:pw", false)
	withCreds := *p.URL
	withCreds.User = url.UserPassword("ann", "pw")
	r := run(t, "via connect\n", "connect", srv.URL(), "--proxy", withCreds.String())
	r.expectCode(t, 0)
	if r.Stdout != "via connect\n" || p.Connects() != 1 {
		t.Errorf("stdout %q, %d CONNECTs", r.Stdout, p.Connects())
	}
	if strings.Contains(r.Stderr, "pw") || !strings.Contains(r.Stderr, "using proxy http://127.0.0.1") {
		t.Errorf("stderr %q: says the proxy, never its password", r.Stderr)
	}

	// A proxy that refuses: exit 3, and why.
	r = run(t, "", "connect", srv.URL(), "--proxy", p.URL.String())
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "407 Proxy Authentication Required") {
		t.Errorf("stderr %q", r.Stderr)
	}
	refusing := tp.NewHTTPProxy(t, "", true)
	r = run(t, "", "connect", srv.URL(), "--proxy", refusing.URL.String())
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "refused CONNECT") {
		t.Errorf("stderr %q", r.Stderr)
	}

	s5, asked := tp.NewSOCKS5Proxy(t, "bob", "s3")
	r = run(t, "via socks\n", "connect", srv.URL(), "--proxy", s5.String())
	r.expectCode(t, 0)
	if r.Stdout != "via socks\n" || <-asked != srv.Addr() {
		t.Errorf("socks5: stdout %q", r.Stdout)
	}

	r = run(t, "", "connect", srv.URL(), "--proxy", "ftp://x:1")
	r.expectCode(t, 2)
}

// TestConnectHonoursProxyEnvironment sets HTTP_PROXY for the child only:
// a socks5h proxy that resolves the made-up name itself.
func TestConnectHonoursProxyEnvironment(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	_, port, _ := net.SplitHostPort(srv.Addr())
	s5, asked := tp.NewSOCKS5Proxy(t, "", "")
	h5 := *s5
	h5.Scheme = "socks5h"
	target := "ws://echo.wscope.test:" + port + "/"
	env := append(append([]string(nil), testEnv...), "HTTP_PROXY="+h5.String(), "NO_PROXY=")
	r := runEnv(t, env, "from env\n", "connect", target)
	r.expectCode(t, 0)
	if r.Stdout != "from env\n" || <-asked != "echo.wscope.test:"+port {
		t.Errorf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	// --no-proxy ignores it (and the made-up name does not resolve).
	r = runEnv(t, env, "", "connect", target, "--no-proxy", "--connect-timeout", "2s")
	r.expectCode(t, 3)
	// NO_PROXY excludes the host.
	r = runEnv(t, append(env, "NO_PROXY=.wscope.test"), "", "connect", target, "--connect-timeout", "2s")
	r.expectCode(t, 3)
}

func TestConnectOverUnixSocket(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "ws") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	hosts := make(chan string, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host + r.URL.Path
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, p)
		}
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	r := run(t, "over unix\n", "connect", "ws://docker/v1/attach", "--unix", path)
	r.expectCode(t, 0)
	if r.Stdout != "over unix\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	if h := <-hosts; h != "docker/v1/attach" {
		t.Errorf("server saw %s", h)
	}
	r = run(t, "", "connect", "ws://docker/", "--unix", filepath.Join(dir, "missing.sock"))
	r.expectCode(t, 2)
}

func TestConnectHeartbeat(t *testing.T) {
	t.Parallel()
	// An independent server that answers pings: pongs come back with
	// their round trip, and the session ends cleanly.
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := run(t, "", "connect", srv.URL(), "--ping-interval", "50ms", "--ping-timeout", "1s", "-w", "400ms", "-v", "-o", "json")
	r.expectCode(t, 0)
	pings := 0
	for _, f := range filter(parseEvents(t, r.Stdout), "frame", "c2s") {
		if f["op"] == "ping" {
			pings++
		}
	}
	if pings < 3 || !strings.Contains(r.Stderr, "wscope: pong wscope-1: rtt ") {
		t.Errorf("%d pings; stderr %q", pings, r.Stderr)
	}

	// A server that stops answering pings: close 1001 and exit 4.
	closed := make(chan int, 1)
	silent := acceptThen(t, func(rc *tp.RawConn) {
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			if f.Op == inspect.OpClose {
				ci, _ := f.Close()
				closed <- ci.Code
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			}
		}
	})
	p := start(t, "connect", silent.URL(), "--ping-interval", "50ms", "--ping-timeout", "300ms")
	if code := p.wait(step); code != 4 {
		t.Fatalf("exit %d, want 4; stderr %s", code, p.stderr)
	}
	if code := <-closed; code != 1001 {
		t.Errorf("closed with %d, want 1001", code)
	}
	if !strings.Contains(p.stderr.String(), "no pong within 300ms") {
		t.Errorf("stderr %s", p.stderr)
	}
}

func TestConnectFollowsRedirects(t *testing.T) {
	t.Parallel()
	final := tp.NewServer(t, tp.ServerOptions{Echo: true})
	hop := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.AcceptWith("HTTP/1.1 302 Found", tp.H("Location", final.URL()+"moved"), tp.H("Content-Length", "0"))
		rc.WaitEOF(step)
	})
	// Without -L a redirect is a refused handshake.
	r := run(t, "", "connect", hop.URL())
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "HTTP 302 Found") || !strings.Contains(r.Stderr, "< Location: "+final.URL()+"moved") {
		t.Errorf("stderr %q", r.Stderr)
	}
	r = run(t, "after a hop\n", "connect", hop.URL(), "-L")
	r.expectCode(t, 0)
	if r.Stdout != "after a hop\n" || !strings.Contains(r.Stderr, "302 redirect to "+final.URL()+"moved") {
		t.Errorf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	// -L -v shows each hop's handshake, then the last one's.
	r = run(t, "", "connect", hop.URL(), "-L", "-v")
	r.expectCode(t, 0)
	if strings.Count(r.Stderr, "> GET ") != 2 || !strings.Contains(r.Stderr, "< HTTP/1.1 302 Found") || !strings.Contains(r.Stderr, "< HTTP/1.1 101 Switching Protocols") {
		t.Errorf("-L -v stderr:\n%s", r.Stderr)
	}
	r = run(t, "", "connect", hop.URL(), "-L", "--max-redirects", "0")
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "more than 0 redirects") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestReplayThroughAProxy(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	rec := filepath.Join(t.TempDir(), "p.wsrec.jsonl")
	r := run(t, "one\ntwo\n", "connect", srv.URL(), "--record", rec)
	r.expectCode(t, 0)
	p := tp.NewHTTPProxy(t, "", false)
	r = run(t, "", "replay", rec, "--proxy", p.URL.String())
	r.expectCode(t, 0)
	if p.Connects() != 1 {
		t.Errorf("%d CONNECTs through the proxy", p.Connects())
	}
}

func TestConnectThroughAnHTTPSProxy(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	pk := newPKI(t)
	cert, _, _ := pk.issue(t, "proxy", false, "127.0.0.1")
	p := tp.NewHTTPSProxy(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	// The proxy's certificate is checked like a server's: --ca trusts it.
	r := run(t, "via tls\n", "connect", srv.URL(), "--proxy", p.URL.String(), "--ca", pk.CAFile)
	r.expectCode(t, 0)
	if r.Stdout != "via tls\n" || p.Connects() != 1 {
		t.Errorf("stdout %q, %d CONNECTs", r.Stdout, p.Connects())
	}
	r = run(t, "", "connect", srv.URL(), "--proxy", p.URL.String())
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "TLS with proxy") {
		t.Errorf("untrusted proxy: %q", r.Stderr)
	}
}

func TestListenHeartbeat(t *testing.T) {
	t.Parallel()
	p := start(t, "listen", "127.0.0.1:0", "--ping-interval", "50ms", "--ping-timeout", "400ms", "-v")
	url := "ws://" + p.listenAddr() + "/"
	// A library client answers pings: its pongs are timed.
	c := tp.Dial(t, url, tp.ClientOptions{})
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] pong wscope-1: rtt `), step)
	c.Close(1000, "")
	// A raw client never answers: after 400ms it is closed with 1001.
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	for {
		f, err := rc.ReadFrame(step)
		if err != nil {
			t.Fatal(err)
		}
		if f.Op == inspect.OpClose {
			if ci, _ := f.Close(); ci.Code != 1001 || ci.Reason != "pong timeout" {
				t.Errorf("closed with %v", ci)
			}
			break
		}
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[2\] no pong within 400ms`), step)
}
