package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

const step = 5 * time.Second

// listenLoopback listens on a free loopback port until the end of the test.
func listenLoopback(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// acceptOnce accepts one connection on ln with opts and sends what Accept
// returns as its error; a connection that did open is aborted.
func acceptOnce(ln net.Listener, opts AcceptOptions) <-chan error {
	errc := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		conn, _, err := Accept(nc, opts, Config{})
		if conn != nil {
			conn.Abort()
		}
		errc <- err
	}()
	return errc
}

// recorder keeps copies of the events a Conn reports.
type recorder struct {
	mu         sync.Mutex
	frames     []inspect.Frame
	frameTimes []time.Duration
	msgs       []inspect.Message
	ends       []inspect.End
}

func (r *recorder) event(e *inspect.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case inspect.KindFrame:
		f := *e.Frame
		f.Payload = bytes.Clone(f.Payload)
		f.Raw = bytes.Clone(f.Raw)
		f.Violations = append([]inspect.Violation(nil), f.Violations...)
		r.frames = append(r.frames, f)
		r.frameTimes = append(r.frameTimes, e.T)
	case inspect.KindMsg:
		m := *e.Msg
		m.Payload = bytes.Clone(m.Payload)
		m.Frames = append([]uint64(nil), m.Frames...)
		r.msgs = append(r.msgs, m)
	case inspect.KindEnd:
		r.ends = append(r.ends, *e.End)
	}
}

func dial(t *testing.T, url string, cfg Config) (*Conn, *inspect.Open, *recorder) {
	t.Helper()
	u, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg.OnEvent = rec.event
	c, open, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort() })
	return c, open, rec
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ws://h":             "ws://h/",
		"h:8080/x?q=1":       "ws://h:8080/x?q=1",
		"https://h/s":        "wss://h/s",
		"HTTP://h":           "ws://h/",
		"wss://[::1]:443/ws": "wss://[::1]:443/ws",
	} {
		u, err := ParseURL(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"ws://h/#frag", "ws://h/#", "ftp://h/", "ws:///path", "ws://h:x:y/%zz"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// TestConcurrentWritersDoNotInterleave hammers one connection from several
// goroutines while the server pings it, so automatic pongs race with
// messages: an independent server must read every message intact.
func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Fragment: 512})
	c, _, _ := dial(t, srv.URL(), Config{FragmentSize: 700})
	go c.Run()
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 1000+i)
				if err := c.Send(inspect.OpBinary, msg); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					c.Ping([]byte(fmt.Sprint(w, i)))
				}
			}
		}()
	}
	// Server pushes fragmented messages, each with pings between its
	// fragments, which wscope answers from its reading goroutine.
	for range 20 {
		srv.Send(tp.BinaryMsg(make([]byte, 4096)))
	}
	wg.Wait()
	got := srv.WaitReceived(writers*each, step)
	if len(got) != writers*each {
		t.Fatalf("server got %d messages, want %d", len(got), writers*each)
	}
	for _, m := range got {
		if len(m.Data) < 1000 || !bytes.Equal(m.Data, bytes.Repeat(m.Data[:1], len(m.Data))) {
			t.Fatalf("corrupt message of %d bytes", len(m.Data))
		}
	}
	c.Close(inspect.CloseNormal, "")
	if !c.Wait(step) || !c.End().Clean {
		t.Fatalf("end %+v", c.End())
	}
}

func TestClientMasksEveryFrameWithFreshKeys(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	c, _, rec := dial(t, srv.URL(), Config{})
	go c.Run()
	for i := range 50 {
		c.WriteMessage(inspect.OpText, []byte(fmt.Sprint("m", i)))
	}
	c.Flush()
	srv.WaitReceived(50, step)
	c.Close(inspect.CloseNormal, "")
	c.Wait(step)
	keys := map[[4]byte]bool{}
	for _, f := range srv.Frames() {
		if !f.Masked {
			t.Fatalf("unmasked client frame %v", f)
		}
		keys[f.Mask] = true
	}
	if len(keys) < 45 {
		t.Errorf("only %d distinct mask keys over 51 frames", len(keys))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Seq numbers are unique, and rise in each direction (the reader and
	// a writer report concurrently, so across directions they may not).
	last := map[inspect.Direction]uint64{}
	for _, f := range rec.frames {
		if f.Seq <= last[f.Dir] {
			t.Fatalf("%s seq %d after %d", f.Dir, f.Seq, last[f.Dir])
		}
		last[f.Dir] = f.Seq
		if f.Dir == inspect.ServerToClient && f.Masked {
			t.Errorf("server frame masked")
		}
		if len(f.Violations) > 0 {
			t.Errorf("frame %d: %v", f.Seq, f.Violations)
		}
	}
}

func TestWriteFragmentedExactSizes(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{})
	c, _, rec := dial(t, srv.URL(), Config{})
	go c.Run()
	c.WriteFragmented(inspect.OpText, []byte("0123456789"), 4)
	c.Flush()
	got := srv.WaitReceived(1, step)
	if len(got) != 1 || string(got[0].Data) != "0123456789" {
		t.Fatalf("server got %v", got)
	}
	var sizes []int
	for _, f := range srv.Frames() {
		sizes = append(sizes, len(f.Payload))
	}
	if fmt.Sprint(sizes) != "[4 4 2]" {
		t.Errorf("frame sizes %v", sizes)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.msgs) != 1 || len(rec.msgs[0].Frames) != 3 || rec.msgs[0].Dir != inspect.ClientToServer {
		t.Errorf("sent message events %+v", rec.msgs)
	}
}

func TestWriteFrameSendsExactlyWhatItIsTold(t *testing.T) {
	t.Parallel()
	got := make(chan tp.Frame, 1)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept()
		f, err := rc.ReadFrame(step)
		if err == nil {
			got <- f
		}
	})
	c, _, rec := dial(t, srv.URL(), Config{})
	n := uint64(3)
	err := c.WriteFrame(FrameSpec{Fin: false, Rsv: inspect.Rsv3, Op: inspect.OpPing, Mask: MaskWith, Key: [4]byte{9, 9, 9, 9}, Payload: []byte("abc"), LenEnc: inspect.Len64, Length: &n})
	if err != nil {
		t.Fatal(err)
	}
	f := <-got
	want := append([]byte{0x19, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 3, 9, 9, 9, 9}, 'a'^9, 'b'^9, 'c'^9)
	if !bytes.Equal(f.Wire, want) {
		t.Fatalf("wire % x\nwant % x", f.Wire, want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var rules []inspect.Rule
	for _, v := range rec.frames[0].Violations {
		rules = append(rules, v.Rule)
	}
	if fmt.Sprint(rules) != "[control-fragmented length-not-minimal rsv-without-extension]" {
		t.Errorf("our own crafted frame reports %v", rules)
	}
}

func TestSendValidates(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{})
	c, _, _ := dial(t, srv.URL(), Config{})
	go c.Run()
	if err := c.Ping(make([]byte, 126)); err != ErrControlSize {
		t.Errorf("126-byte ping: %v", err)
	}
	if err := c.WriteMessage(inspect.OpPing, nil); err != ErrNotDataOp {
		t.Errorf("ping as a message: %v", err)
	}
	c.Close(inspect.CloseNormal, "")
	if err := c.Send(inspect.OpText, []byte("late")); err != ErrClosing {
		t.Errorf("send after close: %v", err)
	}
}

func TestAcceptKeepsFramesSentBehindTheRequest(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	type result struct {
		open *inspect.Open
		rec  *recorder
		end  inspect.End
	}
	done := make(chan result, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		rec := &recorder{}
		c, open, err := Accept(nc, AcceptOptions{Subprotocols: []string{"b"}, Timeout: step}, Config{OnEvent: rec.event})
		if err != nil {
			t.Error(err)
			done <- result{}
			return
		}
		done <- result{open, rec, c.Run()}
	}()
	first := tp.Frames(tp.ClientFrame(inspect.OpText, []byte("early")), tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	rc, err := tp.TryDialRaw(t, "ws://"+ln.Addr().String()+"/p?q", tp.RawDialOptions{FirstFrames: first, Headers: []tp.HeaderField{tp.H("Sec-WebSocket-Protocol", "a, b"), tp.H("X-Dup", "1"), tp.H("X-Dup", "2")}})
	if err != nil {
		t.Fatal(err)
	}
	rc.WaitEOF(step)
	r := <-done
	if r.open == nil {
		t.FailNow()
	}
	if r.open.Subprotocol != "b" || r.open.Request.Target != "/p?q" || r.open.Response.Status != 101 {
		t.Errorf("open %+v", r.open)
	}
	var dups int
	for _, h := range r.open.Request.Headers {
		if h.Name == "X-Dup" {
			dups++
		}
	}
	if dups != 2 {
		t.Errorf("duplicate headers lost: %v", r.open.Request.Headers)
	}
	if len(r.rec.msgs) != 1 || string(r.rec.msgs[0].Payload) != "early" {
		t.Fatalf("early frame lost: %+v", r.rec.msgs)
	}
	if !r.end.Clean || r.end.Closer != "client" {
		t.Errorf("end %+v", r.end)
	}
}

func TestAcceptRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		opts    AcceptOptions
		path    string
		origin  string
		status  int
		wantErr bool
	}{
		{AcceptOptions{Path: "/ws"}, "/other", "", 404, true},
		{AcceptOptions{Path: "/ws"}, "/ws?x=1", "", 101, false},
		{AcceptOptions{Origins: []string{"https://a.example"}}, "/", "https://b.example", 403, true},
		{AcceptOptions{Origins: []string{"https://a.example"}}, "/", "https://A.example", 101, false},
	}
	for _, c := range cases {
		ln := listenLoopback(t)
		errc := acceptOnce(ln, c.opts)
		var hs []tp.HeaderField
		if c.origin != "" {
			hs = append(hs, tp.H("Origin", c.origin))
		}
		rc, err := tp.TryDialRaw(t, "ws://"+ln.Addr().String()+c.path, tp.RawDialOptions{Headers: hs})
		if err != nil {
			t.Fatal(err)
		}
		status := rc.Response().Status
		aerr := <-errc
		if (aerr != nil) != c.wantErr || status != c.status {
			t.Errorf("%s origin %q: status %d, err %v", c.path, c.origin, status, aerr)
		}
		ln.Close()
	}
}

// Frames that arrive in the same read as the 101 are stamped when Run
// starts reading them, not at zero: never before the open event.
func TestFramesWithTheHandshakeAreStampedWhenRead(t *testing.T) {
	srv := tp.NewServer(t, tp.ServerOptions{OnConnect: []tp.Msg{tp.TextMsg("early")}})
	start := time.Now()
	c, _, rec := dial(t, srv.URL(), Config{Start: start})
	opened := time.Since(start)
	go c.Run()
	waitFor(t, "the early frame", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.msgs) > 0
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.frames) == 0 || rec.frames[0].Seq != 1 {
		t.Fatalf("frames %v", rec.frames)
	}
	if got := rec.frameTimes[0]; got < opened {
		t.Errorf("first frame at %v, before the connection opened at %v", got, opened)
	}
}

// A plain HTTP request (a browser, curl) is answered 426 with a body that
// says what the endpoint is.
func TestAcceptPlainHTTP(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	errc := acceptOnce(ln, AcceptOptions{URL: "ws://" + ln.Addr().String()})
	resp, err := http.Get("http://" + ln.Addr().String() + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 426 || resp.Header.Get("Upgrade") != "websocket" || !strings.Contains(string(body), "wscope connect ws://"+ln.Addr().String()+"/chat") {
		t.Errorf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
	var re *RejectError
	if err := <-errc; !errors.As(err, &re) || re.Status != 426 {
		t.Errorf("Accept: %v", err)
	}
}

// With WriteTimeout, a peer that takes nothing of what it is sent is
// dropped once a write has waited that long, and the end says why.
func TestWriteTimeoutDropsAPeerThatStopsReading(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	type accepted struct {
		c   *Conn
		err error
	}
	conns := make(chan accepted, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			conns <- accepted{nil, err}
			return
		}
		c, _, err := Accept(nc, AcceptOptions{}, Config{WriteTimeout: 300 * time.Millisecond})
		conns <- accepted{c, err}
	}()
	peer := tp.DialRaw(t, "ws://"+ln.Addr().String()+"/", tp.RawDialOptions{}) // never reads
	a := <-conns
	if a.err != nil {
		t.Fatal(a.err)
	}
	go a.c.Run()
	big := make([]byte, 1<<20)
	var err error
	for i := 0; i < 256 && err == nil; i++ {
		err = a.c.Send(inspect.OpBinary, big)
	}
	if err == nil {
		t.Fatal("256 MiB went to a peer that reads nothing")
	}
	if !a.c.Wait(step) {
		t.Fatal("the connection outlived its stalled write")
	}
	if end := a.c.End(); end.TCP != "local" || !strings.Contains(end.Err, "took nothing of what was sent for 300ms") {
		t.Errorf("end %+v", end)
	}
	peer.CloseTCP()
}

// ruleList names the rules of vs, comma-separated.
func ruleList(vs []inspect.Violation) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v.Rule)
	}
	return strings.Join(s, ",")
}

// The close timeout measures the peer's silence, not ours: a reader held
// up by its own output (a slow stdout) for longer than CloseTimeout, while
// the peer's replies wait in the socket, still gets them and the close.
func TestCloseTimeoutIsThePeersSilence(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("r"), 1<<20)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept()
		f, err := rc.ReadFrame(step)
		if err != nil || f.Op != inspect.OpClose {
			return
		}
		for range 4 {
			rc.WriteFrame(tp.ServerFrame(inspect.OpBinary, big))
		}
		rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
		rc.WaitEOF(step)
	})
	u, _ := ParseURL(srv.URL())
	var stalled atomic.Bool
	cfg := Config{CloseTimeout: 200 * time.Millisecond, OnEvent: func(e *inspect.Event) {
		if e.Kind == inspect.KindMsg && !stalled.Swap(true) {
			time.Sleep(800 * time.Millisecond) // stdout full
		}
	}}
	c, _, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	c.Close(inspect.CloseNormal, "")
	if !c.Wait(2 * step) {
		t.Fatal("no end")
	}
	if end := c.End(); !end.Clean || end.Code != inspect.CloseNormal {
		t.Errorf("end %+v, want the close handshake completed", end)
	}
}

// A plain web server that ignores the upgrade is said to be one, with its
// status and body, whether it speaks HTTP/1.0 or 1.1.
func TestDialPlainHTTPServer(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"HTTP/1.0", "HTTP/1.1"} {
		ln := listenLoopback(t)
		go func() {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
			buf := make([]byte, 4096)
			nc.Read(buf)
			fmt.Fprintf(nc, "%s 200 OK\r\nContent-Type: text/html\r\nContent-Length: 18\r\n\r\n<html>hello</html>", proto)
		}()
		u, _ := ParseURL("ws://" + ln.Addr().String() + "/")
		_, _, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step}, Config{})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 200 || string(he.Body) != "<html>hello</html>" ||
			!strings.HasPrefix(he.Error(), "not a WebSocket endpoint: the server answered the upgrade with HTTP 200 OK") {
			t.Errorf("%s: %v (%+v)", proto, err, he)
		}
	}
}
