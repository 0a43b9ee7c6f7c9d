package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// relayUnderTest runs AcceptRelay on every connection to a loopback
// listener (at most four), towards upstream.
type relayUnderTest struct {
	ln   net.Listener
	rec  *recorder
	mu   sync.Mutex
	errs []error
	open []*inspect.Open
	rels []*Relay
	wg   sync.WaitGroup
}

func startRelay(t *testing.T, upstream string, opts RelayOptions) *relayUnderTest {
	t.Helper()
	return startRelayLimited(t, upstream, opts, 0)
}

// startRelayLimited is startRelay with Config.MaxMessageSize max.
func startRelayLimited(t *testing.T, upstream string, opts RelayOptions, max int64) *relayUnderTest {
	t.Helper()
	return startRelayWith(t, upstream, opts, Config{MaxMessageSize: max})
}

// startRelayWith is startRelay with cfg for every relay (ID, OnEvent and,
// unless set, CloseTimeout filled in).
func startRelayWith(t *testing.T, upstream string, opts RelayOptions, cfg Config) *relayUnderTest {
	t.Helper()
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = time.Second
	}
	u, err := ParseURL(upstream)
	if err != nil {
		t.Fatal(err)
	}
	opts.Upstream = u
	if opts.Timeout == 0 {
		opts.Timeout = step
	}
	opts.Dial.Timeout = step
	ln := listenLoopback(t)
	rt := &relayUnderTest{ln: ln, rec: &recorder{}}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		for id := 1; id <= 4; id++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			rt.wg.Add(1)
			go func() {
				defer rt.wg.Done()
				cfg := cfg
				cfg.ID, cfg.OnEvent = id, rt.rec.event
				r, open, err := AcceptRelay(context.Background(), nc, opts, cfg)
				rt.mu.Lock()
				rt.errs = append(rt.errs, err)
				if err == nil {
					rt.open = append(rt.open, open)
					rt.rels = append(rt.rels, r)
				}
				rt.mu.Unlock()
				if err == nil {
					r.Run()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		rt.mu.Lock()
		for _, r := range rt.rels {
			r.Abort()
		}
		rt.mu.Unlock()
		rt.wg.Wait()
	})
	return rt
}

func (rt *relayUnderTest) URL() string { return "ws://" + rt.ln.Addr().String() + "/" }

func (rt *relayUnderTest) waitEnd(t *testing.T) inspect.End {
	t.Helper()
	waitFor(t, "the relay's end event", func() bool {
		rt.rec.mu.Lock()
		defer rt.rec.mu.Unlock()
		return len(rt.rec.ends) > 0
	})
	rt.rec.mu.Lock()
	defer rt.rec.mu.Unlock()
	return rt.rec.ends[0]
}

func (rt *relayUnderTest) firstErr(t *testing.T) error {
	t.Helper()
	waitFor(t, "the relay's handshake", func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return len(rt.errs) > 0
	})
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.errs[0]
}

// The relay forwards frames byte for byte both ways, valid or not: the
// client's mask keys, a non-minimal length, fragments with a ping between
// them, a reserved opcode, frames sent right behind the handshake.
func TestRelayForwardsBytesExactly(t *testing.T) {
	serverFrames := []tp.FrameSpec{
		{Fin: false, Op: inspect.OpText, Payload: []byte("frag")},
		tp.ServerFrame(inspect.OpPing, []byte("between")),
		{Fin: true, Op: inspect.OpContinuation, Payload: []byte("mented")},
		{Fin: true, Op: inspect.OpBinary, Payload: []byte{0, 1, 2}, LenEnc: inspect.Len16},
		tp.ServerFrame(0x3, []byte("reserved")),
	}
	gotByServer := make(chan []byte, 1)
	upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
		if err := rc.Accept(); err != nil {
			return
		}
		rc.WriteFrames(serverFrames...)
		var got []byte
		for range 5 {
			f, err := rc.ReadFrame(step)
			if err != nil {
				break
			}
			got = append(got, f.Wire...)
		}
		gotByServer <- got
	})
	rt := startRelay(t, upstream.URL(), RelayOptions{})

	clientFrames := []tp.FrameSpec{
		tp.ClientFrame(inspect.OpText, []byte("early")),
		{Fin: false, Op: inspect.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("ab")},
		{Fin: true, Op: inspect.OpContinuation, Masked: true, Mask: [4]byte{5, 6, 7, 8}, Payload: []byte("cd"), LenEnc: inspect.Len64},
		{Fin: true, Rsv: inspect.Rsv2, Op: inspect.OpText, Masked: true, Mask: [4]byte{9, 9, 9, 9}, Payload: []byte("rsv2")},
		{Fin: true, Op: inspect.OpText, Payload: []byte("unmasked")},
	}
	c := tp.DialRawEarly(t, rt.URL(), tp.Frames(clientFrames[0]))
	if got := c.Response().Status; got != 101 {
		t.Fatalf("status %d, want 101", got)
	}
	if err := c.WriteFrames(clientFrames[1:]...); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-gotByServer:
		if want := tp.Frames(clientFrames...); !bytes.Equal(got, want) {
			t.Errorf("server got\n%x\nclient sent\n%x", got, want)
		}
	case <-time.After(step):
		t.Fatal("server got nothing")
	}
	var got []byte
	for range serverFrames {
		f, err := c.ReadFrame(step)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Wire...)
	}
	if want := tp.Frames(serverFrames...); !bytes.Equal(got, want) {
		t.Errorf("client got\n%x\nserver sent\n%x", got, want)
	}

	rec := rt.rec
	waitFor(t, "ten frame events", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.frames) >= 10
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var c2s, s2c int
	for _, f := range rec.frames {
		if f.Dir == inspect.ClientToServer {
			c2s++
		} else {
			s2c++
		}
	}
	if c2s != 5 || s2c != 5 {
		t.Errorf("frame events: %d c2s, %d s2c; want 5 and 5", c2s, s2c)
	}
	var texts []string
	for _, m := range rec.msgs {
		texts = append(texts, m.Dir.String()+":"+string(m.Payload))
	}
	for _, want := range []string{"c2s:early", "c2s:abcd", "s2c:fragmented"} {
		if !strings.Contains(strings.Join(texts, " "), want) {
			t.Errorf("messages %q lack %q", texts, want)
		}
	}
	// Violations are shown, and forwarded all the same.
	var rules []inspect.Rule
	for _, f := range rec.frames {
		for _, v := range f.Violations {
			rules = append(rules, v.Rule)
		}
	}
	for _, want := range []inspect.Rule{inspect.RuleRsvWithoutExtension, inspect.RuleClientUnmasked, inspect.RuleReservedOpcode} {
		if !containsRule(rules, want) {
			t.Errorf("violations %v lack %v", rules, want)
		}
	}
}

func containsRule(rs []inspect.Rule, r inspect.Rule) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// Frames a server sends in the same write as its 101 are not lost.
func TestRelayServerFramesBehindTheHandshake(t *testing.T) {
	srv := tp.NewServer(t, tp.ServerOptions{OnConnect: []tp.Msg{tp.TextMsg("welcome"), tp.BinaryMsg([]byte{7})}})
	rt := startRelay(t, srv.URL(), RelayOptions{})
	c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
	for _, want := range []string{"welcome", "binary:07"} {
		m, err := c.Read(step)
		if err != nil || !strings.Contains(m.String(), want) {
			t.Fatalf("got %v %v, want %q", m, err, want)
		}
	}
}

// Headers pass through but for the handshake's own; Host and Origin are
// rewritten only when asked; the upstream's subprotocol choice reaches the
// client; the open event shows the upstream's handshake.
func TestRelayHandshakeHeaders(t *testing.T) {
	for _, rewrite := range []bool{false, true} {
		t.Run(map[bool]string{false: "passed", true: "rewritten"}[rewrite], func(t *testing.T) {
			srv := tp.NewServer(t, tp.ServerOptions{Subprotocols: []string{"v2", "v1"}, Echo: true})
			rt := startRelay(t, srv.URL()+"api", RelayOptions{
				RewriteHost: rewrite, RewriteOrigin: rewrite,
				Dial: DialOptions{Headers: []inspect.HeaderField{{Name: "X-Added", Value: "by wscope"}, {Name: "X-Replaced", Value: "new"}}},
			})
			h := http.Header{}
			h.Set("Origin", "http://app.example")
			h.Set("Cookie", "session=1")
			h.Set("X-Replaced", "old")
			c := tp.Dial(t, rt.URL()+"v1/stream?x=1", tp.ClientOptions{Subprotocols: []string{"v1", "v2"}, Header: h})
			if got := c.Subprotocol(); got != "v1" && got != "v2" {
				t.Fatalf("subprotocol %q", got)
			}
			if err := c.Send(tp.TextMsg("hello")); err != nil {
				t.Fatal(err)
			}
			if m, err := c.Read(step); err != nil || string(m.Data) != "hello" {
				t.Fatalf("echo: %v %v", m, err)
			}
			req := srv.Requests()[0]
			if req.URL.Path != "/api/v1/stream" || req.URL.RawQuery != "x=1" {
				t.Errorf("upstream request %s", req.URL)
			}
			wantHost, wantOrigin := rt.ln.Addr().String(), "http://app.example"
			if rewrite {
				wantHost, wantOrigin = srv.Addr(), "http://"+srv.Addr()
			}
			if req.Host != wantHost {
				t.Errorf("Host %q, want %q", req.Host, wantHost)
			}
			if got := req.Header.Get("Origin"); got != wantOrigin {
				t.Errorf("Origin %q, want %q", got, wantOrigin)
			}
			if req.Header.Get("Cookie") != "session=1" || req.Header.Get("X-Added") != "by wscope" || req.Header.Values("X-Replaced")[0] != "new" || len(req.Header.Values("X-Replaced")) != 1 {
				t.Errorf("upstream headers %v", req.Header)
			}
			if got := req.Header.Get("Sec-WebSocket-Protocol"); got != "v1, v2" {
				t.Errorf("subprotocols offered upstream %q", got)
			}
			rt.mu.Lock()
			open := rt.open[0]
			rt.mu.Unlock()
			if open.Role != inspect.RoleProxy || open.Subprotocol != c.Subprotocol() || !strings.HasSuffix(open.URL, "/api/v1/stream?x=1") {
				t.Errorf("open %+v", open)
			}
			if open.Remote != srv.Addr() {
				t.Errorf("open remote %s, want the upstream %s", open.Remote, srv.Addr())
			}
		})
	}
}

// permessage-deflate is negotiated between the peers, the frames pass
// compressed, and the events show the messages inflated: with and
// without context takeover.
func TestRelayCompressionEndToEnd(t *testing.T) {
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	t.Run("gorilla client, no context takeover", func(t *testing.T) {
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c := tp.Dial(t, rt.URL(), tp.ClientOptions{Compression: true})
		if ext := c.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
			t.Fatalf("client negotiated %q", ext)
		}
		for range 3 {
			c.Send(tp.TextMsg(repeated))
			if m, err := c.Read(step); err != nil || string(m.Data) != repeated {
				t.Fatalf("echo: %v", err)
			}
		}
		waitMsgs(t, rt.rec, 3)
		checkDeflated(t, rt.rec, inspect.ClientToServer, false)
		checkDeflated(t, rt.rec, inspect.ServerToClient, false)
	})
	t.Run("wscope client, context takeover", func(t *testing.T) {
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c, _, rec, err := dialCompress(t, rt.URL(), &Compression{}, Config{})
		if err != nil {
			t.Fatal(err)
		}
		go c.Run()
		for range 3 {
			if err := c.Send(inspect.OpText, []byte(repeated)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "three echoes", func() bool { return len(rec.msgsFrom(inspect.ServerToClient)) >= 3 })
		waitMsgs(t, rt.rec, 3)
		checkDeflated(t, rt.rec, inspect.ClientToServer, true)
		checkDeflated(t, rt.rec, inspect.ServerToClient, true)
	})
}

// waitMsgs waits for n messages each way: the relay reports a frame after
// forwarding it, so a peer may see it first.
func waitMsgs(t *testing.T, rec *recorder, n int) {
	t.Helper()
	waitFor(t, "the relay's message events", func() bool {
		return len(rec.msgsFrom(inspect.ClientToServer)) >= n && len(rec.msgsFrom(inspect.ServerToClient)) >= n
	})
}

// A refusal reaches the client as the upstream said it; an upstream that
// cannot be reached is a 502 naming it.
func TestRelayRefusals(t *testing.T) {
	srv := tp.NewServer(t, tp.ServerOptions{Reject: &tp.Reject{Status: 403, Body: "no token", Headers: http.Header{"X-Why": {"token"}}}})
	rt := startRelay(t, srv.URL(), RelayOptions{})
	_, resp, err := tp.TryDial(t, rt.URL(), tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 403 || resp.Header.Get("X-Why") != "token" {
		t.Fatalf("client got %v, %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "no token" {
		t.Errorf("body %q", body)
	}
	var ue *UpstreamError
	if err := rt.firstErr(t); !errors.As(err, &ue) {
		t.Errorf("relay error %v, want an *UpstreamError", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	rt = startRelay(t, gone, RelayOptions{})
	_, resp, err = tp.TryDial(t, rt.URL(), tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 502 {
		t.Fatalf("client got %v, %v", resp, err)
	}
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "could not connect") {
		t.Errorf("502 body %q", body)
	}

	// Not a WebSocket request at all.
	rt = startRelay(t, srv.URL(), RelayOptions{})
	hr, err := http.Get("http://" + rt.ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 426 {
		t.Errorf("plain GET: %d", hr.StatusCode)
	}
}

// Close frames cross as the peers send them and the end says who closed;
// a peer that drops TCP is passed on as a dropped TCP.
func TestRelayCloses(t *testing.T) {
	t.Run("client closes", func(t *testing.T) {
		srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
		got, err := c.Close(4001, "done")
		if err != nil || got.Code != 4001 {
			t.Fatalf("client close: %v %v", got, err)
		}
		if st, ok := srv.WaitClosed(step); !ok || st.Code != 4001 || st.Reason != "done" {
			t.Errorf("server saw %v", st)
		}
		end := rt.waitEnd(t)
		if end.Closer != "client" || end.Code != 4001 || !end.Clean || end.Err != "" || end.ExitStatus() != inspect.ExitAbnormal {
			t.Errorf("end %+v", end)
		}
	})
	t.Run("server closes 1000", func(t *testing.T) {
		srv := tp.NewServer(t, tp.ServerOptions{Echo: true, CloseAfter: 1})
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
		c.Send(tp.TextMsg("bye"))
		if st, ok := c.WaitClosed(step); !ok || st.Code != 1000 {
			t.Errorf("client saw %v", st)
		}
		end := rt.waitEnd(t)
		if end.Closer != "server" || end.Code != 1000 || !end.Clean {
			t.Errorf("end %+v", end)
		}
	})
	t.Run("server drops TCP", func(t *testing.T) {
		srv := tp.NewServer(t, tp.ServerOptions{CloseAfter: 1, CloseAbruptly: true})
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
		c.Send(tp.TextMsg("bye"))
		if st, ok := c.WaitClosed(step); ok {
			t.Errorf("client got a close frame %v; the server sent none", st)
		}
		end := rt.waitEnd(t)
		if end.Code != inspect.CloseAbnormal || end.TCP != "fin" || !strings.Contains(end.Err, "server") {
			t.Errorf("end %+v", end)
		}
	})
	t.Run("relay closes both", func(t *testing.T) {
		srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
		rt := startRelay(t, srv.URL(), RelayOptions{})
		c := tp.Dial(t, rt.URL(), tp.ClientOptions{})
		c.Send(tp.TextMsg("hi"))
		c.Read(step)
		rt.mu.Lock()
		r := rt.rels[0]
		rt.mu.Unlock()
		r.Close(inspect.CloseGoingAway, "")
		if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 {
			t.Errorf("client saw %v", st)
		}
		if st, ok := srv.WaitClosed(step); !ok || st.Code != 1001 {
			t.Errorf("server saw %v", st)
		}
		end := rt.waitEnd(t)
		if end.Closer != "proxy" || end.Code != 1001 || !end.Clean {
			t.Errorf("end %+v", end)
		}
	})
}

// A frame over the limit cannot be forwarded without holding it whole:
// both peers get 1009 and the end says so.
func TestRelayFrameTooLarge(t *testing.T) {
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	rt := startRelayLimited(t, srv.URL(), RelayOptions{}, 1024)
	c := tp.DialRaw(t, rt.URL(), tp.RawDialOptions{})
	if err := c.WriteFrame(tp.ClientFrame(inspect.OpBinary, make([]byte, 4096))); err != nil {
		t.Fatal(err)
	}
	f, err := c.ReadFrame(step)
	if st, ok := f.Close(); err != nil || !ok || st.Code != 1009 {
		t.Fatalf("client got %v %v", f, err)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1009 {
		t.Errorf("server saw %v %v", st, ok)
	}
	end := rt.waitEnd(t)
	if end.Code != inspect.CloseMessageTooBig || end.Closer != "proxy" || !strings.Contains(end.Err, "1024") {
		t.Errorf("end %+v", end)
	}
}

// A peer that stops reading blocks the forwarder writing to it; closing
// the relay must not wait for that peer forever.
func TestRelayCloseWithAPeerThatStopsReading(t *testing.T) {
	stalled := make(chan struct{})
	upstream := tp.NewRawServer(t, func(rc *tp.RawConn) {
		if rc.Accept() != nil {
			return
		}
		<-stalled // reads nothing
	})
	defer close(stalled)
	rt := startRelay(t, upstream.URL(), RelayOptions{})
	c := tp.DialRaw(t, rt.URL(), tp.RawDialOptions{})
	big := tp.ClientFrame(inspect.OpBinary, make([]byte, 1<<20))
	go func() {
		// Until the relay's writes to the upstream block and TCP pushes
		// back to here; the write deadline ends it.
		for range 64 {
			if c.WriteFrame(big) != nil {
				return
			}
		}
	}()
	// Blocked: frames arrived, and no more for half a second.
	last, still := -1, 0
	waitFor(t, "the relay to block", func() bool {
		rt.rec.mu.Lock()
		n := len(rt.rec.frames)
		rt.rec.mu.Unlock()
		if n > 0 && n == last {
			still++
		} else {
			last, still = n, 0
		}
		time.Sleep(100 * time.Millisecond)
		return still >= 5
	})
	rt.mu.Lock()
	r := rt.rels[0]
	rt.mu.Unlock()
	closed := make(chan struct{})
	go func() { r.Close(inspect.CloseGoingAway, ""); close(closed) }()
	select {
	case <-closed:
	case <-time.After(step):
		t.Fatal("Close is stuck behind a blocked write")
	}
	rt.waitEnd(t)
}

func TestRelayTarget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ upstream, target, want string }{
		{"ws://h/", "/", "ws://h/"},
		{"ws://h/api", "/", "ws://h/api"},
		{"ws://h/api?k=1", "/", "ws://h/api?k=1"},
		{"ws://h/api/", "/v1/feed?x=1", "ws://h/api/v1/feed?x=1"},
		{"ws://h/", "/a%20b/c%2Fd", "ws://h/a%20b/c%2Fd"},
		{"wss://h:8443/base", "/x?q=a%26b", "wss://h:8443/base/x?q=a%26b"},
	} {
		u, err := ParseURL(c.upstream)
		if err != nil {
			t.Fatal(err)
		}
		got, err := relayTarget(u, c.target)
		if err != nil || got.String() != c.want {
			t.Errorf("%s + %s = %v, %v; want %s", c.upstream, c.target, got, err, c.want)
		}
	}
}
