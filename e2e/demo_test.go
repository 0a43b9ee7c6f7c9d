package e2e

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// TestDemoInAPipe is the README's first command with no stdin and no
// terminal: the tour as frames, a clean close, exit 0.
func TestDemoInAPipe(t *testing.T) {
	t.Parallel()
	r := runWith(t, nil, 30*time.Second, "demo")
	r.expectCode(t, 0)
	for _, re := range []string{
		`open +ws://127\.0\.0\.1:\d+/demo .* ext=permessage-deflate`,
		`s2c text +F--- - -------- len=\d+ +Welcome to the wscope demo`,
		`s2c text +F--- - -------- len=\d+ +\{"type":"tick","n":1,`,
		`s2c text +---- - -------- len=22 +this message was sent`,
		`s2c cont +---- - -------- len=17 +in three frames:`,
		`s2c cont +F--- - -------- len=20 +text, cont, cont\+FIN`,
		`s2c binary F--- - -------- len=16 +\[binary 16 B\] 89 50 4e 47`,
		`s2c ping +F--- - -------- len=14 +are you there\?`,
		`c2s pong +F--- M [0-9a-f]{8} len=14 +are you there\?`,
		`s2c text +F1-- - -------- len=\d+`,
		`s2c msg +text +frames=1 len=5611 wire=\d+ ratio=0\.\d+ \{"type":"snapshot"`,
		`s2c text .*That was the tour\.`,
		`c2s close +F--- M [0-9a-f]{8} len=2 +1000 Normal Closure`,
		`s2c close +F--- - -------- len=2 +1000 Normal Closure`,
		`end +1000 Normal Closure by client, clean`,
	} {
		if !regexp.MustCompile(`(?m)` + re).MatchString(r.Stdout) {
			t.Errorf("no line matching %q in\n%s", re, r.Stdout)
		}
	}
}

// TestDemoCloseOnRequest asks the server for a close with code 4000: the
// exit status says the connection did not end with 1000 or 1001.
func TestDemoCloseOnRequest(t *testing.T) {
	t.Parallel()
	r := run(t, "close 4000 bye\n", "demo", "-o", "json")
	r.expectCode(t, 4)
	evs := parseEvents(t, r.Stdout)
	closes := filter(evs, "frame", "s2c")
	last := closes[len(closes)-1]
	c, _ := last["close"].(map[string]any)
	if last["op"] != "close" || c == nil || c["code"] != float64(4000) || c["reason"] != "bye" {
		t.Errorf("server's last frame %v, want close 4000 bye", last)
	}
	if !strings.Contains(r.Stderr, "4000") {
		t.Errorf("stderr does not say 4000:\n%s", r.Stderr)
	}
}

// TestDemoServe runs the server alone and plays it with gorilla/websocket;
// Ctrl-C closes the client with 1001 and exits 130.
func TestDemoServe(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	p := start(t, "demo", "--serve", addr)
	p.stderr.waitMatch(t, regexp.MustCompile(`demo server listening on ws://`+regexp.QuoteMeta(addr)+`/`), step)
	c := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{Compression: true})
	if m, err := c.Read(step); err != nil || !strings.HasPrefix(string(m.Data), "Welcome to the wscope demo") {
		t.Fatalf("first message %v %v", m, err)
	}
	if err := c.Send(tp.TextMsg("hello")); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := c.Read(step)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) == "hello" {
			break
		}
	}
	p.interrupt()
	if code := p.wait(2 * step); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 {
		t.Errorf("client saw %v %v, want 1001", st, ok)
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`\[1\] closed: 1001 Going Away .* by server, clean`), step)
}

// TestDemoTUIInAPseudoTerminal: at a terminal the demo opens the TUI on
// the tour, what is typed goes to the server and comes back, and q quits
// with 0.
func TestDemoTUIInAPseudoTerminal(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, 40, 120, "demo", "--no-history")
	screen, tty := term.screen, term.tty
	tour := []*regexp.Regexp{
		regexp.MustCompile(`ws://127\.0\.0\.1:\d+/demo`),
		regexp.MustCompile(`← text +F--- - -{8} +\d+ Welcome to the wscope demo`),
		regexp.MustCompile(`← cont +F--- - -{8} +20 text, cont, cont\+FIN`),
		regexp.MustCompile(`← ping +F--- - -{8} +14 are you there\?`),
		regexp.MustCompile(`→ pong +F--- M [0-9a-f]{8} +14 are you there\?`),
		regexp.MustCompile(`← text +F1-- - -{8} +\d+ \[deflated`),
	}
	screenText(t, screen, "the demo's URL and tour", func(s string) bool {
		for _, re := range tour {
			if !re.MatchString(s) {
				return false
			}
		}
		return true
	})
	io.WriteString(tty, "hello demo tui\r")
	// What is sent goes compressed (a row of deflated bytes); the server
	// echoes it uncompressed, as it does every short message.
	sent := regexp.MustCompile(`→ text +F1-- M [0-9a-f]{8} +\d+ \[deflated`)
	echo := regexp.MustCompile(`← text +F--- - -{8} +14 hello demo tui`)
	screenText(t, screen, "the message sent and its echo", func(s string) bool {
		return sent.MatchString(s) && echo.MatchString(s)
	})
	term.quit(t)
}
