package replay

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/testpeer"
)

// mock runs Serve on a loopback port until the test ends.
type mock struct {
	url    string
	cancel context.CancelFunc
	done   chan error

	mu         sync.Mutex
	mismatches map[int][]Mismatch
	results    map[int]*Result
	changed    chan struct{}
}

func startMock(t *testing.T, sc *Script, o ServeOptions) *mock {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mock{url: "ws://" + ln.Addr().String() + "/", done: make(chan error, 1),
		mismatches: map[int][]Mismatch{}, results: map[int]*Result{}, changed: make(chan struct{})}
	o.OnMismatch = func(conn int, mm Mismatch) {
		m.mu.Lock()
		m.mismatches[conn] = append(m.mismatches[conn], mm)
		m.mu.Unlock()
	}
	o.OnDone = func(conn int, r *Result, err error) {
		m.mu.Lock()
		if r == nil {
			r = &Result{}
		}
		m.results[conn] = r
		close(m.changed)
		m.changed = make(chan struct{})
		m.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- Serve(ctx, ln, sc, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-m.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve still running 10s after cancel")
		}
	})
	return m
}

// result waits for the result of connection conn.
func (m *mock) result(t *testing.T, conn int) *Result {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		m.mu.Lock()
		r, ok := m.results[conn]
		ch := m.changed
		m.mu.Unlock()
		if ok {
			return r
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no result for connection %d", conn)
		}
	}
}

func (m *mock) reported(conn int) []Mismatch {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mismatch(nil), m.mismatches[conn]...)
}

func read(t *testing.T, c *testpeer.Client) string {
	t.Helper()
	msg, err := c.Read(5 * time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(msg.Data)
}

func TestServeServerCloses(t *testing.T) {
	sc := newRec("ws://recorded/", "chat").s("welcome").c("hello").s("hi").s(`{"n":1}`).
		c(`{"q":1}`).msg(s2c, inspect.OpBinary, "\x01\x02").
		closeBy(s2c, 4001, "done").script(t)
	m := startMock(t, sc, ServeOptions{})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{Subprotocols: []string{"other", "chat"}})
	if c.Subprotocol() != "chat" {
		t.Errorf("subprotocol %q", c.Subprotocol())
	}
	if got := read(t, c); got != "welcome" {
		t.Errorf("first message %q", got)
	}
	c.Send(testpeer.TextMsg("hello"))
	if a, b := read(t, c), read(t, c); a != "hi" || b != `{"n":1}` {
		t.Errorf("answers %q %q", a, b)
	}
	c.Send(testpeer.TextMsg(`{"q":1}`))
	if msg, err := c.Read(5 * time.Second); err != nil || !msg.Binary || string(msg.Data) != "\x01\x02" {
		t.Errorf("binary answer %v %v", msg, err)
	}
	if ci, ok := c.WaitClosed(5 * time.Second); !ok || ci.Code != 4001 || ci.Reason != "done" {
		t.Errorf("close %v %v", ci, ok)
	}
	r := m.result(t, 1)
	if !r.OK() || r.Sent != 4 || r.Received != 2 {
		t.Errorf("result: sent %d received %d\n%s", r.Sent, r.Received, mismatchText(r))
	}
	if len(m.reported(1)) != 0 {
		t.Errorf("reported %v", m.reported(1))
	}
}

func TestServeClientCloses(t *testing.T) {
	sc := newRec("ws://recorded/", "").c("a").s("A").closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	c.Send(testpeer.TextMsg("a"))
	if got := read(t, c); got != "A" {
		t.Errorf("answer %q", got)
	}
	ci, err := c.Close(1000, "")
	if err != nil || ci.Code != 1000 {
		t.Errorf("close: %v %v", ci, err)
	}
	if r := m.result(t, 1); !r.OK() || r.End.Closer != "client" {
		t.Errorf("result %+v\n%s", r.End, mismatchText(r))
	}

	// A client that closes with another code.
	c = testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	c.Send(testpeer.TextMsg("a"))
	read(t, c)
	c.Close(4002, "")
	r := m.result(t, 2)
	if len(r.Mismatches) != 1 || r.Mismatches[0].Problem != "close code differs: expected 1000 Normal Closure, got 4002 Private Use" {
		t.Errorf("mismatches:\n%s", mismatchText(r))
	}
}

func TestServeMismatch(t *testing.T) {
	sc := newRec("ws://recorded/", "").c(`{"user":"ann","id":1}`).s("ok").c("second").s("ok2").closeBy(s2c, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{Options: Options{JSON: true, Ignore: []string{"$.id"}, Timeout: 300 * time.Millisecond}})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	c.Send(testpeer.TextMsg(`{"id":99,"user":"bob"}`))
	// The mock goes on after a mismatch.
	if got := read(t, c); got != "ok" {
		t.Errorf("answer %q", got)
	}
	// Nothing more: the second message times out, the answer still comes.
	if got := read(t, c); got != "ok2" {
		t.Errorf("answer %q", got)
	}
	c.WaitClosed(5 * time.Second)
	r := m.result(t, 1)
	got := m.reported(1)
	if len(got) != 2 || len(r.Mismatches) != 2 {
		t.Fatalf("reported %d, result:\n%s", len(got), mismatchText(r))
	}
	if got[0].What != "client message 1" || got[0].Index != 1 || strings.Join(got[0].Diff, "") != `$.user: expected "ann", got "bob"` {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Problem != "expected client message 2 not received within 300ms" {
		t.Errorf("second: %+v", got[1])
	}
}

func TestServeClientsIndependent(t *testing.T) {
	sc := newRec("ws://recorded/", "").s("hello").c("x").s("bye").closeBy(s2c, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{})
	a := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	b := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	// Each gets the script from the start, whatever the other does.
	if read(t, b) != "hello" || read(t, a) != "hello" {
		t.Fatal("greetings")
	}
	b.Send(testpeer.TextMsg("x"))
	if read(t, b) != "bye" {
		t.Error("b's answer")
	}
	b.WaitClosed(5 * time.Second)
	a.Send(testpeer.TextMsg("x"))
	if read(t, a) != "bye" {
		t.Error("a's answer")
	}
	a.WaitClosed(5 * time.Second)
	for conn := 1; conn <= 2; conn++ {
		if r := m.result(t, conn); !r.OK() {
			t.Errorf("conn %d:\n%s", conn, mismatchText(r))
		}
	}
}

func TestServeMaxConns(t *testing.T) {
	sc := newRec("ws://recorded/", "").c("x").closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{MaxConns: 1})
	a := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	_, resp, err := testpeer.TryDial(t, m.url, testpeer.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("second client: %v %v", resp, err)
	}
	a.Send(testpeer.TextMsg("x"))
	a.Close(1000, "")
	m.result(t, 1)
	// A slot is free again.
	b := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	b.Send(testpeer.TextMsg("x"))
	b.Close(1000, "")
	if r := m.result(t, 3); !r.OK() {
		t.Errorf("third connection:\n%s", mismatchText(r))
	}
}

func TestServeCancel(t *testing.T) {
	sc := newRec("ws://recorded/", "").c("never").closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{Options: Options{Timeout: 30 * time.Second}})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	m.cancel()
	ci, _ := c.WaitClosed(10 * time.Second)
	if ci.Code != 1001 {
		t.Errorf("close on cancel: %v", ci)
	}
	select {
	case err := <-m.done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		m.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeCaptures(t *testing.T) {
	// On the server side, captures come from the client's messages.
	sc := newRec("ws://recorded/", "").c(`{"req":"#number"}`).s(`{"re":{{req}},"echo":"{{req}}"}`).closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{Options: Options{Captures: []Capture{{Path: "$.req", Name: "req"}}}})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	c.Send(testpeer.TextMsg(`{"req":17}`))
	if got := read(t, c); got != `{"re":17,"echo":"17"}` {
		t.Errorf("answer %s", got)
	}
	c.Close(1000, "")
	if r := m.result(t, 1); !r.OK() {
		t.Errorf("%s", mismatchText(r))
	}
}

func TestServeFragmentsAndPings(t *testing.T) {
	// The recorded server message went out in two frames: the mock sends
	// it the same way. With Pings, the client's recorded ping is expected.
	sc := newRec("ws://recorded/", "").ctl(c2s, inspect.OpPing, "p").ctl(s2c, inspect.OpPong, "p").
		c("x").msg(s2c, inspect.OpText, "hello", 2, 3).closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{Options: Options{Pings: true}})
	rc := testpeer.DialRaw(t, m.url, testpeer.RawDialOptions{})
	if rc.Response().Status != 101 {
		t.Fatalf("handshake: %v", rc.Response().Line)
	}
	rc.WriteFrames(testpeer.ClientFrame(inspect.OpPing, []byte("p")), testpeer.ClientFrame(inspect.OpText, []byte("x")))
	var got []string
	for len(got) < 3 {
		f, err := rc.ReadFrame(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.String())
	}
	want := `fin pong len=1/7 "p"|text len=2/7 "he"|fin cont len=3/7 "llo"`
	if strings.Join(got, "|") != want {
		t.Errorf("frames:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	rc.WriteFrame(testpeer.ClientFrame(inspect.OpClose, testpeer.ClosePayload(1000, "")))
	if f, err := rc.ReadFrame(5 * time.Second); err != nil || f.Op != inspect.OpClose {
		t.Errorf("close answer %v %v", f, err)
	}
	if r := m.result(t, 1); !r.OK() {
		t.Errorf("%s", mismatchText(r))
	}
}

// A gorilla client that does not offer the recorded subprotocol is served
// anyway, and told about.
func TestServeSubprotocolMissing(t *testing.T) {
	sc := newRec("ws://recorded/", "chat").c("x").closeBy(c2s, 1000, "").script(t)
	m := startMock(t, sc, ServeOptions{})
	c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
	c.Send(testpeer.TextMsg("x"))
	c.Close(gws.CloseNormalClosure, "")
	r := m.result(t, 1)
	if len(r.Mismatches) != 1 || r.Mismatches[0].Problem != `the client did not offer the recorded subprotocol "chat"` {
		t.Errorf("%s", mismatchText(r))
	}
}

// failingListener fails its first Accepts with errs, then accepts as its
// listener does.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// An Accept error that passes (out of file descriptors) is waited out and
// reported once; one that does not ends Serve with it (issue 15).
func TestServeAcceptErrors(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	sc := newRec("ws://recorded/", "").s("welcome").closeBy(s2c, 1000, "").script(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pauses []error
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	fl := &failingListener{Listener: ln, errs: []error{emfile, emfile, emfile}}
	go func() {
		done <- Serve(ctx, fl, sc, ServeOptions{OnAcceptPause: func(err error) {
			mu.Lock()
			pauses = append(pauses, err)
			mu.Unlock()
		}})
	}()
	c := testpeer.Dial(t, "ws://"+ln.Addr().String()+"/", testpeer.ClientOptions{})
	if got := read(t, c); got != "welcome" {
		t.Errorf("first message %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	mu.Lock()
	if len(pauses) != 2 || !errors.Is(pauses[0], syscall.EMFILE) || pauses[1] != nil {
		t.Errorf("OnAcceptPause told %v, want EMFILE once, then nil", pauses)
	}
	mu.Unlock()

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	permanent := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EINVAL)}
	err = Serve(context.Background(), &failingListener{Listener: ln, errs: []error{permanent}}, sc, ServeOptions{})
	if err != permanent {
		t.Errorf("Serve returned %v, want %v", err, permanent)
	}
}
