package e2e

import (
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// proxyTo starts `wscope proxy --upstream upstream --listen 127.0.0.1:0
// args...` and returns it with its URL, ws://127.0.0.1:PORT.
func proxyTo(t *testing.T, upstream string, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, append([]string{"proxy", "--listen", "127.0.0.1:0", "--upstream", upstream}, args...)...)
	line := p.stderr.waitMatch(t, regexp.MustCompile(`^relaying wss?://\S+ to `), step)
	return p, strings.Fields(line)[1]
}

// A browser-like client (gorilla, permessage-deflate) through the proxy to
// coder/websocket with compression on: the messages arrive, every frame of
// both directions is on stdout and in the --record file, the close crosses,
// --once exits 0; and the recording replays against the server.
func TestProxyRecordsBothDirections(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	rec := filepath.Join(t.TempDir(), "session.wsrec.jsonl")
	p, url := proxyTo(t, srv.URL(), "-o", "json", "--record", rec, "--once")

	c := tp.Dial(t, url+"/feed?since=1", tp.ClientOptions{Compression: true})
	msgs := []string{`{"op":"subscribe","ch":"ticker"}`, strings.Repeat("compressible text, ", 40), "bye"}
	for _, m := range msgs {
		if err := c.Send(tp.TextMsg(m)); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Read(step); err != nil || string(got.Data) != m {
			t.Fatalf("echo of %.20q: %v %v", m, got, err)
		}
	}
	if st, err := c.Close(1000, "done"); err != nil || st.Code != 1000 {
		t.Fatalf("close: %v %v", st, err)
	}
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1000 || st.Reason != "done" {
		t.Errorf("server saw %v", st)
	}

	evs := parseEvents(t, p.stdout.String())
	open := filter(evs, "open", "")
	if len(open) != 1 || open[0]["role"] != "proxy" || !strings.HasSuffix(open[0]["url"].(string), "/feed?since=1") {
		t.Fatalf("open events %v", open)
	}
	if exts, _ := open[0]["extensions"].([]any); len(exts) != 1 {
		t.Errorf("extensions %v, want permessage-deflate", open[0]["extensions"])
	}
	for _, dir := range []string{"c2s", "s2c"} {
		ms := filter(evs, "msg", dir)
		if len(ms) != len(msgs) {
			t.Fatalf("%s messages: %d, want %d", dir, len(ms), len(msgs))
		}
		if ms[1]["text"] != msgs[1] {
			t.Errorf("%s long message shown as %.40v", dir, ms[1]["text"])
		}
		if ms[1]["deflated"] != true {
			t.Errorf("%s long message not marked deflated: %v", dir, ms[1])
		}
		if len(filter(evs, "frame", dir)) == 0 {
			t.Errorf("no %s frames", dir)
		}
	}
	end := filter(evs, "end", "")
	if len(end) != 1 || end[0]["clean"] != true || end[0]["closer"] != "client" || end[0].num("code") != 1000 {
		t.Errorf("end %v", end)
	}
	file, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(parseEvents(t, string(file))), len(evs); got != want {
		t.Errorf("recording has %d events, stdout %d", got, want)
	}
	// What went through the proxy is a test: replay it against the server.
	run(t, "", "replay", rec, "--url", srv.URL()+"/feed?since=1").expectCode(t, 0)
}

// Fragments and the control frames between them reach the client as the
// server sent them, and -o frames shows both directions.
func TestProxyKeepsFragmentation(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true, Fragment: 4})
	p, url := proxyTo(t, srv.URL(), "-o", "frames", "--once")
	c := tp.DialRaw(t, url+"/", tp.RawDialOptions{})
	if err := c.WriteFrame(tp.ClientFrame(inspect.OpText, []byte("abcdefghij"))); err != nil {
		t.Fatal(err)
	}
	_, frames, err := c.ReadMessage(step)
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	for _, f := range frames {
		shape = append(shape, f.Op.String()+":"+string(f.Payload))
	}
	if got, want := strings.Join(shape, " "), "text:abcd ping:testpeer 1 cont:efgh ping:testpeer 2 cont:ij"; got != want {
		t.Errorf("client got %s, want %s", got, want)
	}
	c.WriteFrame(tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	c.ReadFrame(step)
	c.CloseTCP()
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	out := p.stdout.String()
	for _, re := range []string{`(?m) c2s text +F--- M 37fa213d len=10 `, `(?m) s2c text +---- - -------- len=4 `, `(?m) s2c cont +F--- - -------- len=2 `, `(?m) s2c ping `} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("frames output lacks %s:\n%s", re, out)
		}
	}
}

// An upstream that refuses: the client gets its status and body, and
// --once exits 3 naming it.
func TestProxyUpstreamRefuses(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Reject: &tp.Reject{Status: 401, Body: "token expired"}})
	p, url := proxyTo(t, srv.URL(), "--once")
	_, resp, err := tp.TryDial(t, url+"/", tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("client got %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "token expired" {
		t.Errorf("body %q", body)
	}
	if code := p.wait(2 * step); code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "401") {
		t.Errorf("stderr does not name the status:\n%s", p.stderr)
	}
}

// Ctrl-C closes both sides with 1001 and exits 130.
func TestProxyInterrupt(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, url := proxyTo(t, srv.URL())
	c := tp.Dial(t, url+"/", tp.ClientOptions{})
	c.Send(tp.TextMsg("hi"))
	if _, err := c.Read(step); err != nil {
		t.Fatal(err)
	}
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] s2c hi$`), step)
	p.interrupt()
	if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 {
		t.Errorf("client saw %v %v", st, ok)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1001 {
		t.Errorf("server saw %v %v", st, ok)
	}
	if code := p.wait(2 * step); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
}

// At a terminal the proxy is the TUI over every relayed client, with both
// directions in the list.
func TestProxyTUIInAPseudoTerminal(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	addr := freeAddr(t)
	term := startTerminal(t, 30, 120, "proxy", "--listen", addr, "--upstream", srv.URL())
	screen, tty := term.screen, term.tty
	screenText(t, screen, "the relay's address", func(s string) bool { return strings.Contains(s, addr) })
	c := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
	c.Send(tp.TextMsg("through the tui"))
	if m, err := c.Read(step); err != nil || string(m.Data) != "through the tui" {
		t.Fatalf("echo %v %v", m, err)
	}
	screenText(t, screen, "both directions", func(s string) bool {
		return strings.Contains(s, "→ text") && strings.Contains(s, "← text") && strings.Count(s, "through the tui") >= 2
	})
	io.WriteString(tty, "q")
	if code := term.exit(t, 2*step); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if st, ok := c.WaitClosed(step); !ok || st.Code != 1000 {
		t.Errorf("client saw %v %v", st, ok)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1000 {
		t.Errorf("server saw %v %v", st, ok)
	}
}

// TLS on both legs: wss towards the client with a self-signed certificate,
// wss towards the upstream verified against --ca; an upstream whose
// certificate is not trusted is a 502 that says so.
func TestProxyTLSBothSides(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	cert, _, _ := pk.issue(t, "server", false, "127.0.0.1")
	upstream := tlsEcho(t, cert, nil)
	dialer := gws.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: step}

	p, url := proxyTo(t, upstream, "--tls-self-signed", "--ca", pk.CAFile, "-o", "json", "--once")
	if !strings.HasPrefix(url, "wss://") {
		t.Fatalf("proxy URL %s", url)
	}
	c, _, err := dialer.Dial(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(gws.TextMessage, []byte("over two TLS legs"))
	c.SetReadDeadline(time.Now().Add(step))
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "over two TLS legs" {
		t.Fatalf("echo %q %v", m, err)
	}
	c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
	c.ReadMessage()
	c.Close()
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	open := filter(parseEvents(t, p.stdout.String()), "open", "")
	if tlsInfo, ok := open[0]["tls"].(map[string]any); !ok || tlsInfo["peer_subject"] != "CN=server" {
		t.Errorf("open event tls: %v", open[0]["tls"])
	}

	p, url = proxyTo(t, upstream, "--once")
	_, resp, err := gws.DefaultDialer.Dial(url+"/", nil)
	if err == nil || resp == nil || resp.StatusCode != 502 {
		t.Fatalf("untrusted upstream: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "not trusted") {
		t.Errorf("502 body %q", body)
	}
	if code := p.wait(2 * step); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}
