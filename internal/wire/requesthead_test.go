package wire

import (
	"bufio"
	"bytes"
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// upgradeRequest is a valid upgrade request for target, with extra header
// lines (each ending in CRLF) after the standard ones.
func upgradeRequest(target, extra string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + tp.SampleKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}

// malformedHeads are requests that break HTTP's syntax, and what the
// refusal must say.
var malformedHeads = []struct{ name, head, problem string }{
	{"bare CR in a value", upgradeRequest("/", "X-A: a\rb\r\n"), `header "X-A": value has a bare CR at byte 2`},
	{"bare CR ending a value", upgradeRequest("/", "X-A: a\r\r\n"), `header "X-A": value has a bare CR`},
	{"NUL in a value", upgradeRequest("/", "X-A: a\x00b\r\n"), `value has a NUL byte`},
	{"control byte in a value", upgradeRequest("/", "X-A: a\x01b\r\n"), `value has byte 0x01`},
	{"DEL in a value", upgradeRequest("/", "X-A: a\x7f\r\n"), `value has byte 0x7f`},
	{"line without a colon", upgradeRequest("/", "X-Smuggled\r\n"), `header line "X-Smuggled" has no colon`},
	{"space in a name", upgradeRequest("/", "X A: b\r\n"), `header name "X A" is not a token`},
	{"space before the colon", upgradeRequest("/", "Host : other\r\n"), `header name "Host " is not a token`},
	{"separator in a name", upgradeRequest("/", "(X): b\r\n"), `header name "(X)" is not a token`},
	{"empty name", upgradeRequest("/", ": b\r\n"), `header name "" is not a token`},
	{"folded line", upgradeRequest("/", "X-A: a\r\n b\r\n"), `obsolete line folding`},
	{"second Host", upgradeRequest("/", "Host: other\r\n"), `more than one Host header`},
	{"bare CR in the request line", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", `request line has a bare CR at byte 6`},
	{"space in the target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", `malformed request line`},
	{"bad version", "GET / HTTP/one\r\nHost: h\r\n\r\n", `malformed HTTP version "HTTP/one"`},
	{"method not a token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", `method "G(T" is not a token`},
	{"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", `request target has byte 0xc3 at byte 4`},
}

func TestCheckRequestHead(t *testing.T) {
	t.Parallel()
	for _, head := range []string{
		upgradeRequest("/chat?room=1", ""),
		upgradeRequest("/", "X-Empty:\r\nX-Tab: a\tb\r\nX-Spaces:   padded  \r\nX-Latin: caf\xc3\xa9\r\n"),
		// Bare LF line ends are allowed (RFC 9112 section 2.2).
		strings.ReplaceAll(upgradeRequest("/", "X-A: 1\r\n"), "\r\n", "\n"),
		"GET http://h/absolute HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		if err := checkRequestHead([]byte(head)); err != nil {
			t.Errorf("%q: %v", head, err)
		}
	}
	for _, c := range malformedHeads {
		err := checkRequestHead([]byte(c.head))
		if err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.problem)
		}
	}
}

// refusalOf sends head to a server at url and returns the status and body
// of its answer.
func refusalOf(t *testing.T, url, head string) (int, string) {
	t.Helper()
	rc, err := tp.TryDialRaw(t, url, tp.RawDialOptions{Request: []byte(head), Timeout: step})
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := rc.WaitEOF(step)
	return rc.Response().Status, string(body)
}

// listen's handshake reader refuses what breaks HTTP's syntax with 400,
// naming the problem to the client and in its error.
func TestAcceptRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	for _, c := range malformedHeads {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ln := listenLoopback(t)
			errc := acceptOnce(ln, AcceptOptions{})
			status, body := refusalOf(t, "ws://"+ln.Addr().String()+"/", c.head)
			if status != 400 || !strings.Contains(body, c.problem) {
				t.Errorf("answer %d %q, want 400 saying %q", status, body, c.problem)
			}
			var re *RejectError
			if err := <-errc; !errors.As(err, &re) || re.Status != 400 || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("Accept: %v", err)
			}
		})
	}
}

// The relay refuses a malformed request with 400 naming the problem, and
// a path with a dot segment, before anything reaches the upstream.
func TestRelayRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	reached := make(chan string, 64)
	upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
		reached <- rc.Request().Target
		rc.Accept()
	})
	refused := append([]struct{ name, head, problem string }{}, malformedHeads...)
	for _, target := range []string{
		"/api/../../secret", "/..", "/./x", "/a/%2e%2e/%2E%2E/secret", "/a/.%2e/b", "/a/..%2f..%2fsecret",
		`/a/..\..\secret`, "/a/..;/secret",
	} {
		refused = append(refused, struct{ name, head, problem string }{"path " + target, upgradeRequest(target, ""), "has the dot segment"})
	}
	refused = append(refused,
		struct{ name, head, problem string }{"bad escape", upgradeRequest("/a%zz", ""), `request target "/a%zz" is not a path`},
		struct{ name, head, problem string }{"asterisk", upgradeRequest("*", ""), `request target "*" is not a path`},
		struct{ name, head, problem string }{"not GET", strings.Replace(upgradeRequest("/", ""), "GET", "PUT", 1), "method PUT is not GET"},
		struct{ name, head, problem string }{"no key", strings.Replace(upgradeRequest("/", ""), "Sec-WebSocket-Key: "+tp.SampleKey+"\r\n", "", 1), "no Sec-WebSocket-Key header"},
	)
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			rt := startRelay(t, upstream.URL()+"base/", RelayOptions{})
			status, body := refusalOf(t, rt.URL(), c.head)
			if status != 400 || !strings.Contains(body, c.problem) {
				t.Errorf("answer %d %q, want 400 saying %q", status, body, c.problem)
			}
			var re *RejectError
			if err := rt.firstErr(t); !errors.As(err, &re) || re.Status != 400 || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("AcceptRelay: %v", err)
			}
		})
	}
	if n := upstream.Accepted(); n != 0 {
		t.Fatalf("the upstream got %d connections for refused requests", n)
	}

	// What is valid goes through, under the upstream's path.
	for _, c := range []struct{ target, upstream string }{
		{"/v1/feed?x=1", "/base/v1/feed?x=1"},
		{"/a..b/.c/..d/x.", "/base/a..b/.c/..d/x."},
		{"/a%2Fb", "/base/a%2Fb"},
	} {
		rt := startRelay(t, upstream.URL()+"base/", RelayOptions{})
		rc := tp.DialRaw(t, rt.URL(), tp.RawDialOptions{Request: []byte(upgradeRequest(c.target, "X-Latin: caf\xc3\xa9\r\n"))})
		if st := rc.Response().Status; st != 101 {
			t.Errorf("%s: status %d", c.target, st)
			continue
		}
		if got := <-reached; got != c.upstream {
			t.Errorf("%s reached the upstream as %s, want %s", c.target, got, c.upstream)
		}
	}
	if n := upstream.Accepted(); n != 3 {
		t.Errorf("the upstream got %d connections, want 3", n)
	}
}

// What passes the check is read the same way again once the relay has
// written it out: the upstream reads the request the relay read.
func FuzzCheckRequestHead(f *testing.F) {
	for _, c := range malformedHeads {
		f.Add([]byte(c.head))
	}
	f.Add([]byte(upgradeRequest("/chat?room=1", "X-Tab: a\tb\r\nX-Latin: caf\xc3\xa9\r\n")))
	f.Add([]byte(strings.ReplaceAll(upgradeRequest("/", "X-A: 1\r\n"), "\r\n", "\n")))
	f.Add([]byte(upgradeRequest("/", "X-A: a\u00a0\r\n")))
	f.Fuzz(func(t *testing.T, head []byte) {
		br := bufio.NewReader(bytes.NewReader(head))
		read, err := readHead(br)
		if err != nil || checkRequestHead(read) != nil {
			return
		}
		req := parseRequest(read)
		var out bytes.Buffer
		out.WriteString(req.Method + " " + req.Target + " " + req.Proto + "\r\n")
		headerList(req.Headers).WriteTo(&out)
		out.WriteString("\r\n")
		if err := checkRequestHead(out.Bytes()); err != nil {
			t.Fatalf("written out, %q is refused: %v", out.Bytes(), err)
		}
		again := parseRequest(out.Bytes())
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("read %+v, written out and read again %+v", req, again)
		}
	})
}

// Whatever the client's target, a URL relayTarget returns stays under
// the upstream's base path once dot segments are resolved.
func FuzzRelayTarget(f *testing.F) {
	for _, s := range []string{"/", "/v1/feed?x=1", "/api/../../secret", "/%2e%2e/x", "/a/..%2f..%2fb", `/a\..\b`, "/..;/x", "/a%zz", "http://h/x", "*", "/a..b/.c"} {
		f.Add(s)
	}
	base, _ := ParseURL("ws://up/api/")
	f.Fuzz(func(t *testing.T, target string) {
		u, err := relayTarget(base, target)
		if err != nil {
			return
		}
		resolved := path.Clean(strings.ReplaceAll(u.Path, `\`, "/"))
		if resolved != "/api" && !strings.HasPrefix(resolved, "/api/") {
			t.Fatalf("%q reaches the upstream as %q, resolved %q: outside /api/", target, u.Path, resolved)
		}
	})
}

// Only spaces and tabs around a value are optional whitespace: a value
// that ends in a no-break space keeps it, as the peer sent it.
func TestParseHeadTrimsOnlyOWS(t *testing.T) {
	t.Parallel()
	req := parseRequest([]byte("GET / HTTP/1.1\r\nX-A: \t a\u00a0\t \r\nX-B:\u0085b\r\n\r\n"))
	if len(req.Headers) != 2 || req.Headers[0].Value != "a\u00a0" || req.Headers[1].Value != "\u0085b" {
		t.Errorf("headers %q", req.Headers)
	}
}
