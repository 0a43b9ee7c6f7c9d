package e2e

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// listen starts `wscope listen 127.0.0.1:0 args...` and returns it with its
// base URL, ws://127.0.0.1:PORT.
func listen(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, append([]string{"listen", "127.0.0.1:0"}, args...)...)
	return p, "ws://" + p.listenAddr()
}

// waitConnected waits until wscope has registered client id, which happens
// after the client saw the 101: only then does it get stdin lines,
// broadcasts and the 1001 of Ctrl-C.
func (p *proc) waitConnected(t *testing.T, id int) {
	t.Helper()
	p.stderr.waitMatch(t, regexp.MustCompile(fmt.Sprintf(`^\[%d\] connected from 127\.0\.0\.1:\d+ `, id)), step)
}

// waitCount waits until n lines match re.
func (l *lines) waitCount(t *testing.T, re *regexp.Regexp, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		got := 0
		for _, line := range l.all() {
			if re.MatchString(line) {
				got++
			}
		}
		if got >= n {
			return
		}
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("%d lines matching %q within %s, want %d; got:\n%s", got, re, timeout, n, l.String())
		}
	}
}

// readMsg reads one message from a library client, failing the test
// otherwise.
func readMsg(t *testing.T, c *tp.Client) tp.Msg {
	t.Helper()
	m, err := c.Read(step)
	if err != nil {
		t.Fatalf("reading a message: %v", err)
	}
	return m
}

// readClose reads frames from a raw client until wscope's close frame,
// answers it, and returns it with the frames before it.
func readClose(t *testing.T, rc *tp.RawConn) (tp.Frame, []tp.Frame) {
	t.Helper()
	var before []tp.Frame
	for {
		f, err := rc.ReadFrame(step)
		if err != nil {
			t.Fatalf("no close frame from wscope: %v (frames before: %v)", err, before)
		}
		if f.Op == inspect.OpClose {
			rc.WriteFrame(tp.ClientFrame(inspect.OpClose, f.Payload))
			return f, before
		}
		before = append(before, f)
	}
}

func closeCode(t *testing.T, f tp.Frame) int {
	t.Helper()
	ci, ok := f.Close()
	if !ok {
		t.Fatalf("not a well-formed close frame: %v", f)
	}
	return ci.Code
}

func TestListenTextOutputCarriesConnectionID(t *testing.T) {
	t.Parallel()
	// A bare port means 127.0.0.1:PORT.
	p := start(t, "listen", "0", "-v")
	url := "ws://" + p.listenAddr()
	if !strings.Contains(p.stderr.String(), "listening on ws://127.0.0.1:") {
		t.Fatalf("bare port did not listen on loopback: %s", p.stderr)
	}
	c1 := tp.Dial(t, url+"/chat?room=1", tp.ClientOptions{})
	p.waitConnected(t, 1)
	c2 := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 2)
	c1.Send(tp.TextMsg("hello"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] hello$`), step)
	c2.Send(tp.BinaryMsg([]byte{0, 1, 2}))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[2\] AAEC$`), step)
	c1.Send(tp.TextMsg("again"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] again$`), step)
	if st, err := c1.Close(1000, ""); err != nil || st.Code != 1000 {
		t.Fatalf("close: %v %v", st, err)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: 1000 Normal Closure by client, clean$`), step)
	if got := p.stdout.waitLines(t, 3, step); !slices.Equal(got, []string{"[1] hello", "[2] AAEC", "[1] again"}) || strings.Count(p.stdout.String(), "\n") != 3 {
		t.Errorf("stdout %q", p.stdout)
	}
	// -v: the handshake as received and answered, curl-style.
	for _, want := range []string{"> GET /chat?room=1 HTTP/1.1", "> Sec-WebSocket-Version: 13", "< HTTP/1.1 101 Switching Protocols", "[1] connected from 127.0.0.1:"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

func TestListenFramesOutput(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "-o", "frames")
	c := tp.Dial(t, url+"/x", tp.ClientOptions{})
	c.Send(tp.TextMsg("hello"))
	for _, re := range []string{
		`^\s*\d+\.\d{6} #1 open   ws://127\.0\.0\.1:\d+/x \(server 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+\)$`,
		`^\s*\d+\.\d{6} #1 c2s text   F--- M [0-9a-f]{8} len=5\s+hello$`,
	} {
		p.stdout.waitMatch(t, regexp.MustCompile(re), step)
	}
	c.Close(1000, "done")
	for _, re := range []string{
		`^\s*\d+\.\d{6} #1 c2s close  F--- M [0-9a-f]{8} len=6\s+1000 Normal Closure "done"$`,
		`^\s*\d+\.\d{6} #1 s2c close  F--- - -------- len=2\s+1000 Normal Closure$`,
		`^\s*\d+\.\d{6} #1 end    1000 Normal Closure "done" by client, clean$`,
	} {
		p.stdout.waitMatch(t, regexp.MustCompile(re), step)
	}
}

func TestListenJSONOutput(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "-o", "json", "--echo", "--once")
	c := tp.Dial(t, url+"/feed?v=2", tp.ClientOptions{Header: http.Header{"X-Test": {"yes"}, "Cookie": {"sid=secret42"}}})
	c.Send(tp.TextMsg("hello"))
	if m := readMsg(t, c); m.String() != `text:"hello"` {
		t.Fatalf("echo %v", m)
	}
	if st, err := c.Close(1000, ""); err != nil || st.Code != 1000 {
		t.Fatalf("close: %v %v", st, err)
	}
	if code := p.wait(step); code != 0 {
		t.Fatalf("--once after a clean close: exit %d, want 0\n%s", code, p.stderr)
	}
	out := p.stdout.String()
	if !strings.HasPrefix(out, `{"wsrec":1,`) {
		t.Errorf("no recording header: %.100q", out)
	}
	if strings.Contains(out, "secret42") {
		t.Errorf("Cookie value leaked into the recording")
	}
	evs := parseEvents(t, out)
	for _, e := range evs {
		if e.num("conn") != 1 {
			t.Errorf("event on connection %v: %v", e["conn"], e)
		}
	}
	opens := filter(evs, "open", "")
	if len(opens) != 1 {
		t.Fatalf("open events %v", opens)
	}
	o := opens[0]
	if o["role"] != "server" || !regexp.MustCompile(`^ws://127\.0\.0\.1:\d+/feed\?v=2$`).MatchString(o["url"].(string)) {
		t.Errorf("open %v", o)
	}
	req := o["request"].(map[string]any)
	if req["method"] != "GET" || req["target"] != "/feed?v=2" {
		t.Errorf("request %v", req)
	}
	hs := map[string]string{}
	for _, h := range req["headers"].([]any) {
		pair := h.([]any)
		hs[pair[0].(string)] = pair[1].(string)
	}
	if hs["X-Test"] != "yes" || hs["Upgrade"] != "websocket" || hs["Sec-WebSocket-Version"] != "13" {
		t.Errorf("request headers %v", hs)
	}
	if v, ok := hs["Cookie"]; !ok || v == "sid=secret42" {
		t.Errorf("Cookie %q, want redacted", v)
	}
	if resp := o["response"].(map[string]any); resp["status"] != float64(101) {
		t.Errorf("response %v", resp)
	}
	in := filter(evs, "frame", "c2s")
	// A whole message's payload is in its msg line ("payload":"msg"),
	// unless another event came between the two lines.
	hello := func(f event) bool { return f["text"] == "hello" || f["payload"] == "msg" && f["text"] == nil }
	if len(in) != 2 || in[0]["op"] != "text" || !hello(in[0]) || in[1]["op"] != "close" {
		t.Fatalf("c2s frames %v", in)
	}
	for _, f := range in {
		if f["masked"] != true || !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(fmt.Sprint(f["mask"])) || len(f.rules()) != 0 {
			t.Errorf("c2s frame %v", f)
		}
	}
	outf := filter(evs, "frame", "s2c")
	if len(outf) != 2 || outf[0]["op"] != "text" || !hello(outf[0]) || outf[1]["op"] != "close" {
		t.Fatalf("s2c frames %v", outf)
	}
	for _, f := range outf {
		if f["masked"] != false {
			t.Errorf("server frame masked: %v", f)
		}
	}
	if m := filter(evs, "msg", "c2s"); len(m) != 1 || m[0]["text"] != "hello" || m[0]["op"] != "text" {
		t.Errorf("c2s msgs %v", m)
	}
	if m := filter(evs, "msg", "s2c"); len(m) != 1 || m[0]["text"] != "hello" {
		t.Errorf("s2c msgs %v", m)
	}
	end := filter(evs, "end", "")
	if len(end) != 1 || end[0].num("code") != 1000 || end[0]["clean"] != true || end[0]["closer"] != "client" {
		t.Errorf("end %v", end)
	}
	if evs[len(evs)-1]["ev"] != "end" {
		t.Errorf("last event %v", evs[len(evs)-1])
	}
}

func TestListenEchoSameOpcodeAndBytes(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--echo")
	c := tp.Dial(t, url, tp.ClientOptions{})
	msgs := []tp.Msg{tp.TextMsg("t é"), tp.BinaryMsg([]byte{0, 1, 2, 0xff}), tp.TextMsg(""), tp.BinaryMsg(nil), tp.TextMsg("last")}
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range msgs {
		got := readMsg(t, c)
		if got.Binary != want.Binary || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("echo %d: got %v, want %v", i, got, want)
		}
	}

	// On the wire: one unmasked frame per message, fragments reassembled,
	// the ping between them answered on its own.
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	if rc.Response().Status != 101 {
		t.Fatalf("raw upgrade: %v", rc.Response().Line)
	}
	rc.WriteFrames(
		tp.FrameSpec{Fin: false, Op: inspect.OpBinary, Masked: true, Mask: tp.ClientMask, Payload: []byte{1, 2}},
		tp.ClientFrame(inspect.OpPing, []byte("between")),
		tp.FrameSpec{Fin: true, Op: inspect.OpContinuation, Masked: true, Mask: tp.ClientMask, Payload: []byte{3}},
		tp.ClientFrame(inspect.OpText, nil),
	)
	var frames []tp.Frame
	for range 3 {
		f, err := rc.ReadFrame(step)
		if err != nil {
			t.Fatalf("after %v: %v", frames, err)
		}
		frames = append(frames, f)
	}
	if f := frames[0]; f.Op != inspect.OpPong || f.Text() != "between" || f.Masked {
		t.Errorf("frame 0: %v, want the pong", f)
	}
	if f := frames[1]; f.Op != inspect.OpBinary || !f.Fin || f.Masked || f.Rsv != 0 || !bytes.Equal(f.Payload, []byte{1, 2, 3}) {
		t.Errorf("frame 1: %v, want the reassembled binary echo", f)
	}
	if f := frames[2]; f.Op != inspect.OpText || !f.Fin || f.Masked || f.Length != 0 {
		t.Errorf("frame 2: %v, want an empty text echo", f)
	}
	rc.WriteFrame(tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	if f, _ := readClose(t, rc); closeCode(t, f) != 1000 {
		t.Errorf("close %v", f)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[2\] closed: 1000 Normal Closure by client, clean$`), step)
}

func TestListenEchoLargeMessagesIntact(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1 << 20, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			p, url := listen(t, "--echo")
			c := tp.Dial(t, url, tp.ClientOptions{FrameSize: 64 << 10})
			data := make([]byte, size)
			rng := rand.New(rand.NewPCG(uint64(size), 2))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			if err := c.Send(tp.BinaryMsg(data)); err != nil {
				t.Fatal(err)
			}
			m, err := c.Read(20 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Binary || !bytes.Equal(m.Data, data) {
				t.Fatalf("echo of %d bytes came back as %d bytes (binary %v), different", size, len(m.Data), m.Binary)
			}
			if st, err := c.Close(1000, ""); err != nil || st.Code != 1000 {
				t.Fatalf("close: %v %v", st, err)
			}
			p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: 1000 `), step)
			if got, want := p.stdout.String(), "[1] "+base64.StdEncoding.EncodeToString(data)+"\n"; got != want {
				t.Errorf("stdout: %d bytes, want the message's %d bytes of base64", len(got), len(want))
			}
		})
	}
}

func TestListenBroadcastReachesEveryOtherClient(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--broadcast")
	var cs []*tp.Client
	for i := 1; i <= 3; i++ {
		cs = append(cs, tp.Dial(t, url, tp.ClientOptions{}))
		p.waitConnected(t, i)
	}
	for i, c := range cs {
		if err := c.Send(tp.TextMsg(fmt.Sprintf("from %d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	cs[2].Send(tp.BinaryMsg([]byte{7, 7}))
	for i, c := range cs {
		var got []string
		n := 2
		if i != 2 {
			n = 3
		}
		for range n {
			got = append(got, readMsg(t, c).String())
		}
		sort.Strings(got)
		var want []string
		for j := range cs {
			if j != i {
				want = append(want, fmt.Sprintf("text:%q", fmt.Sprintf("from %d", j+1)))
			}
		}
		if i != 2 {
			want = append(want, "binary:0707")
		}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("client %d got %v, want %v", i+1, got, want)
		}
	}
	// Ctrl-C: a message sent back to its own sender would have arrived
	// before the close frame.
	p.interrupt()
	for i, c := range cs {
		m, err := c.Read(step)
		var ce *gws.CloseError
		if !errors.As(err, &ce) || ce.Code != 1001 {
			t.Errorf("client %d: after the broadcasts got %v %v, want close 1001", i+1, m, err)
		}
	}
	if code := p.wait(step); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	for _, want := range []string{"[1] from 1", "[2] from 2", "[3] from 3", "[3] Bwc="} {
		if !strings.Contains(p.stdout.String(), want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, p.stdout)
		}
	}
}

func TestListenStdinGoesToEveryClient(t *testing.T) {
	t.Parallel()
	p, url := listen(t)
	c := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 1)
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	p.waitConnected(t, 2)
	fmt.Fprint(p.stdin, "announce\nsecond line\n")
	for _, want := range []string{"announce", "second line"} {
		if m := readMsg(t, c); m.String() != fmt.Sprintf("text:%q", want) {
			t.Errorf("library client got %v, want %q", m, want)
		}
		f, err := rc.ReadFrame(step)
		if err != nil {
			t.Fatal(err)
		}
		if f.Op != inspect.OpText || !f.Fin || f.Masked || f.Text() != want {
			t.Errorf("raw client got %v, want an unmasked text frame %q", f, want)
		}
	}
	// A client that connects later gets the lines sent from then on.
	c3 := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 3)
	fmt.Fprintln(p.stdin, "third")
	for i, cl := range []*tp.Client{c, c3} {
		if m := readMsg(t, cl); m.String() != `text:"third"` {
			t.Errorf("client %d got %v", i, m)
		}
	}
	if f, err := rc.ReadFrame(step); err != nil || f.Text() != "third" {
		t.Errorf("raw client got %v %v", f, err)
	}
	// stdin EOF does not stop the server.
	p.stdin.Close()
	c.Send(tp.TextMsg("still here"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] still here$`), step)
}

func TestListenSubprotocol(t *testing.T) {
	t.Parallel()
	_, url := listen(t, "--subprotocol", "a,b")
	cases := []struct {
		offer []string
		want  string
	}{
		// gobwas' upgrader takes the first protocol the client offers
		// that the server speaks.
		{[]string{"b", "a"}, "b"},
		{[]string{"a", "b"}, "a"},
		{[]string{"x", "b"}, "b"},
		{[]string{"x"}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		cl := tp.Dial(t, url, tp.ClientOptions{Subprotocols: c.offer})
		if got := cl.Subprotocol(); got != c.want {
			t.Errorf("offer %v: got subprotocol %q, want %q", c.offer, got, c.want)
		}
		if got := cl.Response().Header.Values("Sec-WebSocket-Protocol"); c.want == "" && len(got) != 0 {
			t.Errorf("offer %v: response carries Sec-WebSocket-Protocol %v", c.offer, got)
		}
		cl.Close(1000, "")
	}
	// Repeatable, as well as comma-separated.
	_, url = listen(t, "-s", "graphql-ws", "-s", "graphql-transport-ws")
	cl := tp.Dial(t, url, tp.ClientOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if got := cl.Subprotocol(); got != "graphql-transport-ws" {
		t.Errorf("repeated -s: got %q", got)
	}
}

func TestListenPathRefusesOthersWith404(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--path", "/ws")
	if !strings.Contains(p.stderr.String(), "/ws (Ctrl-C to stop)") {
		t.Errorf("the listening line does not show the path: %s", p.stderr)
	}
	for _, path := range []string{"/other", "/", "/ws/deeper"} {
		_, resp, err := tp.TryDial(t, url+path, tp.ClientOptions{})
		if err == nil || resp == nil || resp.StatusCode != 404 {
			t.Fatalf("%s: err %v, response %v; want a 404", path, err, resp)
		}
		body := make([]byte, 1024)
		n, _ := resp.Body.Read(body)
		if !strings.Contains(string(body[:n]), "try /ws") {
			t.Errorf("%s: body %q", path, body[:n])
		}
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] 127\.0\.0\.1:\d+: refused upgrade: 404 Not Found$`), step)
	c := tp.Dial(t, url+"/ws", tp.ClientOptions{})
	c.Send(tp.TextMsg("in"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[4\] in$`), step)
	c = tp.Dial(t, url+"/ws?token=1", tp.ClientOptions{})
	c.Send(tp.TextMsg("query"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[5\] query$`), step)
}

func TestListenOriginAllowList(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--origin", "https://ok.example", "--origin", "https://also.example")
	for _, origin := range []string{"https://evil.example", "https://ok.example.evil", "http://ok.example", ""} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		_, resp, err := tp.TryDial(t, url, tp.ClientOptions{Header: h})
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Fatalf("Origin %q: err %v, response %v; want a 403", origin, err, resp)
		}
	}
	p.stderr.waitCount(t, regexp.MustCompile(`refused upgrade: 403 Forbidden$`), 4, step)
	for i, origin := range []string{"https://ok.example", "https://also.example"} {
		c := tp.Dial(t, url, tp.ClientOptions{Header: http.Header{"Origin": {origin}}})
		c.Send(tp.TextMsg(origin))
		p.stdout.waitMatch(t, regexp.MustCompile(fmt.Sprintf(`^\[%d\] %s$`, 5+i, regexp.QuoteMeta(origin))), step)
	}
}

func TestListenMaxConns(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--max-conns", "1")
	c := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 1)
	_, resp, err := tp.TryDial(t, url, tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("second client: err %v, response %v; want a 503", err, resp)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[2\] refused 127\.0\.0\.1:\d+: --max-conns 1 reached$`), step)
	// The first one still works; once it is gone there is room again.
	c.Send(tp.TextMsg("first"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] first$`), step)
	c.Close(1000, "")
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: `), step)
	c = tp.Dial(t, url, tp.ClientOptions{})
	c.Send(tp.TextMsg("third"))
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[3\] third$`), step)
}

// TestListenMaxConnsUnderABurst connects many clients at once: the limit
// must hold while handshakes are still in progress, not only once they
// are done.
func TestListenMaxConnsUnderABurst(t *testing.T) {
	t.Parallel()
	const limit, clients = 2, 8
	p, url := listen(t, "--max-conns", fmt.Sprint(limit))
	statuses := make(chan int, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := tp.TryDialRaw(t, url, tp.RawDialOptions{})
			if err != nil {
				statuses <- -1
				return
			}
			statuses <- rc.Response().Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[101] != limit || count[503] != clients-limit {
		t.Fatalf("statuses %v, want %d upgrades and %d refusals\n%s", count, limit, clients-limit, p.stderr)
	}
}

func TestListenKeepsFrameSentWithTheRequest(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--echo")
	rc := tp.DialRawEarly(t, url, tp.Frames(
		tp.ClientFrame(inspect.OpText, []byte("early bird")),
		tp.ClientFrame(inspect.OpBinary, []byte{0xca, 0xfe}),
	))
	if rc.Response().Status != 101 || rc.Response().Get("Sec-WebSocket-Accept") != tp.AcceptKey(tp.SampleKey) {
		t.Fatalf("response %q", rc.Response().Raw)
	}
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] early bird$`), step)
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] yv4=$`), step)
	for _, want := range []string{`fin text len=10/7 "early bird"`, "fin binary len=2/7 cafe"} {
		f, err := rc.ReadFrame(step)
		if err != nil || f.String() != want {
			t.Errorf("echo %v %v, want %s", f, err, want)
		}
	}
}

// TestListenViolations puts every rule a client can break in front of
// `wscope listen`, one connection per rule, each on its own path so the
// events can be told apart.
func TestListenViolations(t *testing.T) {
	t.Parallel()
	masked := func(f tp.FrameSpec) tp.FrameSpec { f.Masked, f.Mask = true, tp.ClientMask; return f }
	cases := []struct {
		rule   inspect.Rule
		frames []tp.FrameSpec
		code   int // close code wscope sends, 0 when it does not close
	}{
		{inspect.RuleClientUnmasked, []tp.FrameSpec{{Fin: true, Op: inspect.OpText, Payload: []byte("hi")}}, 0},
		{inspect.RuleReservedOpcode, []tp.FrameSpec{masked(tp.FrameSpec{Fin: true, Op: 0xB, Payload: []byte("?")})}, 0},
		{inspect.RuleRsvWithoutExtension, []tp.FrameSpec{masked(tp.FrameSpec{Fin: true, Rsv: inspect.Rsv1, Op: inspect.OpText, Payload: []byte("x")})}, 0},
		{inspect.RuleLengthNotMinimal, []tp.FrameSpec{masked(tp.FrameSpec{Fin: true, Op: inspect.OpText, Payload: []byte("short"), LenEnc: inspect.Len64})}, 0},
		{inspect.RuleControlTooLong, []tp.FrameSpec{tp.ClientFrame(inspect.OpPing, bytes.Repeat([]byte("p"), 126))}, 0},
		{inspect.RuleControlFragmented, []tp.FrameSpec{masked(tp.FrameSpec{Fin: false, Op: inspect.OpPing, Payload: []byte("p")})}, 0},
		{inspect.RuleOrphanContinuation, []tp.FrameSpec{masked(tp.FrameSpec{Fin: true, Op: inspect.OpContinuation, Payload: []byte("c")})}, 0},
		{inspect.RuleDataInsideFragmented, []tp.FrameSpec{masked(tp.FrameSpec{Fin: false, Op: inspect.OpText, Payload: []byte("a")}), tp.ClientFrame(inspect.OpText, []byte("b"))}, 0},
		{inspect.RuleCloseCodeInvalid, []tp.FrameSpec{tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1005, ""))}, 1002},
		{inspect.RuleCloseOneByte, []tp.FrameSpec{tp.ClientFrame(inspect.OpClose, []byte{3})}, 1002},
		{inspect.RuleCloseReasonUTF8, []tp.FrameSpec{tp.ClientFrame(inspect.OpClose, append(tp.ClosePayload(1000, ""), 0xff, 0xfe))}, 1000},
		// Observed, not failed: --strict fails it (TestListenStrict).
		{inspect.RuleTextInvalidUTF8, []tp.FrameSpec{tp.ClientFrame(inspect.OpText, []byte{'a', 0xc3})}, 0},
	}
	p, url := listen(t, "-o", "json")
	for _, c := range cases {
		rc := tp.DialRaw(t, url+"/"+string(c.rule), tp.RawDialOptions{})
		if rc.Response().Status != 101 {
			t.Fatalf("%s: upgrade %q", c.rule, rc.Response().Line)
		}
		rc.WriteFrames(c.frames...)
		if c.code == 0 {
			// Nothing wscope must close for: we close.
			rc.WriteFrame(tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
		}
		f, before := readClose(t, rc)
		want := c.code
		if want == 0 {
			want = 1000
		}
		if got := closeCode(t, f); got != want || f.Masked {
			t.Errorf("%s: wscope closed with %v, want %d unmasked", c.rule, f, want)
		}
		for _, b := range before {
			if b.Masked || (b.Op.IsControl() && b.Length > 125) {
				t.Errorf("%s: wscope answered with an invalid frame %v", c.rule, b)
			}
		}
	}
	p.stderr.waitCount(t, regexp.MustCompile(`^\[\d+\] closed: `), len(cases), step)
	p.interrupt()
	if code := p.wait(step); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	evs := parseEvents(t, p.stdout.String())
	conn := map[string]int{}
	for _, o := range filter(evs, "open", "") {
		conn[strings.TrimPrefix(o["request"].(map[string]any)["target"].(string), "/")] = o.num("conn")
	}
	for _, c := range cases {
		id, ok := conn[string(c.rule)]
		if !ok {
			t.Errorf("%s: no open event", c.rule)
			continue
		}
		var found bool
		for _, e := range evs {
			if e.num("conn") != id || (e["ev"] != "frame" && e["ev"] != "msg") {
				continue
			}
			if e["dir"] == "s2c" && len(e.rules()) > 0 && !(c.rule == inspect.RuleControlTooLong && e["op"] == "pong") {
				t.Errorf("%s: wscope's own frame breaks %v: %v", c.rule, e.rules(), e)
			}
			if e["dir"] == "c2s" && slices.Contains(e.rules(), string(c.rule)) {
				found = true
				v := e["violations"].([]any)[0].(map[string]any)
				if !strings.HasPrefix(v["section"].(string), "RFC 6455 ") || v["msg"] == "" {
					t.Errorf("%s: violation %v", c.rule, v)
				}
			}
		}
		if !found {
			t.Errorf("rule %s not reported on connection %d", c.rule, id)
		}
	}
}

// TestListenOversizedPingGetsNoOversizedPong: a ping of 126 bytes breaks
// section 5.5; answering it with a pong of the same 126 bytes makes wscope
// break it too.
func TestListenOversizedPingGetsNoOversizedPong(t *testing.T) {
	t.Parallel()
	_, url := listen(t)
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	rc.WriteFrames(
		tp.ClientFrame(inspect.OpPing, bytes.Repeat([]byte("p"), 126)),
		tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")),
	)
	_, before := readClose(t, rc)
	for _, f := range before {
		if f.Op.IsControl() && f.Length > 125 {
			t.Errorf("wscope sent %v", f)
		}
	}
}

func TestListenViolationsWarnInTextMode(t *testing.T) {
	t.Parallel()
	p, url := listen(t)
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	rc.WriteFrame(tp.FrameSpec{Fin: true, Op: inspect.OpText, Payload: []byte("naked")})
	p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] naked$`), step)
	p.stderr.waitMatch(t, regexp.MustCompile(`^wscope: \[1\] frame 1: client-frame-unmasked \(RFC 6455 5\.1\): `), step)
	// Invalid UTF-8 is shown on its frame, and the connection goes on:
	// only --strict fails it.
	rc.WriteFrame(tp.ClientFrame(inspect.OpText, []byte{'o', 'k', 0xff}))
	p.stderr.waitMatch(t, regexp.MustCompile(`^wscope: \[1\] frame 2: text-invalid-utf8 \(RFC 6455 8\.1\): `), step)
	rc.WriteFrame(tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	f, err := rc.ReadFrame(step)
	if err != nil || f.Op != inspect.OpClose || closeCode(t, f) != 1000 {
		t.Errorf("wscope answered %v %v, want a close with 1000", f, err)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[1\] closed: 1000 Normal Closure by client, clean; 2 violations, first: client-frame-unmasked \(RFC 6455 5\.1\) by the client in frame 1$`), step)
	if strings.Contains(p.stderr.String(), "message: text-invalid-utf8") {
		t.Errorf("the invalid text was reported twice:\n%s", p.stderr)
	}
	if _, err := rc.WaitEOF(step); err != nil {
		t.Errorf("TCP did not end after the close handshake: %v", err)
	}
}

func TestListenInterruptClosesEveryClientWith1001(t *testing.T) {
	t.Parallel()
	p, url := listen(t)
	c1 := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 1)
	c2 := tp.Dial(t, url, tp.ClientOptions{})
	p.waitConnected(t, 2)
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	p.waitConnected(t, 3)
	p.interrupt()
	f, _ := readClose(t, rc)
	if !bytes.Equal(f.Wire, []byte{0x88, 0x02, 0x03, 0xe9}) {
		t.Errorf("close frame on the wire % x, want 88 02 03 e9 (1001, unmasked)", f.Wire)
	}
	for i, c := range []*tp.Client{c1, c2} {
		if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 {
			t.Errorf("client %d saw %v %v, want 1001", i+1, st, ok)
		}
	}
	if code := p.wait(step); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
}

func TestListenInterruptDoesNotWaitForeverForSilentClients(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--close-timeout", "300ms")
	rc := tp.DialRaw(t, url, tp.RawDialOptions{})
	p.waitConnected(t, 1)
	began := time.Now()
	p.interrupt()
	// The client reads the close frame and never answers.
	if f, err := rc.ReadFrame(step); err != nil || f.Op != inspect.OpClose {
		t.Fatalf("got %v %v, want a close frame", f, err)
	}
	if code := p.wait(step); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("took %v to exit with --close-timeout 300ms", d)
	}
}

func TestListenOnce(t *testing.T) {
	t.Parallel()
	t.Run("clean close exits 0", func(t *testing.T) {
		t.Parallel()
		p, url := listen(t, "--once")
		c := tp.Dial(t, url, tp.ClientOptions{})
		p.waitConnected(t, 1)
		other := tp.Dial(t, url, tp.ClientOptions{})
		p.waitConnected(t, 2)
		c.Send(tp.TextMsg("hi"))
		p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] hi$`), step)
		if st, err := c.Close(1000, ""); err != nil || st.Code != 1000 {
			t.Fatalf("close: %v %v", st, err)
		}
		// The others are sent away.
		if st, ok := other.WaitClosed(step); !ok || st.Code != 1001 {
			t.Errorf("the other client saw %v %v, want 1001", st, ok)
		}
		if code := p.wait(step); code != 0 {
			t.Fatalf("exit %d, want 0\n%s", code, p.stderr)
		}
		if got := p.stdout.String(); got != "[1] hi\n" {
			t.Errorf("stdout %q", got)
		}
	})
	t.Run("TCP dropped exits 4", func(t *testing.T) {
		t.Parallel()
		p, url := listen(t, "--once")
		rc := tp.DialRaw(t, url, tp.RawDialOptions{})
		rc.WriteFrame(tp.ClientFrame(inspect.OpText, []byte("bye?")))
		p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] bye\?$`), step)
		rc.CloseTCP()
		if code := p.wait(step); code != 4 {
			t.Fatalf("exit %d, want 4\n%s", code, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "connection ended abnormally: 1006 Abnormal Closure") {
			t.Errorf("stderr %s", p.stderr)
		}
	})
	t.Run("a refused client does not count", func(t *testing.T) {
		t.Parallel()
		p, url := listen(t, "--once", "--path", "/ws")
		if _, resp, err := tp.TryDial(t, url+"/nope", tp.ClientOptions{}); err == nil || resp == nil || resp.StatusCode != 404 {
			t.Fatalf("got %v %v, want a 404", resp, err)
		}
		c := tp.Dial(t, url+"/ws", tp.ClientOptions{})
		c.Send(tp.TextMsg("real"))
		p.stdout.waitMatch(t, regexp.MustCompile(`^\[2\] real$`), step)
		c.Close(1001, "")
		if code := p.wait(step); code != 0 {
			t.Fatalf("exit %d, want 0\n%s", code, p.stderr)
		}
	})
}

func TestListenClientCloseCodeReported(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "-o", "json", "--once")
	c := tp.Dial(t, url, tp.ClientOptions{})
	st, err := c.Close(4001, "bye")
	if err != nil || st.Code != 4001 {
		t.Fatalf("wscope answered %v %v, want the code echoed", st, err)
	}
	// --once ends with that client's status: 4001 is not a normal closure.
	if code := p.wait(step); code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, p.stderr)
	}
	if !regexp.MustCompile(`(?m)^\[1\] closed: 4001 Private Use "bye" by client, clean$`).MatchString(p.stderr.String()) {
		t.Errorf("stderr:\n%s", p.stderr)
	}
	evs := parseEvents(t, p.stdout.String())
	end := filter(evs, "end", "")
	if len(end) != 1 || end[0].num("code") != 4001 || end[0]["reason"] != "bye" || end[0]["closer"] != "client" || end[0]["clean"] != true {
		t.Fatalf("end events %v", end)
	}
	closes := filter(evs, "frame", "s2c")
	if len(closes) != 1 || closes[0]["close"].(map[string]any)["code"] != float64(4001) {
		t.Errorf("wscope's close frames %v", closes)
	}
}

func TestListenAddressInUseExit1(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := run(t, "", "listen", ln.Addr().String())
	r.expectCode(t, 1)
	if !strings.Contains(r.Stderr, "wscope: could not listen on "+ln.Addr().String()) || !strings.Contains(r.Stderr, "address already in use") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestListenUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"listen", "127.0.0.1:0", "--max-conns", "-1"},
		{"listen", "127.0.0.1:0", "--idle-timeout", "-1s"},
		{"listen", "127.0.0.1:0", "-o", "nope"},
		{"listen", "127.0.0.1:0", "--binary-as", "octal"},
		{"listen", "127.0.0.1:0", "--close-timeout", "0s"},
		{"listen", "127.0.0.1:0", "--no-such-flag"},
		{"listen", "127.0.0.1:0", "127.0.0.1:1"},
	} {
		r := run(t, "", args...)
		r.expectCode(t, 2)
		if !strings.HasPrefix(r.Stderr, "wscope: ") || strings.Contains(r.Stderr, "listening on") {
			t.Errorf("%v: stderr %q", args, r.Stderr)
		}
	}
}
