package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

const step = 5 * time.Second // bound on any single wait in these tests

// acceptThen returns a raw server that accepts the upgrade and runs f.
func acceptThen(t *testing.T, f func(rc *tp.RawConn)) *tp.RawServer {
	return tp.NewRawServer(t, func(rc *tp.RawConn) {
		if err := rc.Accept(); err != nil {
			t.Error(err)
			return
		}
		f(rc)
	})
}

// closeBack reads until the client's close frame and answers it.
func closeBack(rc *tp.RawConn) {
	for {
		f, err := rc.ReadFrame(step)
		if err != nil {
			return
		}
		if f.Op == inspect.OpClose {
			rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
			return
		}
	}
}

func TestConnectUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"connect", "ws://127.0.0.1:1/path#frag"},
		{"connect", "ftp://127.0.0.1:1/"},
		{"connect"},
		{"connect", "ws://127.0.0.1:1/", "--no-such-flag"},
		{"connect", "ws://127.0.0.1:1/", "-o", "xml"},
		{"connect", "ws://127.0.0.1:1/", "--ca", "/nonexistent/ca.pem"},
		{"connect", "ws://127.0.0.1:1/", "-H", "no colon here"},
		{"connect", "ws://127.0.0.1:1/", "--max-message-size", "lots"},
		{"nosuchcommand"},
	} {
		r := run(t, "", args...)
		r.expectCode(t, 2)
		if !strings.HasPrefix(r.Stderr, "wscope: ") || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
			t.Errorf("%v: want a one-line error, got %q", args, r.Stderr)
		}
	}
	r := run(t, "", "connect", "ws://h/#x")
	if !strings.Contains(r.Stderr, "fragment") {
		t.Errorf("fragment error does not say why: %q", r.Stderr)
	}
}

func TestConnectRefusedExit3(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	r := run(t, "", "connect", "ws://"+addr+"/")
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "could not connect to "+addr) {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestConnectHandshakeRefusedShowsStatusHeadersBody(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Reject: &tp.Reject{Status: 403, Body: "token expired, log in again", Headers: map[string][]string{"X-Reason": {"expired"}}}})
	r := run(t, "", "connect", srv.URL())
	r.expectCode(t, 3)
	for _, want := range []string{"HTTP 403 Forbidden", "< HTTP/1.1 403 Forbidden", "< X-Reason: expired", "token expired, log in again"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
}

func TestConnectBodyOfRefusalIsBounded(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Reject: &tp.Reject{Status: 500, Body: strings.Repeat("x", 100<<10)}})
	r := run(t, "", "connect", srv.URL())
	r.expectCode(t, 3)
	if n := strings.Count(r.Stderr, "x"); n < 4096 || n > 4096+100 {
		t.Errorf("printed %d body bytes, want 4 KiB", n)
	}
}

func TestConnectInvalidUpgradeExit3(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		respond func(rc *tp.RawConn)
		want    string
	}{
		{"bad accept", func(rc *tp.RawConn) {
			rc.AcceptWith("HTTP/1.1 101 Switching Protocols", tp.H("Upgrade", "websocket"), tp.H("Connection", "Upgrade"), tp.H("Sec-WebSocket-Accept", "d3Jvbmc="))
		}, `Sec-WebSocket-Accept is "d3Jvbmc=", expected`},
		{"missing accept", func(rc *tp.RawConn) {
			rc.AcceptWith("HTTP/1.1 101 Switching Protocols", tp.H("Upgrade", "websocket"), tp.H("Connection", "Upgrade"))
		}, "Sec-WebSocket-Accept is missing"},
		{"missing upgrade", func(rc *tp.RawConn) {
			rc.AcceptWith("HTTP/1.1 101 Switching Protocols", tp.H("Connection", "Upgrade"), tp.H("Sec-WebSocket-Accept", tp.AcceptKey(rc.Request().Get("Sec-WebSocket-Key"))))
		}, "Upgrade header is missing"},
		{"missing connection", func(rc *tp.RawConn) {
			rc.AcceptWith("HTTP/1.1 101 Switching Protocols", tp.H("Upgrade", "websocket"), tp.H("Sec-WebSocket-Accept", tp.AcceptKey(rc.Request().Get("Sec-WebSocket-Key"))))
		}, "Connection header is missing"},
		{"unoffered subprotocol", func(rc *tp.RawConn) { rc.Accept(tp.H("Sec-WebSocket-Protocol", "mqtt")) },
			`server selected subprotocol "mqtt", which the client did not offer`},
		{"unoffered extension", func(rc *tp.RawConn) { rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate")) },
			`server selected extensions "permessage-deflate", which the client did not offer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := tp.NewRawServer(t, func(rc *tp.RawConn) { c.respond(rc); rc.WaitEOF(step) })
			r := run(t, "", "connect", srv.URL())
			r.expectCode(t, 3)
			if !strings.Contains(r.Stderr, "invalid upgrade response: ") || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("stderr %q, want %q", r.Stderr, c.want)
			}
		})
	}
}

func TestConnectServerDropsTCPExit4(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true, CloseAfter: 1, CloseAbruptly: true})
	p := start(t, "connect", srv.URL(), "-o", "json")
	fmt.Fprintln(p.stdin, "hi")
	if code := p.wait(step); code != 4 {
		t.Fatalf("exit %d, want 4; stderr %s", code, p.stderr)
	}
	end := filter(parseEvents(t, p.stdout.String()), "end", "")
	if len(end) != 1 || end[0].num("code") != 1006 || end[0]["clean"] != false {
		t.Fatalf("end events %v, want one 1006", end)
	}
	if !strings.Contains(p.stderr.String(), "1006 Abnormal Closure") {
		t.Errorf("stderr %q", p.stderr)
	}
}

func TestConnectDropMidFrameExit4(t *testing.T) {
	t.Parallel()
	srv := acceptThen(t, func(rc *tp.RawConn) {
		// A header announcing 100 bytes, then 10 of them, then FIN.
		b := tp.ServerFrame(inspect.OpText, bytes.Repeat([]byte("a"), 100)).Bytes()
		rc.WriteRaw(b[:12])
		rc.CloseTCP()
	})
	r := run(t, "", "connect", srv.URL(), "-o", "json", "-w", "2s")
	r.expectCode(t, 4)
	if !strings.Contains(r.Stderr, "mid-frame") || !strings.Contains(r.Stderr, "1006") {
		t.Errorf("stderr %q", r.Stderr)
	}
	frames := filter(parseEvents(t, r.Stdout), "frame", "s2c")
	if len(frames) != 0 {
		t.Errorf("a frame cut short was reported as a frame: %v", frames)
	}
}

func TestConnectServerCloseCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1000, 1001, 1003, 1008, 1011, 1012, 1013, 1014, 3000, 4999} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			srv := tp.NewServer(t, tp.ServerOptions{Echo: true, CloseAfter: 1, CloseCode: code, CloseReason: "reason é"})
			p := start(t, "connect", srv.URL(), "-o", "json")
			fmt.Fprintln(p.stdin, "hi")
			want := 4
			if code == 1000 || code == 1001 {
				want = 0
			}
			if got := p.wait(step); got != want {
				t.Fatalf("exit %d, want %d; stderr %s", got, want, p.stderr)
			}
			evs := parseEvents(t, p.stdout.String())
			end := filter(evs, "end", "")
			if len(end) != 1 || end[0].num("code") != code || end[0]["reason"] != "reason é" || end[0]["closer"] != "server" {
				t.Fatalf("end %v", end)
			}
			// The client echoes the code (RFC 6455 5.5.1).
			closes := filter(evs, "frame", "c2s")
			last := closes[len(closes)-1]
			if last["op"] != "close" || int(last["close"].(map[string]any)["code"].(float64)) != code {
				t.Errorf("client's close %v", last)
			}
		})
	}
}

func TestConnectClientCloseCodeReachesServer(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := run(t, "", "connect", srv.URL(), "-x", "hello", "-x", "/close 4001 bye now")
	// The server answers 4001 back: not a normal closure.
	r.expectCode(t, 4)
	st, ok := srv.WaitClosed(step)
	if !ok || st.Code != 4001 || st.Reason != "bye now" {
		t.Fatalf("server saw close %v %v", st, ok)
	}
	if r.Stdout != "hello\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
}

func TestConnectInterruptSendsGoingAwayExit130(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p := start(t, "connect", srv.URL())
	fmt.Fprintln(p.stdin, "ping?")
	p.stdout.waitMatch(t, regexp.MustCompile(`^ping\?$`), step)
	p.interrupt()
	if code := p.wait(step); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1001 {
		t.Fatalf("server saw %v %v, want 1001", st, ok)
	}
}

func TestConnectQueuesStdinBeforeOpen(t *testing.T) {
	t.Parallel()
	// The handshake takes 500ms; the lines are in the pipe from the start.
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true, Delay: 500 * time.Millisecond})
	r := run(t, "one\ntwo\nthree\n", "connect", srv.URL())
	r.expectCode(t, 0)
	if r.Stdout != "one\ntwo\nthree\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
	if got := srv.Received(); len(got) != 3 {
		t.Fatalf("server received %v", got)
	}
}

// slowServer answers each message after delay, and answers a close at once
// when it arrives before the reply is due (unless the reply is in flight).
func slowServer(t *testing.T, delay time.Duration, late string) *tp.RawServer {
	return acceptThen(t, func(rc *tp.RawConn) {
		m, _, err := rc.ReadMessage(step)
		if err != nil {
			return
		}
		time.Sleep(delay)
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, append([]byte("re: "), m.Data...)))
		if late == "" {
			closeBack(rc)
			return
		}
		// A push that only comes if the client is still there after delay.
		f, err := rc.ReadFrame(delay)
		if err == nil && f.Op == inspect.OpClose {
			rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
			return
		}
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte(late)))
		closeBack(rc)
	})
}

func TestConnectEOFKeepsRepliesInFlight(t *testing.T) {
	t.Parallel()
	srv := slowServer(t, 300*time.Millisecond, "")
	r := run(t, "question\n", "connect", srv.URL())
	r.expectCode(t, 0)
	if r.Stdout != "re: question\n" {
		t.Fatalf("the reply in flight was lost: stdout %q", r.Stdout)
	}
}

func TestConnectWaitAfterEOF(t *testing.T) {
	t.Parallel()
	srv := slowServer(t, 200*time.Millisecond, "late push")
	r := run(t, "q\n", "connect", srv.URL())
	r.expectCode(t, 0)
	if r.Stdout != "re: q\n" {
		t.Fatalf("without --wait: stdout %q", r.Stdout)
	}
	r = run(t, "q\n", "connect", srv.URL(), "--wait", "1s")
	r.expectCode(t, 0)
	if r.Stdout != "re: q\nlate push\n" {
		t.Fatalf("with --wait 1s: stdout %q", r.Stdout)
	}
}

func TestConnectExecuteWithNoStdin(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := runWith(t, nil, 20*time.Second, "connect", srv.URL(), "-x", "first", "-x", "second", "-w", "200ms")
	r.expectCode(t, 0)
	if r.Stdout != "first\nsecond\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
	// No -x, no stdin: connects, closes cleanly.
	r = runWith(t, nil, 20*time.Second, "connect", srv.URL())
	r.expectCode(t, 0)
}

func TestConnectRequestHeaders(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true, Subprotocols: []string{"chat.v2"}})
	r := run(t, "", "connect", srv.URL(), "-v", "-H", "X-Trace: 1", "-H", "X-Trace: 2",
		"--origin", "https://app.example", "--auth", "ann:s3cret", "-s", "chat.v1,chat.v2")
	r.expectCode(t, 0)
	req := srv.Requests()[0]
	if got := req.Header.Values("X-Trace"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("X-Trace %v", got)
	}
	if req.Header.Get("Origin") != "https://app.example" {
		t.Errorf("Origin %q", req.Header.Get("Origin"))
	}
	if u, p, ok := req.BasicAuth(); !ok || u != "ann" || p != "s3cret" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
	for _, want := range []string{"> GET / HTTP/1.1", "> X-Trace: 1", "< HTTP/1.1 101 Switching Protocols", "* subprotocol: chat.v2"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("-v output lacks %q:\n%s", want, r.Stderr)
		}
	}
}

func TestConnectJSONRedactsCredentials(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := run(t, "", "connect", srv.URL(), "-o", "json", "--auth", "ann:s3cret", "-H", "Cookie: sid=42")
	r.expectCode(t, 0)
	if strings.Contains(r.Stdout, "s3cret") || strings.Contains(r.Stdout, "sid=42") || strings.Contains(r.Stdout, base64.StdEncoding.EncodeToString([]byte("ann:s3cret"))) {
		t.Fatalf("credentials leaked into the recording:\n%s", r.Stdout)
	}
	r = run(t, "", "connect", srv.URL(), "-o", "json", "--auth", "ann:s3cret", "--record-secrets")
	if !strings.Contains(r.Stdout, base64.StdEncoding.EncodeToString([]byte("ann:s3cret"))) {
		t.Fatalf("--record-secrets did not keep the credentials")
	}
}

func TestConnectFirstFramesRightAfter101(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{OnConnect: []tp.Msg{tp.TextMsg("welcome"), tp.BinaryMsg([]byte{0, 1, 2})}})
	r := run(t, "", "connect", srv.URL(), "-w", "300ms")
	r.expectCode(t, 0)
	if r.Stdout != "welcome\nAAEC\n" {
		t.Fatalf("stdout %q: the frames sent with the 101 were lost", r.Stdout)
	}
}

func TestConnectFragmentsWithInterleavedPings(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Fragment: 4, OnConnect: []tp.Msg{tp.TextMsg("hello, fragmented world")}})
	r := run(t, "", "connect", srv.URL(), "-o", "json", "-w", "500ms")
	r.expectCode(t, 0)
	evs := parseEvents(t, r.Stdout)
	msgs := filter(evs, "msg", "s2c")
	if len(msgs) != 1 || msgs[0]["text"] != "hello, fragmented world" {
		t.Fatalf("messages %v", msgs)
	}
	frames := filter(evs, "frame", "s2c")
	var data, pings int
	for _, f := range frames {
		switch f["op"] {
		case "text", "cont":
			data++
		case "ping":
			pings++
		}
	}
	if data != 6 || pings != 5 || len(msgs[0]["frames"].([]any)) != 6 {
		t.Fatalf("%d data frames and %d pings, msg frames %v", data, pings, msgs[0]["frames"])
	}
	pongs := filter(evs, "frame", "c2s")
	var got []string
	for _, f := range pongs {
		if f["op"] == "pong" {
			got = append(got, f["text"].(string))
		}
	}
	if len(got) != 5 || got[0] != "testpeer 1" {
		t.Fatalf("auto pongs %v", got)
	}
	// --no-auto-pong: the pings stay unanswered.
	r = run(t, "", "connect", srv.URL(), "-o", "json", "-w", "300ms", "--no-auto-pong")
	for _, f := range filter(parseEvents(t, r.Stdout), "frame", "c2s") {
		if f["op"] == "pong" {
			t.Fatalf("pong sent with --no-auto-pong")
		}
	}
}

func TestConnectShowControl(t *testing.T) {
	t.Parallel()
	srv := acceptThen(t, func(rc *tp.RawConn) {
		rc.WriteFrame(tp.ServerFrame(inspect.OpPing, []byte("are you there")))
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte("data")))
		rc.WriteFrame(tp.ServerFrame(inspect.OpClose, tp.ClosePayload(1000, "done")))
		rc.ReadFrame(step) // the client's answer
	})
	r := run(t, "", "connect", srv.URL(), "--show-control", "-w", "2s")
	r.expectCode(t, 0)
	if r.Stdout != "[ping] are you there\ndata\n[close] 1000 Normal Closure \"done\"\n" {
		t.Fatalf("stdout %q", r.Stdout)
	}
}

// TestConnectViolations puts every rule a server can break in front of
// wscope and checks it is reported on the frame, with its section.
func TestConnectViolations(t *testing.T) {
	t.Parallel()
	text := func(p string) tp.FrameSpec { return tp.ServerFrame(inspect.OpText, []byte(p)) }
	cases := []struct {
		rule   inspect.Rule
		frames []tp.FrameSpec
		code   int // close code wscope sends back, 0 for none
	}{
		{inspect.RuleServerMasked, []tp.FrameSpec{{Fin: true, Op: inspect.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte("hi")}}, 0},
		{inspect.RuleReservedOpcode, []tp.FrameSpec{{Fin: true, Op: 0x3, Payload: []byte("?")}}, 0},
		{inspect.RuleRsvWithoutExtension, []tp.FrameSpec{{Fin: true, Rsv: inspect.Rsv2, Op: inspect.OpText, Payload: []byte("x")}}, 0},
		{inspect.RuleControlTooLong, []tp.FrameSpec{tp.ServerFrame(inspect.OpPing, bytes.Repeat([]byte("p"), 126))}, 0},
		{inspect.RuleControlFragmented, []tp.FrameSpec{{Fin: false, Op: inspect.OpPing, Payload: []byte("p")}}, 0},
		{inspect.RuleOrphanContinuation, []tp.FrameSpec{{Fin: true, Op: inspect.OpContinuation, Payload: []byte("c")}}, 0},
		{inspect.RuleDataInsideFragmented, []tp.FrameSpec{{Fin: false, Op: inspect.OpText, Payload: []byte("a")}, text("b")}, 0},
		{inspect.RuleLengthNotMinimal, []tp.FrameSpec{{Fin: true, Op: inspect.OpText, Payload: []byte("short"), LenEnc: inspect.Len16}}, 0},
		{inspect.RuleCloseOneByte, []tp.FrameSpec{tp.ServerFrame(inspect.OpClose, []byte{3})}, 1002},
		{inspect.RuleCloseCodeInvalid, []tp.FrameSpec{tp.ServerFrame(inspect.OpClose, tp.ClosePayload(1005, ""))}, 1002},
		{inspect.RuleCloseReasonUTF8, []tp.FrameSpec{tp.ServerFrame(inspect.OpClose, append(tp.ClosePayload(1000, ""), 0xff, 0xfe))}, 1000},
		{inspect.RuleTextInvalidUTF8, []tp.FrameSpec{{Fin: true, Op: inspect.OpText, Payload: []byte{'a', 0xc3}}}, 0},
		// The rule first, then the limit: no length can be read past it.
		{inspect.RuleLengthTopBit, []tp.FrameSpec{{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Length: tp.Len(1<<63 | 5), Payload: []byte("12345")}}, 1009},
	}
	for _, c := range cases {
		for _, strict := range []bool{false, true} {
			name := string(c.rule)
			if strict {
				name += "/strict"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				sawClose := make(chan int, 1)
				srv := acceptThen(t, func(rc *tp.RawConn) {
					rc.WriteFrames(c.frames...)
					for {
						f, err := rc.ReadFrame(step)
						if err != nil {
							sawClose <- 0
							return
						}
						if f.Op == inspect.OpClose {
							ci, ok := f.Close()
							if !ok {
								ci.Code = -1
							}
							sawClose <- ci.Code
							rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
							return
						}
					}
				})
				args := []string{"connect", srv.URL(), "-o", "json", "-w", "300ms"}
				if strict {
					args = append(args, "--strict")
				}
				r := run(t, "", args...)
				var found bool
				for _, f := range filter(parseEvents(t, r.Stdout), "frame", "s2c") {
					if slices.Contains(f.rules(), string(c.rule)) {
						found = true
						v := f["violations"].([]any)[0].(map[string]any)
						if !strings.HasPrefix(v["section"].(string), "RFC 6455 ") {
							t.Errorf("section %v", v["section"])
						}
					}
				}
				if !found {
					t.Fatalf("rule %s not reported on a frame:\n%s", c.rule, r.Stdout)
				}
				// Observing or strict, the peer broke the protocol: exit 4,
				// and the end says which rule first.
				if r.Code != 4 || !strings.Contains(r.Stderr, "1 violation: "+string(c.rule)+" (RFC 6455 ") {
					t.Errorf("exit %d, stderr %q: want 4 and the rule named", r.Code, r.Stderr)
				}
				want := c.code
				switch {
				case strict:
					want = int(c.rule.FailCode()) // failed at once (section 7.1.7)
				case want == 0:
					want = 1000 // nothing wrong enough to close: the -w timer closes
				}
				select {
				case got := <-sawClose:
					if got != want {
						t.Errorf("wscope closed with %d, want %d", got, want)
					}
				case <-time.After(step):
					t.Error("the server saw no close frame")
				}
			})
		}
	}
}

// Invalid text shows on its frame in every view: -o frames too.
func TestConnectInvalidTextShowsOnItsFrame(t *testing.T) {
	t.Parallel()
	srv := acceptThen(t, func(rc *tp.RawConn) {
		rc.WriteFrames(
			tp.FrameSpec{Fin: false, Op: inspect.OpText, Payload: []byte("ok ")},
			tp.FrameSpec{Fin: true, Op: inspect.OpContinuation, Payload: []byte{0xf4, 0x90, 0x80, 0x80}},
		)
		for {
			f, err := rc.ReadFrame(step)
			if err != nil || f.Op == inspect.OpClose {
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			}
		}
	})
	r := run(t, "", "connect", srv.URL(), "-o", "frames", "-w", "300ms")
	if !regexp.MustCompile(`(?m)^ +[0-9.]+ s2c cont .*!! text-invalid-utf8`).MatchString(r.Stdout) {
		t.Errorf("no !! on the continuation frame:\n%s", r.Stdout)
	}
	if r.Code != 4 {
		t.Errorf("exit %d, want 4", r.Code)
	}
}

func TestConnectFrameLargerThanLimitIsRefusedBeforeReading(t *testing.T) {
	t.Parallel()
	sawClose := make(chan int, 1)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		// Announce 1 TiB, send nothing of it.
		rc.WriteFrame(tp.FrameSpec{Fin: true, Op: inspect.OpBinary, Length: tp.Len(1 << 40)})
		f, err := rc.ReadFrame(step)
		if err == nil {
			ci, _ := f.Close()
			sawClose <- ci.Code
		}
		close(sawClose)
	})
	r := run(t, "", "connect", srv.URL(), "--max-message-size", "1MiB", "-w", "5s")
	r.expectCode(t, 4)
	if code := <-sawClose; code != 1009 {
		t.Errorf("wscope closed with %d, want 1009", code)
	}
	if !strings.Contains(r.Stderr, "1009 Message Too Big") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestConnectMessageLargerThanLimit(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Fragment: 64 << 10, OnConnect: []tp.Msg{tp.BinaryMsg(make([]byte, 2<<20))}})
	r := run(t, "", "connect", srv.URL(), "--max-message-size", "1MiB", "-w", "2s")
	r.expectCode(t, 4)
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1009 {
		t.Fatalf("server saw %v %v, want 1009", st, ok)
	}
}

func TestConnectLargeMessagesIntact(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1 << 20, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			srv := tp.NewServer(t, tp.ServerOptions{Echo: true, ReadLimit: 32 << 20})
			line := make([]byte, size)
			rng := rand.New(rand.NewPCG(uint64(size), 1))
			for i := range line {
				line[i] = 'a' + byte(rng.IntN(26))
			}
			r := runWith(t, bytes.NewReader(append(line, '\n')), 60*time.Second, "connect", srv.URL())
			r.expectCode(t, 0)
			if r.Stdout != string(line)+"\n" {
				t.Fatalf("echo of %d bytes came back as %d bytes, different", size, len(r.Stdout))
			}
		})
	}
}

func TestConnectEchoMode(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{OnConnect: []tp.Msg{tp.TextMsg("t"), tp.BinaryMsg([]byte{9, 8}), tp.TextMsg("")}})
	r := run(t, "", "connect", srv.URL(), "--echo", "-w", "500ms")
	r.expectCode(t, 0)
	got := srv.WaitReceived(3, step)
	want := []tp.Msg{tp.TextMsg("t"), tp.BinaryMsg([]byte{9, 8}), tp.TextMsg("")}
	if len(got) != 3 {
		t.Fatalf("server received %v", got)
	}
	for i := range want {
		if got[i].Binary != want[i].Binary || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("message %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestConnectBinaryLinesAndFragmentFlag(t *testing.T) {
	t.Parallel()
	srv := acceptThen(t, func(rc *tp.RawConn) {
		m, frames, err := rc.ReadMessage(step)
		if err != nil {
			t.Error(err)
			return
		}
		if !m.Binary || string(m.Data) != "abcdefg" || len(frames) != 3 {
			t.Errorf("got %v in %d frames", m, len(frames))
		}
		for i, f := range frames {
			if !f.Masked || f.Fin != (i == 2) || (i > 0 && f.Op != inspect.OpContinuation) {
				t.Errorf("frame %d: %v", i, f)
			}
		}
		closeBack(rc)
	})
	r := run(t, "abcdefg\n", "connect", srv.URL(), "--binary", "--fragment", "3")
	r.expectCode(t, 0)
}

func TestConnectStdinJSONCraftsFrames(t *testing.T) {
	t.Parallel()
	got := make(chan []tp.Frame, 1)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		var fs []tp.Frame
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				break
			}
			fs = append(fs, f)
			if f.Op == inspect.OpClose {
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				break
			}
		}
		got <- fs
	})
	in := strings.Join([]string{
		`{"text":"plain"}`,
		`{"hex":"00 ff"}`,
		`{"op":"0x3","fin":true,"text":"reserved"}`,
		`{"text":"x","mask":"none","rsv1":true}`,
		`{"text":"five!","len_enc":64,"mask":"01020304"}`,
		`{"op":"ping","text":"p"}`,
		`{"ev":"msg","dir":"s2c","op":"text","text":"not mine"}`,
		`{"ev":"msg","dir":"c2s","op":"text","text":"from a recording"}`,
		`{"op":"close","code":4002,"reason":"scripted"}`,
	}, "\n") + "\n"
	r := run(t, in, "connect", srv.URL(), "--stdin", "json")
	r.expectCode(t, 4) // closed with 4002
	fs := <-got
	if len(fs) != 8 {
		t.Fatalf("server got %d frames: %v", len(fs), fs)
	}
	check := func(i int, ok bool, what string) {
		if !ok {
			t.Errorf("frame %d: %s: %v (% x)", i, what, fs[i], fs[i].Wire)
		}
	}
	check(0, fs[0].Op == inspect.OpText && fs[0].Text() == "plain" && fs[0].Masked, "plain text")
	check(1, fs[1].Op == inspect.OpBinary && bytes.Equal(fs[1].Payload, []byte{0, 0xff}), "hex binary")
	check(2, fs[2].Op == 0x3 && fs[2].Text() == "reserved", "reserved opcode")
	check(3, !fs[3].Masked && fs[3].Rsv1(), "unmasked with RSV1")
	check(4, fs[4].LenEnc == inspect.Len64 && fs[4].Mask == [4]byte{1, 2, 3, 4} && fs[4].Text() == "five!", "64-bit length, given mask")
	check(5, fs[5].Op == inspect.OpPing, "ping")
	check(6, fs[6].Text() == "from a recording", "recording line")
	if c, _ := fs[len(fs)-1].Close(); fs[len(fs)-1].Op != inspect.OpClose || c.Code != 4002 {
		t.Errorf("last frame %v", fs[len(fs)-1])
	}
}

func TestConnectFramesOutput(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := run(t, "hello\n", "connect", srv.URL(), "-o", "frames")
	r.expectCode(t, 0)
	for _, re := range []string{
		`^\s+\d+\.\d{6} open   ws://127\.0\.0\.1:\d+/ \(client `,
		`^\s+\d+\.\d{6} c2s text   F--- M [0-9a-f]{8} len=5\s+hello$`,
		`^\s+\d+\.\d{6} s2c text   F--- - -------- len=5\s+hello$`,
		`^\s+\d+\.\d{6} s2c close  F--- - -------- len=2\s+1000 Normal Closure$`,
		`^\s+\d+\.\d{6} end    1000 Normal Closure by client, clean$`,
	} {
		if !regexp.MustCompile(`(?m)` + re).MatchString(r.Stdout) {
			t.Errorf("no line matches %s in:\n%s", re, r.Stdout)
		}
	}
}

// TestConnectPipelineAgainstSynchronousPeer feeds many large messages to a
// server that reads and writes in one goroutine, so it stops reading while
// its writes wait for us: wscope must keep reading while its own writes
// wait, or both sides block forever.
func TestConnectPipelineAgainstSynchronousPeer(t *testing.T) {
	t.Parallel()
	const n, size, copies = 12, 1 << 20, 6
	// 72 MiB through a race-built wscope on a loaded machine: the peer
	// waits within the run's own bound, not a step's (a 5 s write of six
	// echoes timed out under a load average of 15, cut the stream
	// mid-frame and failed the run with exit 4).
	const within = 45 * time.Second
	srv := acceptThen(t, func(rc *tp.RawConn) {
		rc.SetWriteTimeout(within)
		for {
			f, err := rc.ReadFrame(within)
			if err != nil {
				return
			}
			switch f.Op {
			case inspect.OpClose:
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			case inspect.OpText:
				// Answers larger than socket buffers, each behind a ping
				// whose pong must not wait behind our writes either.
				echo := tp.ServerFrame(inspect.OpText, f.Payload)
				rc.WriteFrames(tp.ServerFrame(inspect.OpPing, []byte("hb")), echo, echo, echo, echo, echo, echo)
			}
		}
	})
	line := bytes.Repeat([]byte("z"), size)
	var in bytes.Buffer
	for range n {
		in.Write(line)
		in.WriteByte('\n')
	}
	r := runWith(t, &in, 60*time.Second, "connect", srv.URL())
	r.expectCode(t, 0)
	if len(r.Stdout) != copies*n*(size+1) {
		t.Fatalf("got %d bytes back, want %d", len(r.Stdout), copies*n*(size+1))
	}
}

func TestConnectFiltersShowButRecordEverything(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	path := filepath.Join(t.TempDir(), "f.wsrec.jsonl")
	r := run(t, "apple\nbanana\ncherry\n", "connect", srv.URL(), "-o", "frames", "--grep", "an", "--from", "server", "--record", path)
	r.expectCode(t, 0)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "s2c text") || !strings.HasSuffix(lines[0], "banana") || !strings.Contains(lines[1], " end ") {
		t.Fatalf("filtered output:\n%s", r.Stdout)
	}
	evs, _ := readRecording(t, path)
	if k := kinds(evs); k["msg c2s"] != 3 || k["msg s2c"] != 3 {
		t.Errorf("the recording was filtered too: %v", k)
	}
}

// A flood of empty continuations ends at --max-message-frames with 1009,
// reported as such (issue: 50 million of them took 1.4 GiB).
func TestConnectTooManyFramesCloses1009(t *testing.T) {
	t.Parallel()
	sawClose := make(chan int, 1)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		flood := []byte{0x01, 0x00}
		for range 5000 {
			flood = append(flood, 0x00, 0x00)
		}
		rc.WriteRaw(append(flood, 0x80, 0x03, 'e', 'n', 'd'))
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				sawClose <- 0
				return
			}
			if f.Op == inspect.OpClose {
				ci, _ := f.Close()
				sawClose <- ci.Code
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			}
		}
	})
	r := run(t, "", "connect", srv.URL(), "--max-message-frames", "1000", "-w", "2s")
	if got := <-sawClose; got != 1009 {
		t.Errorf("wscope closed with %d, want 1009", got)
	}
	if r.Code != 4 || !strings.Contains(r.Stderr, "more than 1000 frames") {
		t.Errorf("exit %d, stderr %q: want 4 and the frame limit named", r.Code, r.Stderr)
	}
}

// The peer drops TCP while wscope waits (-w): the end is the last event,
// with no close frame reported after it that was never sent.
func TestConnectNothingAfterTheEnd(t *testing.T) {
	t.Parallel()
	srv := acceptThen(t, func(rc *tp.RawConn) {
		rc.ReadFrame(step)
		rc.CloseTCP()
	})
	path := filepath.Join(t.TempDir(), "r.wsrec.jsonl")
	r := run(t, "", "connect", srv.URL(), "-x", "hi", "-w", "1s", "-o", "json", "--record", path)
	if r.Code != 4 {
		t.Errorf("exit %d, want 4", r.Code)
	}
	evs := parseEvents(t, r.Stdout)
	if len(evs) == 0 || evs[len(evs)-1]["ev"] != "end" {
		t.Errorf("stdout does not end with the end event:\n%s", bounded(r.Stdout))
	}
	rec, _ := readRecording(t, path)
	checkEndsLast(t, rec)
	if rec[len(rec)-1].Kind != inspect.KindEnd {
		t.Errorf("the recording ends with %s", rec[len(rec)-1].Kind)
	}
}

// -i: the -x messages go first (a login, a subscribe), then stdin on the
// same connection.
func TestConnectInteractiveAfterExecute(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	r := run(t, "second\n", "connect", srv.URL(), "-i", "-x", "first", "-x", "/ping x")
	r.expectCode(t, 0)
	if r.Stdout != "first\nsecond\n" {
		t.Errorf("stdout %q, want the -x message, then stdin's", r.Stdout)
	}
	if got := srv.WaitReceived(2, step); len(got) != 2 || string(got[0].Data) != "first" || string(got[1].Data) != "second" {
		t.Errorf("server received %v", got)
	}
	// Without -i, in a pipe, -x alone is the input: stdin is not read.
	r = run(t, "never\n", "connect", srv.URL(), "-x", "only")
	if r.Code != 0 || r.Stdout != "only\n" {
		t.Errorf("-x without -i: exit %d, stdout %q", r.Code, r.Stdout)
	}
}

// A named target: the URL, headers (a secret from the environment) and the
// messages to send first come from the configuration file; flags override.
func TestConnectNamedTarget(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(`
[targets.local]
url = "`+srv.URL()+`"
headers = ["X-Token: ${WSCOPE_TEST_TOKEN}", "X-Client: file"]
subprotocols = ["chat"]
execute = ["hello from the file"]
`), 0o600)
	env := append(testEnv, "WSCOPE_CONFIG="+cfg, "WSCOPE_TEST_TOKEN=s3cret")
	r := runEnv(t, env, "", "connect", "@local", "-H", "X-Client: flag")
	r.expectCode(t, 0)
	if r.Stdout != "hello from the file\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	h := srv.Requests()[0].Header
	if h.Get("X-Token") != "s3cret" || h.Get("X-Client") != "flag" || len(h.Values("X-Client")) != 1 || h.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Errorf("server saw headers %v", h)
	}
	// The secret stays out of config show; an unset variable is an error.
	r = runEnv(t, env, "", "config", "show", "local")
	if r.Code != 0 || strings.Contains(r.Stdout, "s3cret") || !strings.Contains(r.Stdout, "${WSCOPE_TEST_TOKEN}") {
		t.Errorf("config show: exit %d\n%s", r.Code, r.Stdout)
	}
	r = runEnv(t, env, "", "config", "list")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "local ") {
		t.Errorf("config list: exit %d %q", r.Code, r.Stdout)
	}
	r = runEnv(t, append(testEnv, "WSCOPE_CONFIG="+cfg), "", "connect", "@local")
	if r.Code != 2 || !strings.Contains(r.Stderr, "${WSCOPE_TEST_TOKEN}, which the environment does not set") {
		t.Errorf("unset variable: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = runEnv(t, env, "", "__complete", "connect", "@lo")
	if !strings.Contains(r.Stdout, "@local") {
		t.Errorf("completion %q", r.Stdout)
	}
}
