package cmd

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wscope/wscope/internal/demo"
	"github.com/wscope/wscope/internal/session"
)

// parseDemo runs `demo args...` with a runF that keeps the options.
func parseDemo(t *testing.T, args ...string) (*DemoOptions, error) {
	t.Helper()
	return parseCmd(t, nil, NewCmdDemo, args...)
}

func TestNewCmdDemo(t *testing.T) {
	t.Parallel()
	o, err := parseDemo(t)
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != 5*time.Second || o.Serve || o.Addr != "" || o.outputSet || o.Output != session.FormatText ||
		!o.Compress.On || o.BinaryAs != "base64" || o.CloseTimeout != defaultSession().CloseTimeout {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseDemo(t, "--duration", "2s", "-o", "json", "--compress=false", "--no-tui", "-v", "--record", "r.jsonl", "--fragment", "4", "--op", "text")
	if err != nil {
		t.Fatal(err)
	}
	if o.Duration != 2*time.Second || !o.outputSet || o.Output != session.FormatJSON || o.Compress.On || !o.NoTUI || !o.Verbose ||
		o.Record != "r.jsonl" || o.Fragment != 4 || o.Op != "text" {
		t.Errorf("options: %+v", o)
	}
	o, err = parseDemo(t, "--serve", "9000")
	if err != nil || !o.Serve || o.Addr != "9000" {
		t.Errorf("--serve 9000: %+v %v", o, err)
	}
	for _, args := range [][]string{{"--echo"}, {"--stdin", "json"}, {"a", "b"}} {
		if _, err := parseDemo(t, args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// quickDemo runs `wscope demo args...` with a demo server whose tour goes
// at once, through the command's run function.
func quickDemo(t *testing.T, ios *IOStreams, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := NewCmdDemo(ios, func(ctx context.Context, o *DemoOptions) error {
		o.server = demo.Options{Step: time.Millisecond, Tick: time.Hour}
		return demoRun(ctx, o)
	})
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	return c.ExecuteContext(ctx)
}

// TestRunDemoInAPipe is `wscope demo </dev/null | cat` in-process: the
// whole tour as frames, then a clean close and exit 0.
func TestRunDemoInAPipe(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runWscope(t, "", "demo", "--duration", "0")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"open   ws://127.0.0.1:",
		"ext=permessage-deflate",
		"s2c text   F--- - -------- len=255     Welcome to the wscope demo",
		`s2c text   F--- - -------- len=55      {"type":"tick","n":1,`,
		"s2c text   ---- - -------- len=22      this message was sent",
		"s2c cont   ---- - -------- len=17      in three frames:",
		"s2c cont   F--- - -------- len=20      text, cont, cont+FIN",
		"s2c binary F--- - -------- len=16      [binary 16 B] 89 50 4e 47",
		"s2c ping   F--- - -------- len=14      are you there?",
		"c2s pong   F--- M",
		"s2c text   F1-- - --------",
		`s2c msg    text   frames=1 len=5611 wire=`,
		"That was the tour.",
		"c2s close  F--- M",
		"end    1000 Normal Closure by client, clean",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
}

func TestRunDemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		tty   bool
		args  []string
		code  int
		want  []string // in stdout
		not   []string // not in stdout
	}{
		{
			name: "text output",
			args: []string{"-o", "text", "--duration", "0"},
			want: []string{"Welcome to the wscope demo", "\nthis message was sent in three frames: text, cont, cont+FIN\n", "\niVBORw0KGgoAAAANSUhEUg==\n", `{"type":"snapshot"`, "That was the tour."},
			not:  []string{"open", "F---"},
		},
		{
			name:  "stdin lines are sent and echoed",
			stdin: "hello demo\nfragment abcdef\n",
			args:  []string{"-o", "text", "--duration", "0"},
			want:  []string{"hello demo\n", "abcdef\n"},
		},
		{
			name: "without compression",
			args: []string{"--compress=false", "--duration", "0"},
			want: []string{`s2c text   F--- - -------- len=5611    {"type":"snapshot"`},
			not:  []string{"F1--", "permessage-deflate"},
		},
		{
			name:  "close on request",
			stdin: "close 4000 bye\n",
			args:  []string{"--duration", "0"},
			code:  ExitAbnormal,
			want:  []string{`s2c close  F--- - -------- len=5       4000 Private Use "bye"`, "end    4000 Private Use"},
		},
		{
			name:  "at a terminal without the TUI: frames until stdin ends",
			stdin: "hello\n",
			tty:   true,
			args:  []string{"--no-tui"},
			want:  []string{"c2s text", "hello", "end    1000 Normal Closure by client, clean"},
		},
		{
			name: "json",
			args: []string{"-o", "json", "--duration", "0"},
			want: []string{`{"wsrec":1,`, `"ev":"open"`, `"deflated":true`, `"op":"cont"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ios, out, errOut := testIO(tc.stdin)
			ios.InTTY, ios.OutTTY = tc.tty, tc.tty
			err := quickDemo(t, ios, tc.args...)
			if code := statusOf(err); code != tc.code {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, tc.code, out, errOut)
			}
			stdout := out.String()
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("no %q in stdout:\n%s", w, stdout)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(stdout, w) {
					t.Errorf("%q in stdout:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestRunDemoUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"demo", "9000"},
		{"demo", "--duration", "-1s"},
		{"demo", "--echo"},
		{"demo", "-o", "yaml"},
	} {
		code, stdout, stderr := runWscope(t, "", args...)
		if code != ExitUsage || stdout != "" || stderr == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// TestRunDemoServe runs the server alone and plays the tour's start with
// gorilla/websocket; the context stops it.
func TestRunDemoServe(t *testing.T) {
	t.Parallel()
	ios, _, errOut := testIO("")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	c := NewCmdDemo(ios, func(ctx context.Context, o *DemoOptions) error {
		o.server = demo.Options{Step: time.Millisecond, Tick: time.Hour}
		o.ready = func(a net.Addr) { addrc <- a }
		return demoRun(ctx, o)
	})
	c.SetArgs([]string{"--serve", "127.0.0.1:0"})
	go func() { done <- c.ExecuteContext(ctx) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("ended before listening: %v\n%s", err, errOut)
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+addr.String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, p, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(p), "Welcome to the wscope demo") {
		t.Fatalf("first message %q %v", p, err)
	}
	// gorilla answers the close frame while it reads.
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still serving after its context ended")
	}
	if err := <-readErr; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("client saw %v, want close 1001", err)
	}
	for _, want := range []string{"demo server listening on ws://127.0.0.1:", "[1] connected from 127.0.0.1:", "[1] closed: 1001 Going Away \"the demo server is stopping\" by server, clean"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("no %q in stderr:\n%s", want, errOut)
		}
	}
}
