package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// listen holds at most 100,000 clients unless told, and says so in --help.
func TestListenDefaultConnectionCap(t *testing.T) {
	t.Parallel()
	r := run(t, "", "listen", "--help")
	r.expectCode(t, 0)
	if !regexp.MustCompile(`--max-conns int\s+refuse\s+clients\s+beyond\s+this\s+many\s+at\s+once\s+with\s+503\s+\(0:\s+no\s+limit\)\s+\(default\s+100000\)`).MatchString(r.Stdout) {
		t.Errorf("listen --help does not give the default cap:\n%s", bounded(r.Stdout))
	}
}

func TestProxyMaxConns(t *testing.T) {
	t.Parallel()
	up := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, url := proxyTo(t, up.URL(), "--max-conns", "1")
	c := tp.Dial(t, url+"/", tp.ClientOptions{})
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] \S+ relayed to `), step)
	_, resp, err := tp.TryDial(t, url+"/", tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("second client: err %v, response %v; want a 503", err, resp)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[2\] refused 127\.0\.0\.1:\d+: --max-conns 1 reached$`), step)
	if n := len(up.Requests()); n != 1 {
		t.Errorf("the upstream got %d upgrade requests, want 1", n)
	}
	// The first one still works; once it is gone there is room again.
	c.Send(tp.TextMsg("first"))
	if m, err := c.Read(step); err != nil || string(m.Data) != "first" {
		t.Fatalf("echo %v %v", m, err)
	}
	c.Close(1000, "")
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: `), step)
	c = tp.Dial(t, url+"/", tp.ClientOptions{})
	c.Send(tp.TextMsg("third"))
	if m, err := c.Read(step); err != nil || string(m.Data) != "third" {
		t.Fatalf("echo %v %v", m, err)
	}
}

// A client that sends nothing for --idle-timeout is closed with 1001 and
// a reason that says why.
func TestListenIdleTimeout(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--idle-timeout", "300ms")
	rc := tp.DialRaw(t, url+"/", tp.RawDialOptions{})
	f, _ := readClose(t, rc)
	if ci, _ := f.Close(); ci.Code != 1001 || ci.Reason != "idle for 300ms" {
		t.Errorf("close %v, want 1001 \"idle for 300ms\"", ci)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: 1001 Going Away "idle for 300ms" by server, clean$`), step)
}

// A relay in which neither side sends anything for --idle-timeout is
// closed with 1001 towards both.
func TestProxyIdleTimeout(t *testing.T) {
	t.Parallel()
	up := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, url := proxyTo(t, up.URL(), "--idle-timeout", "300ms")
	c := tp.Dial(t, url+"/", tp.ClientOptions{})
	want := tp.CloseInfo{Code: 1001, Reason: "idle for 300ms"}
	if ci, ok := c.WaitClosed(step); !ok || ci != want {
		t.Errorf("client got %v %v, want %v", ci, ok, want)
	}
	if ci, ok := up.WaitClosed(step); !ok || ci != want {
		t.Errorf("upstream got %v %v, want %v", ci, ok, want)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: 1001 Going Away "idle for 300ms" by proxy, clean$`), step)
}

// Requests that two HTTP readers could read differently, and paths that
// would leave the upstream's, get 400 from the proxy and never reach the
// upstream.
func TestProxyRefusesWhatItShould(t *testing.T) {
	t.Parallel()
	up := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, url := proxyTo(t, up.URL()+"api/")
	request := func(target, extra string) []byte {
		return []byte("GET " + target + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + tp.SampleKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n")
	}
	for i, c := range []struct {
		req     []byte
		problem string
	}{
		{request("/", "X-Evil: a\rb\r\n"), `header "X-Evil": value has a bare CR`},
		{request("/", "X-Evil: a\x00b\r\n"), `header "X-Evil": value has a NUL byte`},
		{request("/", "Transfer-Encoding chunked\r\n"), `header line "Transfer-Encoding chunked" has no colon`},
		{request("/../../secret", ""), `request path "/../../secret" has the dot segment ".."`},
		{request("/%2e%2e/secret", ""), `has the dot segment ".."`},
	} {
		rc, err := tp.TryDialRaw(t, url+"/", tp.RawDialOptions{Request: c.req})
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, _ := rc.WaitEOF(step)
		if rc.Response().Status != 400 || !strings.Contains(string(body), c.problem) {
			t.Errorf("request %d: %d %q, want 400 saying %s", i+1, rc.Response().Status, body, c.problem)
		}
		p.stderr.waitMatch(t, regexp.MustCompile(`^\[`+strconv.Itoa(i+1)+`\] 127\.0\.0\.1:\d+: refused upgrade: 400 Bad Request: .*`+regexp.QuoteMeta(c.problem)), step)
	}
	if n := len(up.Requests()); n != 0 {
		t.Errorf("the upstream got %d requests", n)
	}
}
