package replay

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/appproto/socketio"
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/testpeer"
)

func TestClientEcho(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	sc := newRec(srv.URL(), "").
		c("hello").s("hello").
		msg(c2s, inspect.OpBinary, "\x00\x01\x02").msg(s2c, inspect.OpBinary, "\x00\x01\x02").
		c(`{"a":1}`).s(`{"a":1}`).
		closeBy(c2s, inspect.CloseNormal, "bye").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{}) // the recorded URL
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("mismatches:\n%s", mismatchText(res))
	}
	if res.Sent != 3 || res.Received != 3 {
		t.Errorf("sent %d, received %d; want 3, 3", res.Sent, res.Received)
	}
	if !res.End.Clean || res.End.Code != inspect.CloseNormal || res.End.Closer != "client" {
		t.Errorf("end: %+v", res.End)
	}
	got := srv.Received()
	if len(got) != 3 || string(got[0].Data) != "hello" || !got[1].Binary || string(got[2].Data) != `{"a":1}` {
		t.Errorf("server received %v", got)
	}
	if c, ok := srv.WaitClosed(5 * time.Second); !ok || c.Code != 1000 || c.Reason != "bye" {
		t.Errorf("client's close: %v %v", c, ok)
	}
	var kinds []string
	for _, st := range res.Steps {
		kinds = append(kinds, st.Kind.String())
	}
	if strings.Join(kinds, " ") != "handshake send expect send expect send expect close" {
		t.Errorf("steps: %v", kinds)
	}
}

func TestClientServerSaysMore(t *testing.T) {
	// The server now greets first: the first expected message gets the
	// greeting, and the echo that follows is unexpected.
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, OnConnect: []testpeer.Msg{testpeer.TextMsg("welcome")}})
	sc := newRec(srv.URL(), "").c("hello").s("hello").closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) == 0 {
		t.Fatal("no mismatch")
	}
	m := res.Mismatches[0]
	if m.Index != 1 || m.Received != 1 || m.Problem != "server message 1 differs" || m.T != 1*time.Millisecond {
		t.Errorf("mismatch: %+v", m)
	}
	if strings.Join(m.Diff, "\n") != "- hello\n+ welcome" {
		t.Errorf("diff: %q", m.Diff)
	}
	if m.Expected != "text hello" || m.Got != "text welcome" {
		t.Errorf("expected/got: %q %q", m.Expected, m.Got)
	}
	// The echo comes before the server's answer to our close.
	if len(res.Mismatches) != 2 {
		t.Fatalf("mismatches:\n%s", mismatchText(res))
	}
	u := res.Mismatches[1]
	if u.String() != "unexpected server message (received #2)" || u.Got != "text hello" || u.Received != 2 {
		t.Errorf("unexpected: %+v", u)
	}
	var b bytes.Buffer
	res.WriteJUnit(&b, "")
	doc := parseJUnit(t, b.Bytes())
	if cs := doc.Suites[0].Cases; len(cs) != 4 || cs[2].Name != "unexpected server message (received #2)" || cs[2].Failure.Type != "unexpected" {
		t.Errorf("JUnit cases: %+v", cs)
	}
}

func TestClientJSONDiff(t *testing.T) {
	srv := rawServe(t, nil, func(rc *testpeer.RawConn) error {
		if _, _, err := serverRead(rc); err != nil {
			return err
		}
		if err := rc.WriteFrame(text(`{"user":{"name":"bob","id":7},"items":[1,2],"extra":true}`)); err != nil {
			return err
		}
		return serverFinish(rc)
	})
	sc := newRec(srv.URL(), "").c(`{"get":"user"}`).s(`{"user":{"id":7,"name":"ann"},"items":[1,2,3]}`).closeBy(c2s, inspect.CloseNormal, "").script(t)
	for _, json := range []bool{false, true} {
		res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{JSON: json}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Mismatches) != 1 {
			t.Fatalf("json=%v: mismatches:\n%s", json, mismatchText(res))
		}
		m := res.Mismatches[0]
		want := "- {\"user\":{\"id\":7,\"name\":\"ann\"},\"items\":[1,2,3]}\n+ {\"user\":{\"name\":\"bob\",\"id\":7},\"items\":[1,2],\"extra\":true}"
		if json {
			want = "$.items[2]: missing (expected 3)\n$.user.name: expected \"ann\", got \"bob\"\n$.extra: unexpected (got true)"
		}
		if got := strings.Join(m.Diff, "\n"); got != want {
			t.Errorf("json=%v diff:\n%s\nwant\n%s", json, got, want)
		}
	}
}

// answerer is a raw server that answers each client message with the
// frames answer returns, then the client's close.
func answerer(t *testing.T, hello []testpeer.FrameSpec, answer func(n int, msg string) []testpeer.FrameSpec) *testpeer.RawServer {
	return rawServe(t, nil, func(rc *testpeer.RawConn) error {
		if len(hello) > 0 {
			if err := rc.WriteFrames(hello...); err != nil {
				return err
			}
		}
		for n := 1; ; n++ {
			msg, closed, err := serverRead(rc)
			if err != nil || closed {
				return err
			}
			if fs := answer(n, msg); len(fs) > 0 {
				if err := rc.WriteFrames(fs...); err != nil {
					return err
				}
			}
		}
	})
}

func TestClientJSONSemantic(t *testing.T) {
	srv := answerer(t, nil, func(int, string) []testpeer.FrameSpec {
		return []testpeer.FrameSpec{text("{ \"b\" : [ 1, 2.0 ],\n  \"a\" : {\"y\": null, \"x\": \"s\"} }")}
	})
	sc := newRec(srv.URL(), "").c("q").s(`{"a":{"x":"s","y":null},"b":[1,2]}`).closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{JSON: true}})
	if err != nil || !res.OK() {
		t.Fatalf("--json: %v\n%s", err, mismatchText(res))
	}
	res, err = RunClient(testCtx(t), sc, ClientOptions{})
	if err != nil || res.OK() {
		t.Fatalf("exact: %v, no mismatch", err)
	}
}

func TestClientIgnoreAndMarkers(t *testing.T) {
	srv := answerer(t, nil, func(n int, _ string) []testpeer.FrameSpec {
		return []testpeer.FrameSpec{text(`{"id":"` + "9b2e4a1c-0d3f-4e5a-8b6c-7d8e9f0a1b2c" + `","ts":1718000000123,"meta":{"ts":5},"v":"x"}`)}
	})
	sc := newRec(srv.URL(), "").c("q").s(`{"id":"old","ts":1,"meta":{"ts":1},"v":"x"}`).
		c("q").s(`{"id":"#uuid","ts":"#number","meta":"#object","v":"#regex [a-z]"}`).
		c("q").s(`{"id":"#uuid","ts":"#string","meta":{"ts":5},"v":"x"}`).
		closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Ignore: []string{"$.id", "$..ts"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Messages 1 and 2 match; in 3, $.ts is ignored too, so #string is
	// never judged: everything matches.
	if !res.OK() {
		t.Fatalf("with --ignore:\n%s", mismatchText(res))
	}
	res, err = RunClient(testCtx(t), sc, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Without: message 1 differs (exact), 2 matches through its markers,
	// 3 fails on #string.
	if len(res.Mismatches) != 2 || res.Mismatches[0].Index != 1 || res.Mismatches[1].Index != 3 {
		t.Fatalf("without --ignore:\n%s", mismatchText(res))
	}
	if d := strings.Join(res.Mismatches[1].Diff, "\n"); d != "$.ts: expected #string, got 1718000000123" {
		t.Errorf("marker diff: %q", d)
	}
}

func TestClientCaptures(t *testing.T) {
	got := make(chan string, 4)
	srv := rawServe(t, nil, func(rc *testpeer.RawConn) error {
		if err := rc.WriteFrame(text(`{"token":"t-123","session":{"id":42}}`)); err != nil {
			return err
		}
		for {
			msg, closed, err := serverRead(rc)
			if err != nil || closed {
				return err
			}
			got <- msg
			if err := rc.WriteFrame(text(`{"ok":true}`)); err != nil {
				return err
			}
		}
	})
	sc := newRec(srv.URL(), "").s(`{"token":"#string","session":{"id":"#number"}}`).
		c(`{"auth":"{{tok}}","sid":{{sid}}}`).s(`{"ok":true}`).
		c(`token {{tok}}`).s(`{"ok":true}`).
		closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Captures: []Capture{{Path: "$.token", Name: "tok"}, {Path: "$.session.id", Name: "sid"}}}})
	if err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	if a, b := <-got, <-got; a != `{"auth":"t-123","sid":42}` || b != "token t-123" {
		t.Errorf("server received %q, %q", a, b)
	}
}

// A capture used before any message had its value fails the step that
// needs it (exit 5, in the report), with a hint when the recording has
// the value only in a later message.
func TestClientUnsetCapture(t *testing.T) {
	srv := answerer(t, nil, func(int, string) []testpeer.FrameSpec { return nil })
	sc := newRec(srv.URL(), "").c(`{"auth":"{{tok}}"}`).s(`{"token":"t-1"}`).closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Captures: []Capture{{Path: "$.token", Name: "tok"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Sent != 0 {
		t.Fatalf("result %+v", res)
	}
	text := mismatchText(res)
	for _, want := range []string{"capture tok is used before", "the recorded order is the cause", "server message 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
}

// Captures from what the Socket.IO decoder reads: the Engine.IO session
// id (a plain field), a token inside an event's JSON data; the settings
// refuse them without a decoder.
func TestClientCaptureDecodedFields(t *testing.T) {
	got := make(chan string, 4)
	srv := rawServe(t, nil, func(rc *testpeer.RawConn) error {
		for _, m := range []string{`0{"sid":"E-7","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, `42["hello",{"token":"T-9"}]`} {
			if err := rc.WriteFrame(text(m)); err != nil {
				return err
			}
		}
		for {
			msg, closed, err := serverRead(rc)
			if err != nil || closed {
				return err
			}
			got <- msg
		}
	})
	sc := newRec(srv.URL(), "").s(`0{"sid":"E-1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`).
		s(`42["hello",{"token":"T-1"}]`).
		c(`42["auth",{"token":"{{tok}}","eio":"{{eio}}"}]`).
		closeBy(c2s, inspect.CloseNormal, "").script(t)
	decode := func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded {
		return socketio.Protocol.New("").Decode(&inspect.Message{Dir: dir, Op: op, Payload: p})
	}
	caps := []Capture{{Field: "sid", Name: "eio"}, {Field: "data", Path: "$[1].token", Name: "tok"}}
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{
		Decode: decode, IgnoreFields: []string{"sid", "data"}, Captures: caps,
	}})
	if err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	if m := <-got; m != `42["auth",{"token":"T-9","eio":"E-7"}]` {
		t.Errorf("server received %q", m)
	}
	if _, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Captures: caps}}); err == nil || !strings.Contains(err.Error(), "needs a decoder") {
		t.Errorf("without a decoder: %v", err)
	}
}

func TestClientUnordered(t *testing.T) {
	// The recording: req1, resp1, req2, push, resp2. The server now sends
	// the push early, right behind resp1, and the two pushes of req3 in the
	// other order.
	srv := answerer(t, nil, func(n int, _ string) []testpeer.FrameSpec {
		switch n {
		case 1:
			return []testpeer.FrameSpec{text("resp1"), text(`{"push":1}`)}
		case 2:
			return []testpeer.FrameSpec{text("resp2")}
		}
		return []testpeer.FrameSpec{text(`{"b":2}`), text(`{"a":1}`)}
	})
	sc := newRec(srv.URL(), "").c("req1").s("resp1").c("req2").s(`{"push":1}`).s("resp2").
		c("req3").s(`{"a":1}`).s(`{"b":2}`).closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Unordered: true, Timeout: 2 * time.Second}})
	if err != nil || !res.OK() {
		t.Fatalf("unordered: %v\n%s", err, mismatchText(res))
	}
	if res.Received != 5 {
		t.Errorf("received %d", res.Received)
	}
	res, err = RunClient(testCtx(t), sc, ClientOptions{Options: Options{Timeout: 300 * time.Millisecond}})
	if err != nil || res.OK() {
		t.Fatalf("ordered: %v, no mismatch", err)
	}
	// In unordered mode a message that matches nothing is compared with
	// the one missing, for a diff.
	sc = newRec(srv.URL(), "").c("req1").s("resp1").s(`{"push":2}`).closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err = RunClient(testCtx(t), sc, ClientOptions{Options: Options{Unordered: true, JSON: true, Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 1 || res.Mismatches[0].Index != 2 || strings.Join(res.Mismatches[0].Diff, "") != "$.push: expected 2, got 1" {
		t.Fatalf("unordered diff:\n%s", mismatchText(res))
	}
}

func TestClientTimeout(t *testing.T) {
	srv := answerer(t, nil, func(int, string) []testpeer.FrameSpec { return nil })
	sc := newRec(srv.URL(), "").c("q").s("a1").s("a2").c("q2").s("a3").closeBy(c2s, inspect.CloseNormal, "").script(t)
	began := time.Now()
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	// a1 waits the timeout; a2, at the same point, does not wait again.
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if len(res.Mismatches) != 3 {
		t.Fatalf("mismatches:\n%s", mismatchText(res))
	}
	m := res.Mismatches[0]
	if m.Problem != "expected server message 1 not received within 200ms" || m.Got != "nothing" || m.Received != 0 {
		t.Errorf("timeout mismatch: %+v", m)
	}
	if res.Mismatches[2].Index != 3 {
		t.Errorf("third mismatch: %+v", res.Mismatches[2])
	}
}

func TestClientCloseCode(t *testing.T) {
	sc := func(url string) *Script {
		return newRec(url, "").c("hi").s("hi").closeBy(s2c, inspect.CloseNormal, "done").script(t)
	}
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, CloseAfter: 1, CloseCode: 4000, CloseReason: "bye"})
	res, err := RunClient(testCtx(t), sc(srv.URL()), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 1 {
		t.Fatalf("mismatches:\n%s", mismatchText(res))
	}
	m := res.Mismatches[0]
	if m.What != "close" || m.Problem != "close code differs: expected 1000 Normal Closure, got 4000 Private Use" ||
		m.Got != `close 4000 Private Use "bye" by the server` {
		t.Errorf("close mismatch: %+v", m)
	}
	if last := res.Steps[len(res.Steps)-1]; last.Kind != StepClose || last.Mismatch == nil {
		t.Errorf("last step: %+v", last)
	}

	srv = testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, CloseAfter: 1, CloseCode: 1000})
	res, err = RunClient(testCtx(t), sc(srv.URL()), ClientOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("same code: %v\n%s", err, mismatchText(res))
	}
	if res.End.Closer != "server" || !res.End.Clean {
		t.Errorf("end: %+v", res.End)
	}

	// The server closes early: what was still expected is reported, and
	// the sends that could not be made.
	srv = testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, CloseAfter: 1, CloseCode: 1000})
	sc2 := newRec(srv.URL(), "").c("hi").s("hi").c("more").s("more").closeBy(s2c, inspect.CloseNormal, "").script(t)
	res, err = RunClient(testCtx(t), sc2, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Whether the send fails depends on whether the server's close frame
	// was read before it.
	ms := res.Mismatches
	if len(ms) == 2 && strings.HasPrefix(ms[0].Problem, "could not send client message 2: the server closed the connection (close 1000") {
		ms = ms[1:]
	}
	if len(ms) != 1 || ms[0].Problem != "expected server message 2, but the server closed the connection (close 1000 Normal Closure)" {
		t.Fatalf("early close:\n%s", mismatchText(res))
	}
}

func TestClientSendAfterClose(t *testing.T) {
	// The answer and the close come together; the recorded gap before the
	// next send leaves time for the close to be read.
	srv := rawServe(t, nil, func(rc *testpeer.RawConn) error {
		if _, _, err := serverRead(rc); err != nil {
			return err
		}
		if err := rc.WriteFrames(text("hi"), closeFrame(1000, "")); err != nil {
			return err
		}
		_, _, err := serverRead(rc)
		return err
	})
	sc := newRec(srv.URL(), "").at(0).c("hi").s("hi").at(100*time.Millisecond).c("more").closeBy(s2c, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Realtime: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 1 || res.Mismatches[0].Problem != "could not send client message 2: the server closed the connection (close 1000 Normal Closure)" {
		t.Fatalf("mismatches:\n%s", mismatchText(res))
	}
	if res.Sent != 1 {
		t.Errorf("sent %d", res.Sent)
	}
}

func TestClientServerDrops(t *testing.T) {
	srv := answerer(t, nil, func(int, string) []testpeer.FrameSpec { return nil })
	drop := rawServe(t, nil, func(rc *testpeer.RawConn) error {
		_, _, err := serverRead(rc)
		return err // returning drops TCP
	})
	sc := func(url string) *Script { return newRec(url, "").c("x").dropped().script(t) }
	res, err := RunClient(testCtx(t), sc(drop.URL()), ClientOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("drop: %v\n%s", err, mismatchText(res))
	}
	res, err = RunClient(testCtx(t), sc(srv.URL()), ClientOptions{Options: Options{Timeout: 200 * time.Millisecond}})
	if err != nil || len(res.Mismatches) != 1 || res.Mismatches[0].Problem != "expected the server to drop the connection within 200ms" {
		t.Fatalf("no drop: %v\n%s", err, mismatchText(res))
	}
}

func TestClientTiming(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	sc := newRec(srv.URL(), "").at(0).c("a").at(300*time.Millisecond).c("b").closeBy(c2s, inspect.CloseNormal, "").script(t)
	run := func(o ClientOptions) time.Duration {
		t.Helper()
		began := time.Now()
		res, err := RunClient(testCtx(t), sc, o)
		if err != nil || !res.OK() {
			t.Fatalf("%+v: %v\n%s", o, err, mismatchText(res))
		}
		return time.Since(began)
	}
	if d := run(ClientOptions{}); d >= 250*time.Millisecond {
		t.Errorf("no delays by default, took %v", d)
	}
	if d := run(ClientOptions{Options: Options{Realtime: true}}); d < 250*time.Millisecond {
		t.Errorf("--realtime took %v, want at least the recorded 300ms", d)
	}
	if d := run(ClientOptions{Options: Options{Speed: 1}}); d < 250*time.Millisecond {
		t.Errorf("--speed 1 took %v", d)
	}
	if d := run(ClientOptions{Options: Options{Speed: 4}}); d < 60*time.Millisecond {
		t.Errorf("--speed 4 took %v, want about 75ms at least", d)
	}
	if _, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Speed: -1}}); err == nil {
		t.Error("negative speed: no error")
	}
}

func TestClientStrictFrames(t *testing.T) {
	sc := func(url string) *Script {
		return newRec(url, "").c("hello").msg(s2c, inspect.OpText, "hello", 3, 2).closeBy(c2s, inspect.CloseNormal, "").script(t)
	}
	frag := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true, Fragment: 3})
	whole := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	for _, tt := range []struct {
		srv    *testpeer.Server
		strict bool
		ok     bool
	}{{frag, true, true}, {whole, true, false}, {whole, false, true}} {
		res, err := RunClient(testCtx(t), sc(tt.srv.URL()), ClientOptions{Options: Options{StrictFrames: tt.strict}})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() != tt.ok {
			t.Errorf("strict=%v against %s: ok=%v\n%s", tt.strict, tt.srv.URL(), res.OK(), mismatchText(res))
		}
		if !tt.ok && len(res.Mismatches) == 1 {
			m := res.Mismatches[0]
			want := "frames: expected 2, got 1\nframe 1: expected text fin=false rsv=000 len=3, got text fin=true rsv=000 len=5\nframe 2: missing (expected cont fin=true rsv=000 len=2)"
			if m.Problem != "frames of server message 1 differ" || strings.Join(m.Diff, "\n") != want {
				t.Errorf("frame mismatch: %s\n%s", m.Problem, strings.Join(m.Diff, "\n"))
			}
		}
	}
	// Our own messages go out in the recorded frames.
	srv := testpeer.NewServer(t, testpeer.ServerOptions{})
	sc2 := newRec(srv.URL(), "").msg(c2s, inspect.OpText, "hello", 2, 3).closeBy(c2s, inspect.CloseNormal, "").script(t)
	if res, err := RunClient(testCtx(t), sc2, ClientOptions{}); err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	fs := srv.WaitFrames(3, 5*time.Second)
	if fs[0].Op != inspect.OpText || fs[0].Fin || fs[0].Text() != "he" || fs[1].Op != inspect.OpContinuation || !fs[1].Fin || fs[1].Text() != "llo" || !fs[0].Masked {
		t.Errorf("frames sent: %v", fs)
	}
}

func TestClientHandshake(t *testing.T) {
	heads := make(chan testpeer.RawRequest, 1)
	srv := rawServe(t, []testpeer.HeaderField{testpeer.H("Sec-WebSocket-Protocol", "chat.v2")}, func(rc *testpeer.RawConn) error {
		heads <- rc.Request()
		return serverFinish(rc)
	})
	sc := newRec("ws://recorded.example/ws", "chat.v2",
		inspect.HeaderField{Name: "Host", Value: "recorded.example"},
		inspect.HeaderField{Name: "Upgrade", Value: "websocket"},
		inspect.HeaderField{Name: "Connection", Value: "Upgrade"},
		inspect.HeaderField{Name: "Sec-WebSocket-Key", Value: "b2xkIGtleSBvbGQga2V5IQ=="},
		inspect.HeaderField{Name: "Sec-WebSocket-Version", Value: "13"},
		inspect.HeaderField{Name: "Sec-WebSocket-Protocol", Value: "chat.v2, chat.v1"},
		inspect.HeaderField{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"},
		inspect.HeaderField{Name: "Origin", Value: "https://app.example"},
		inspect.HeaderField{Name: "Authorization", Value: "Bearer recorded-secret"},
		inspect.HeaderField{Name: "Cookie", Value: "[redacted]"},
		inspect.HeaderField{Name: "X-Api-Key", Value: "[redacted]"},
		inspect.HeaderField{Name: "X-Trace", Value: "recorded"},
		inspect.HeaderField{Name: "User-Agent", Value: "rec/1"},
	).closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{URL: srv.URL(), Headers: []inspect.HeaderField{
		{Name: "x-trace", Value: "cli"}, {Name: "Authorization", Value: "Bearer cli"}}})
	if err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	h := <-heads
	for name, want := range map[string]string{
		"Host": srv.Addr(), "Origin": "https://app.example", "Authorization": "Bearer cli", "X-Trace": "cli",
		"User-Agent": "rec/1", "Sec-WebSocket-Protocol": "chat.v2", "Cookie": "", "X-Api-Key": "", "Sec-WebSocket-Extensions": "",
	} {
		if got := strings.Join(h.Values(name), "|"); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if h.Get("Sec-WebSocket-Key") == "b2xkIGtleSBvbGQga2V5IQ==" {
		t.Error("the recorded key was sent again")
	}

	// A server that no longer selects the subprotocol: a handshake mismatch.
	plain := rawServe(t, nil, serverFinish)
	res, err = RunClient(testCtx(t), sc, ClientOptions{URL: plain.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 1 || res.Mismatches[0].Problem != `subprotocol differs: expected "chat.v2", got none` {
		t.Fatalf("handshake:\n%s", mismatchText(res))
	}
}

func TestClientPings(t *testing.T) {
	srv := answerer(t, []testpeer.FrameSpec{testpeer.ServerFrame(inspect.OpPing, []byte("hb"))},
		func(int, string) []testpeer.FrameSpec { return []testpeer.FrameSpec{text("pong?")} })
	sc := newRec(srv.URL(), "").ctl(s2c, inspect.OpPing, "hb").ctl(c2s, inspect.OpPong, "hb").
		c("x").s("pong?").closeBy(c2s, inspect.CloseNormal, "").script(t)
	for _, pings := range []bool{false, true} {
		res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Pings: pings}})
		if err != nil || !res.OK() {
			t.Fatalf("pings=%v: %v\n%s", pings, err, mismatchText(res))
		}
	}
	// A recorded ping the server no longer sends.
	sc = newRec(srv.URL(), "").ctl(s2c, inspect.OpPing, "other").c("x").s("pong?").closeBy(c2s, inspect.CloseNormal, "").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{Options: Options{Pings: true}})
	if err != nil || len(res.Mismatches) != 1 || res.Mismatches[0].What != "server ping 1" {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	if res, err := RunClient(testCtx(t), sc, ClientOptions{}); err != nil || !res.OK() {
		t.Fatalf("pings ignored: %v\n%s", err, mismatchText(res))
	}
}

func TestClientErrors(t *testing.T) {
	sc := newRec("", "").c("x").script(t)
	if _, err := RunClient(testCtx(t), sc, ClientOptions{}); !errors.Is(err, ErrNoURL) {
		t.Errorf("no URL: %v", err)
	}
	if _, err := RunClient(testCtx(t), sc, ClientOptions{URL: "ftp://x"}); err == nil {
		t.Error("bad URL: no error")
	}
	if _, err := RunClient(testCtx(t), sc, ClientOptions{URL: "ws://127.0.0.1:1/", Options: Options{Ignore: []string{"x"}}}); err == nil || !strings.Contains(err.Error(), "must start with $") {
		t.Errorf("bad ignore: %v", err)
	}
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Reject: &testpeer.Reject{Status: 403, Body: "no"}})
	if _, err := RunClient(testCtx(t), sc, ClientOptions{URL: srv.URL()}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("refused: %v", err)
	}
}

func TestFrameDiffDeflated(t *testing.T) {
	rec := []FrameInfo{{Op: inspect.OpText, Rsv: inspect.Rsv1, Len: 3}, {Op: inspect.OpContinuation, Fin: true, Len: 2}}
	live := []FrameInfo{{Op: inspect.OpText, Len: 6}, {Op: inspect.OpContinuation, Fin: true, Len: 4}}
	if d := frameDiff(rec, live, true); d != nil {
		t.Errorf("deflated: %q", d)
	}
	if d := frameDiff(rec, live, false); len(d) != 2 {
		t.Errorf("not deflated: %q", d)
	}
	if d := frameDiff(rec, live[:1], true); len(d) != 2 || d[0] != "frames: expected 2, got 1" {
		t.Errorf("count: %q", d)
	}
	if rec[0].Rsv != inspect.Rsv1 {
		t.Error("frameDiff changed its input")
	}
}
