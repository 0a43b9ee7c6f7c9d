package replay

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
	"github.com/wscope/wscope/internal/testpeer"
	"github.com/wscope/wscope/internal/wire"
)

// readRecording reads a recording the way the command does: every event,
// cloned.
func readRecording(t *testing.T, data []byte) []*inspect.Event {
	t.Helper()
	r, err := record.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var evs []*inspect.Event
	for e, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, record.CloneEvent(e))
	}
	return evs
}

func loadRecording(t *testing.T, name string) []*inspect.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return readRecording(t, data)
}

func TestScriptFromRecording(t *testing.T) {
	sc, err := NewScript(loadRecording(t, "connect-crafted.wsrec.jsonl"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Conn != 1 || sc.URL != "ws://127.0.0.1:18181/chat" || sc.Role != inspect.RoleClient {
		t.Errorf("script %+v", sc)
	}
	var items []string
	for _, m := range sc.Items {
		items = append(items, m.name())
	}
	want := "client message 1|client message 2|client message 3|client ping 1|server message 1|server message 2|server message 3|server pong 1|client message 4|server message 4"
	if strings.Join(items, "|") != want {
		t.Errorf("items:\n%s\nwant\n%s", strings.Join(items, "|"), want)
	}
	frag := sc.Items[2]
	if string(frag.Payload) != "abcdef" || len(frag.Frames) != 3 || frag.Frames[1] != (FrameInfo{Op: inspect.OpContinuation, Len: 2}) || !frag.Frames[2].Fin {
		t.Errorf("fragmented message %+v", frag)
	}
	e := sc.End
	if !e.Known || e.Closer != "client" || e.Code != 4000 || e.Reason != "done" || !e.Answered || e.AnswerCode != 4000 {
		t.Errorf("end %+v", e)
	}
	if got := len(sc.Messages(inspect.ServerToClient)); got != 4 {
		t.Errorf("%d server messages", got)
	}
}

func TestReplayRecordedClient(t *testing.T) {
	sc, err := NewScript(loadRecording(t, "connect-crafted.wsrec.jsonl"), 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	res, err := RunClient(testCtx(t), sc, ClientOptions{URL: srv.URL(), Options: Options{Pings: true, StrictFrames: true}})
	if err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	// The fragmented message went out in its three recorded frames.
	var layout []string
	for _, f := range srv.WaitFrames(7, 5*time.Second) {
		layout = append(layout, f.String())
	}
	if !strings.Contains(strings.Join(layout, "\n"), "text mask=") || !strings.Contains(layout[2], `len=2/7 "ab"`) || !strings.Contains(layout[4], `fin cont`) {
		t.Errorf("frames sent:\n%s", strings.Join(layout, "\n"))
	}
	if c, ok := srv.WaitClosed(5 * time.Second); !ok || c.Code != 4000 || c.Reason != "done" {
		t.Errorf("close %v", c)
	}
}

func TestServeRecordedListen(t *testing.T) {
	evs := loadRecording(t, "listen-echo.wsrec.jsonl")
	for conn, msgs := range map[int][]string{1: {"one", "two"}, 2: {"three"}} {
		sc, err := NewScript(evs, conn)
		if err != nil {
			t.Fatal(err)
		}
		m := startMock(t, sc, ServeOptions{})
		c := testpeer.Dial(t, m.url, testpeer.ClientOptions{})
		for _, s := range msgs {
			c.Send(testpeer.TextMsg(s))
			if got := read(t, c); got != s {
				t.Errorf("conn %d: answer %q to %q", conn, got, s)
			}
		}
		if ci, err := c.Close(1000, ""); err != nil || ci.Code != 1000 {
			t.Errorf("close %v %v", ci, err)
		}
		if r := m.result(t, 1); !r.OK() {
			t.Errorf("conn %d:\n%s", conn, mismatchText(r))
		}
	}
	if _, err := NewScript(evs, 7); err == nil || !strings.Contains(err.Error(), "connection 7") {
		t.Errorf("missing connection: %v", err)
	}
}

// recordSession makes a recording the way `wscope connect --record` does: a wire
// client against srv sends msgs, waits for as many answers, closes.
func recordSession(t *testing.T, url string, msgs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, inspect.RecordingHeader{}, record.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, len(msgs))
	u, _ := wire.ParseURL(url)
	start := time.Now()
	ready := make(chan struct{})
	conn, open, err := wire.Dial(testCtx(t), wire.DialOptions{URL: u, Headers: []inspect.HeaderField{{Name: "Authorization", Value: "Bearer s3cret"}}}, wire.Config{
		ID: 1, Start: start,
		OnEvent: func(e *inspect.Event) {
			<-ready // the open event first
			w.Write(e)
			if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
				got <- struct{}{}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(&inspect.Event{T: time.Since(start), Kind: inspect.KindOpen, Conn: 1, Open: open})
	close(ready)
	go conn.Run()
	for _, m := range msgs {
		conn.Send(inspect.OpText, []byte(m))
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("no answer to %q", m)
		}
	}
	conn.Close(inspect.CloseNormal, "")
	if !conn.Wait(5 * time.Second) {
		t.Fatal("connection still open")
	}
	return buf.Bytes()
}

// The CI story: record a session against a server, change the server's
// behaviour and replay: mismatches; restore it: none.
func TestRecordThenReplay(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	data := recordSession(t, srv.URL(), `{"op":"login","user":"ann"}`, "status")
	if bytes.Contains(data, []byte("s3cret")) {
		t.Fatal("the recording holds the credential")
	}
	sc, err := NewScript(readRecording(t, data), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 4 || sc.End.Closer != "client" {
		t.Fatalf("script: %d items, end %+v", len(sc.Items), sc.End)
	}
	res, err := RunClient(testCtx(t), sc, ClientOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("same server: %v\n%s", err, mismatchText(res))
	}
	// The credential was redacted: not sent again unless given.
	for _, r := range srv.Requests() {
		if r.Header.Get("Authorization") == "[redacted]" {
			t.Error("the redacted value was sent")
		}
	}

	changed := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, CloseAfter: 1, CloseCode: 4000})
	res, err = RunClient(testCtx(t), sc, ClientOptions{URL: changed.URL(), Options: Options{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatal("changed server: no mismatch")
	}
	var b bytes.Buffer
	res.WriteText(&b)
	if !strings.Contains(b.String(), "expected server message 2, but the server closed the connection (close 4000 Private Use)") {
		t.Errorf("report:\n%s", b.String())
	}

	res, err = RunClient(testCtx(t), sc, ClientOptions{URL: srv.URL()})
	if err != nil || !res.OK() {
		t.Fatalf("restored: %v\n%s", err, mismatchText(res))
	}
}
