package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// HAR export: --record FILE.har and inspect -o har write a HAR that
// wscope's own import reads back with the same messages.

// messagesOf lists the data messages of -o json output, as "conn dir op
// payload", the payload as text or base64.
func messagesOf(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, e := range filter(parseEvents(t, out), "msg", "") {
		p, _ := e["text"].(string)
		if b, ok := e["b64"].(string); ok {
			p = "b64:" + b
		}
		got = append(got, fmt.Sprintf("%v %v %v %s", e["conn"], e["dir"], e["op"], p))
	}
	return got
}

// sameMessages compares the messages of each connection and direction in
// order. Across directions the order may differ: the HAR import orders
// messages by time, and a recording's times need not rise (what arrived
// in one read shares the read's time).
func sameMessages(t *testing.T, what string, got, want []string) {
	t.Helper()
	byDir := func(ms []string) []string {
		ms = slices.Clone(ms)
		slices.SortStableFunc(ms, func(a, b string) int {
			return strings.Compare(strings.Join(strings.Fields(a)[:2], " "), strings.Join(strings.Fields(b)[:2], " "))
		})
		return ms
	}
	got, want = byDir(got), byDir(want)
	if len(want) == 0 {
		t.Fatalf("%s: no messages to compare", what)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: %d messages\n%s\nwant %d\n%s", what, len(got), bounded(strings.Join(got, "\n")), len(want), bounded(strings.Join(want, "\n")))
	}
}

// harEntries reads a HAR file's entries, failing when it is not one
// complete JSON document.
func harEntries(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var har struct {
		Log struct {
			Entries []map[string]any `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &har); err != nil {
		t.Fatalf("%s is not a complete HAR (%d bytes): %v", path, len(b), err)
	}
	return har.Log.Entries
}

// connect to Node's ws with --record s.har: the HAR read back by inspect
// has the messages the -o json output had, and redacts the credential.
func TestRecordHARConnect(t *testing.T) {
	t.Parallel()
	url, _ := nodeServer(t)
	har := filepath.Join(t.TempDir(), "s.har")
	r := run(t, "hello\n{\"op\":\"subscribe\"}\nhéllo ✓\n", "connect", url, "-H", "Authorization: Bearer s3cret", "--record", har, "-o", "json")
	r.expectCode(t, 0)
	want := messagesOf(t, r.Stdout)
	if len(want) != 6 {
		t.Fatalf("%d messages in the session, want 6", len(want))
	}
	entries := harEntries(t, har)
	if len(entries) != 1 || entries[0]["_resourceType"] != "websocket" {
		t.Fatalf("HAR entries: %d", len(entries))
	}
	b, _ := os.ReadFile(har)
	if strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "[redacted]") {
		t.Error("the Authorization header is not redacted in the HAR")
	}
	back := run(t, "", "inspect", har, "-o", "json")
	back.expectCode(t, 0)
	sameMessages(t, "HAR read back", messagesOf(t, back.Stdout), want)

	// The open line of a HAR names no empty client address.
	frames := run(t, "", "inspect", har, "-o", "frames")
	if !regexp.MustCompile(`open   ws://127\.0\.0\.1:\d+/ \(client to 127\.0\.0\.1:\d+\)`).MatchString(frames.Stdout) {
		t.Errorf("open line: %s", bounded(frames.Stdout))
	}
}

// inspect -o har of a recording, read back through stdin, shows the
// messages the recording has.
func TestInspectOutputHAR(t *testing.T) {
	t.Parallel()
	for _, rec := range []string{"../testdata/connect-echo.wsrec.jsonl", "../testdata/listen-echo.wsrec.jsonl"} {
		want := run(t, "", "inspect", rec, "-o", "json")
		want.expectCode(t, 0)
		har := run(t, "", "inspect", rec, "-o", "har")
		har.expectCode(t, 0)
		if !json.Valid([]byte(har.Stdout)) {
			t.Fatalf("%s -o har: not JSON (%d bytes)", rec, len(har.Stdout))
		}
		back := run(t, har.Stdout, "inspect", "-", "-o", "json")
		back.expectCode(t, 0)
		sameMessages(t, rec, messagesOf(t, back.Stdout), messagesOf(t, want.Stdout))
	}
	r := run(t, "", "inspect", "../testdata/connect-echo.wsrec.jsonl", "-o", "xml")
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, "har") {
		t.Errorf("stderr %q does not list har", r.Stderr)
	}
}

// listen --record s.har: a connection's entry is in the file once it has
// ended, so SIGKILL loses only the connections still open.
func TestRecordHARListenKilled(t *testing.T) {
	t.Parallel()
	har := filepath.Join(t.TempDir(), "s.har")
	p := start(t, "listen", "127.0.0.1:0", "--echo", "--record", har)
	url := "ws://" + p.listenAddr() + "/"
	dial := func(msg string) *gws.Conn {
		c, _, err := gws.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.WriteMessage(gws.TextMessage, []byte(msg))
		c.SetReadDeadline(time.Now().Add(step))
		if _, m, err := c.ReadMessage(); err != nil || string(m) != msg {
			t.Fatalf("echo %q %v", m, err)
		}
		return c
	}
	first := dial("first client")
	first.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
	first.ReadMessage()
	first.Close()
	p.stderr.waitMatch(t, regexp.MustCompile(`\[1\] closed`), step)
	second := dial("second client, open at the kill")
	defer second.Close()
	p.signal(syscall.SIGKILL)
	p.wait(step)

	entries := harEntries(t, har)
	if len(entries) != 1 {
		t.Fatalf("%d entries after SIGKILL, want 1 (the ended connection)", len(entries))
	}
	back := run(t, "", "inspect", har, "-o", "text")
	back.expectCode(t, 0)
	if back.Stdout != "[1] c2s first client\n[1] s2c first client\n" {
		t.Errorf("inspect: %q", back.Stdout)
	}
}

// proxy --record s.har: both directions of a relayed session.
func TestRecordHARProxy(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	har := filepath.Join(t.TempDir(), "s.har")
	p, url := proxyTo(t, srv.URL(), "--record", har, "-o", "json", "--once")
	d := gws.Dialer{EnableCompression: true, HandshakeTimeout: step}
	c, _, err := d.Dial(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"one", strings.Repeat("compressible ", 50)} {
		c.WriteMessage(gws.TextMessage, []byte(m))
		c.SetReadDeadline(time.Now().Add(step))
		c.ReadMessage()
	}
	c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
	c.ReadMessage()
	c.Close()
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	back := run(t, "", "inspect", har, "-o", "json")
	back.expectCode(t, 0)
	sameMessages(t, "proxy HAR", messagesOf(t, back.Stdout), messagesOf(t, p.stdout.String()))
}
