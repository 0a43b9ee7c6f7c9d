package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// apiServer answers each text message with a JSON object holding the
// message (changed by transform), a counter and a timestamp that differs
// from run to run, then closes when the client does.
func apiServer(t *testing.T, transform func(string) string) *tp.RawServer {
	return acceptThen(t, func(rc *tp.RawConn) {
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte(`{"hello":"v1","session":"s-`+fmt.Sprint(time.Now().UnixNano())+`"}`)))
		for n := 1; ; n++ {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			if f.Op == inspect.OpClose {
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			}
			reply, _ := json.Marshal(map[string]any{"echo": transform(string(f.Payload)), "n": n, "ts": time.Now().UnixNano()})
			rc.WriteFrame(tp.ServerFrame(inspect.OpText, reply))
		}
	})
}

// TestReplayInCI is the CI story: record a session, replay it against the
// server (pass), change the server (exit 5 with a diff and a JUnit
// failure), restore it (pass again).
func TestReplayInCI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := filepath.Join(dir, "api.wsrec.jsonl")
	same := apiServer(t, func(s string) string { return s })
	r := run(t, "login\nlist\n", "connect", same.URL(), "--record", rec, "-w", "300ms")
	r.expectCode(t, 0)

	args := func(url string, extra ...string) []string {
		return append([]string{"replay", rec, "--url", url, "--json", "--ignore", "$.ts", "--ignore", "$.session"}, extra...)
	}
	r = run(t, "", args(same.URL())...)
	r.expectCode(t, 0)
	if !strings.Contains(r.Stdout, "0 mismatches") && !strings.Contains(r.Stdout, "no mismatch") {
		t.Logf("summary: %s", r.Stdout)
	}

	changed := apiServer(t, strings.ToUpper)
	report := filepath.Join(dir, "junit.xml")
	r = run(t, "", args(changed.URL(), "--report", report)...)
	r.expectCode(t, 5)
	t.Logf("replay against a changed server:\n%s", r.Stdout)
	for _, want := range []string{"server message 2", `$.echo: expected "login", got "LOGIN"`, "server message 3"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.Stdout)
		}
	}
	x, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x, &suites); err != nil || len(suites.Suites) != 1 {
		t.Fatalf("JUnit report: %v\n%s", err, x)
	}
	if s := suites.Suites[0]; s.Failures != 2 || s.Tests < 4 {
		t.Errorf("JUnit: %d tests, %d failures\n%s", s.Tests, s.Failures, x)
	}

	// Without --ignore the timestamps differ: exact comparison fails.
	r = run(t, "", "replay", rec, "--url", same.URL())
	r.expectCode(t, 5)

	r = run(t, "", args(same.URL())...)
	r.expectCode(t, 0)
}

func TestReplayCaptureCarriesASessionToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := filepath.Join(dir, "tok.wsrec.jsonl")
	got := make(chan string, 4)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte(fmt.Sprintf(`{"token":"t%d"}`, time.Now().UnixNano()))))
		for {
			f, err := rc.ReadFrame(step)
			if err != nil || f.Op == inspect.OpClose {
				if err == nil {
					rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				}
				return
			}
			got <- string(f.Payload)
			rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte(`{"ok":true}`)))
		}
	})
	// Record, then edit the recording the way a user would: the sent
	// token becomes {{tok}}.
	// The token is recorded before the client's message: wait for it.
	p := start(t, "connect", srv.URL(), "--record", rec)
	p.stdout.waitMatch(t, regexp.MustCompile(`"token"`), step)
	fmt.Fprintln(p.stdin, `{"auth":"RECORDED"}`)
	<-got
	p.stdout.waitMatch(t, regexp.MustCompile(`"ok"`), step)
	p.stdin.Close()
	if code := p.wait(step); code != 0 {
		t.Fatalf("recording run exit %d: %s", code, p.stderr)
	}
	b, _ := os.ReadFile(rec)
	edited := strings.ReplaceAll(string(b), `RECORDED`, `{{tok}}`)
	edited = regexp.MustCompile(`\\"t\d+\\"`).ReplaceAllString(edited, `\"#string\"`)
	os.WriteFile(rec, []byte(edited), 0o644)

	r := run(t, "", "replay", rec, "--url", srv.URL(), "--capture", "$.token=tok")
	r.expectCode(t, 0)
	sent := <-got
	if !regexp.MustCompile(`^\{"auth":"t\d+"\}$`).MatchString(sent) {
		t.Errorf("the replay sent %q, want the captured token", sent)
	}
}

func TestReplayServeMock(t *testing.T) {
	t.Parallel()
	rec := "../testdata/connect-echo.wsrec.jsonl"
	p := start(t, "replay", rec, "--serve", "127.0.0.1:0", "--once")
	line := p.stderr.waitMatch(t, regexp.MustCompile(`serving .* as ws://`), step)
	url := regexp.MustCompile(`ws://\S+`).FindString(line)
	// The same client session as recorded, through wscope itself.
	in := strings.Join([]string{
		`{"text":"hello"}`,
		`{"text":"{\"op\":\"subscribe\",\"channel\":\"ticker\",\"id\":1}"}`,
		`{"hex":"00 01 02 03 fe ff"}`,
		`{"text":"split across frames"}`,
		`{"text":""}`,
	}, "\n") + "\n"
	r := run(t, in, "connect", url+"chat?room=1", "--stdin", "json", "-w", "300ms")
	r.expectCode(t, 0)
	if want := "hello\n{\"op\":\"subscribe\",\"channel\":\"ticker\",\"id\":1}\nAAECA/7/\nsplit across frames\n\n"; r.Stdout != want {
		t.Errorf("mock answered %q, want %q", r.Stdout, want)
	}
	if code := p.wait(step); code != 0 {
		t.Errorf("replay --serve --once exit %d\n%s\n%s", code, p.stdout, p.stderr)
	}

	// A client that says something else is reported.
	p = start(t, "replay", rec, "--serve", "127.0.0.1:0", "--once", "--timeout", "1s")
	line = p.stderr.waitMatch(t, regexp.MustCompile(`serving .* as ws://`), step)
	url = regexp.MustCompile(`ws://\S+`).FindString(line)
	run(t, "goodbye\n", "connect", url, "-w", "200ms")
	if code := p.wait(step); code != 5 {
		t.Errorf("exit %d, want 5\n%s", code, p.stdout)
	}
	if !strings.Contains(p.stdout.String(), "client message 1") {
		t.Errorf("stdout %s", p.stdout)
	}
}

func TestReplayUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"replay"},
		{"replay", "/nonexistent.jsonl"},
		{"replay", "../testdata/connect-echo.wsrec.jsonl", "--capture", "nopath"},
		{"replay", "../testdata/connect-echo.wsrec.jsonl", "--ignore", "not a path"},
		{"replay", "../testdata/connect-echo.wsrec.jsonl", "--conn", "7"},
		{"replay", "../internal/pcap/testdata/plain.pcap"},
	} {
		r := run(t, "", args...)
		r.expectCode(t, 2)
	}
}

// A capture with no value yet is a mismatch of the step that needs it:
// exit 5, the summary and the JUnit report written, and a hint when the
// recorded order is the cause.
func TestReplayUnsetCaptureIsAMismatch(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.wsrec.jsonl")
	os.WriteFile(rec, []byte(`{"wsrec":1,"created":"2026-12-02T10:00:00Z","tool":{"name":"wscope","version":"test"},"source":"live","lossy":false,"redacted":[]}
{"t":0.001,"ev":"open","conn":1,"url":"`+srv.URL()+`","role":"client","request":{"method":"GET","target":"/","proto":"HTTP/1.1","headers":[]},"response":{"proto":"HTTP/1.1","status":101,"reason":"Switching Protocols","headers":[]},"subprotocol":"","extensions":[],"local":"","remote":"","start":"2026-12-02T10:00:00Z"}
{"t":0.002,"ev":"msg","conn":1,"dir":"c2s","op":"text","frames":[1],"deflated":false,"text":"{\"auth\":\"{{tok}}\"}"}
{"t":0.003,"ev":"msg","conn":1,"dir":"s2c","op":"text","frames":[2],"deflated":false,"text":"{\"token\":\"t-1\"}"}
`), 0o644)
	junit := filepath.Join(dir, "junit.xml")
	r := run(t, "", "replay", rec, "--capture", "$.token=tok", "--report", junit)
	r.expectCode(t, 5)
	if !strings.Contains(r.Stdout, "capture tok is used before") || !strings.Contains(r.Stdout, "the recorded order is the cause") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), "<failure") {
		t.Errorf("JUnit report: %v\n%s", err, b)
	}
}

// sioTokenRecording is a session with the socketio-token server of
// e2e/node/apps.js, as a user would edit it: the ids the server makes
// are markers in what it sent and {{placeholders}} in what the client
// sends back.
func sioTokenRecording(t *testing.T, url string) string {
	t.Helper()
	line := func(tm float64, dir, text string) string {
		b, _ := json.Marshal(text)
		return fmt.Sprintf(`{"t":%g,"ev":"msg","conn":1,"dir":"%s","op":"text","frames":[1],"deflated":false,"text":%s}`, tm, dir, b) + "\n"
	}
	rec := `{"wsrec":1,"created":"2026-12-02T10:00:00Z","tool":{"name":"wscope","version":"test"},"source":"live","lossy":false,"redacted":[]}
{"t":0.001,"ev":"open","conn":1,"url":"` + url + `","role":"client","request":{"method":"GET","target":"/socket.io/?EIO=4&transport=websocket","proto":"HTTP/1.1","headers":[]},"response":{"proto":"HTTP/1.1","status":101,"reason":"Switching Protocols","headers":[]},"subprotocol":"","extensions":[],"local":"","remote":"","start":"2026-12-02T10:00:00Z"}
` + line(0.002, "s2c", `0{"sid":"#string","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`) +
		line(0.003, "c2s", `40`) +
		line(0.004, "s2c", `40{"sid":"#string"}`) +
		line(0.005, "s2c", `42["hello",{"token":"#string"}]`) +
		line(0.006, "c2s", `42["auth",{"token":"{{tok}}","sid":"{{sock}}","eio":"{{eio}}"}]`) +
		line(0.007, "s2c", `42["auth","ok"]`) +
		`{"t":0.008,"ev":"end","conn":1,"clean":true,"code":1000,"name":"Normal Closure","reason":"","closer":"client","tcp":"local"}` + "\n"
	path := filepath.Join(t.TempDir(), "sio.wsrec.jsonl")
	if err := os.WriteFile(path, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Captures from what the Socket.IO decoder reads, against the real
// socket.io server: the Engine.IO session id (a decoded field), the
// Socket.IO socket id and a token the server made (values inside the JSON
// of an event's data field) go back to it, and it answers "ok" only when
// all three are its own. A capture whose value never comes is a mismatch:
// exit 5, in the report; a capture of a field without --decode is a usage
// error.
func TestReplayCapturesDecodedFields(t *testing.T) {
	t.Parallel()
	url := appServer(t, "socketio-token") + "/socket.io/?EIO=4&transport=websocket"
	rec := sioTokenRecording(t, url)
	args := func(tokCapture string, extra ...string) []string {
		return append([]string{"replay", rec, "--decode", "socketio", "--ignore-field", "sid",
			"--capture", "@sid=eio", "--capture", "@data$.sid=sock", "--capture", tokCapture}, extra...)
	}
	r := run(t, "", args("@data$[1].token=tok")...)
	r.expectCode(t, 0)
	if !strings.Contains(r.Stdout, "2 messages sent, 4 received") {
		t.Errorf("summary:\n%s", r.Stdout)
	}

	// The token from the wrong field: the server refuses it.
	r = run(t, "", args("@data$[0]=tok")...)
	r.expectCode(t, 5)
	t.Logf("a wrong token:\n%s", r.Stdout)
	if !strings.Contains(r.Stdout, `expected "ok", got "refused"`) {
		t.Errorf("a wrong token's diff:\n%s", r.Stdout)
	}

	// A path the server's messages never have: the send that needs it
	// fails, named, and the report has it.
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r = run(t, "", args("@data$[1].nonce=tok", "--report", junit, "--timeout", "2s")...)
	r.expectCode(t, 5)
	t.Logf("a token never received:\n%s", r.Stdout)
	if !strings.Contains(r.Stdout, `capture tok is used before any received message had a value at $[1].nonce in decoded field "data"`) {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), "<failure") || !strings.Contains(string(b), "capture tok") {
		t.Errorf("JUnit report: %v\n%s", err, bounded(string(b)))
	}

	r = run(t, "", "replay", rec, "--capture", "@sid=eio")
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, "--capture @sid=eio needs --decode NAME") {
		t.Errorf("stderr: %s", r.Stderr)
	}
}
