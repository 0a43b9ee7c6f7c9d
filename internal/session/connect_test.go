package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// fakeSender records what pump sends.
type fakeSender struct {
	sent    []string
	flushes int
	sendErr func(*action) error
}

func (f *fakeSender) send(a *action) error {
	f.sent = append(f.sent, a.String())
	if f.sendErr != nil {
		return f.sendErr(a)
	}
	return nil
}

func (f *fakeSender) flush() error {
	f.flushes++
	return nil
}

func TestPump(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		in      io.Reader
		mode    string
		slash   bool
		prompt  string
		sendErr func(*action) error
		err     error
		sent    []string
		stderr  string
		stdout  string
	}{
		{name: "lines", in: strings.NewReader("a\nb\n"), sent: []string{`message text "a" fragment=0`, `message text "b" fragment=0`}},
		{name: "empty", in: strings.NewReader("")},
		{name: "bad command skipped", in: strings.NewReader("/foo\nb\n"), slash: true,
			sent: []string{`message text "b" fragment=0`}, stderr: "wscope: unknown command /foo (/help lists them; //foo sends it as text)\n"},
		{name: "help", in: strings.NewReader("/help\n"), slash: true, stderr: SlashHelp() + "\n"},
		{name: "close ends input", in: strings.NewReader("a\n/close 4000 bye\nnever\n"), slash: true,
			sent: []string{`message text "a" fragment=0`, `close 4000 "bye"`}},
		{name: "json close ends input", in: strings.NewReader(`{"op":"close"}` + "\n" + `{"text":"never"}` + "\n"), mode: StdinJSON,
			sent: []string{`close 1000 ""`}},
		{name: "closing stops quietly", in: strings.NewReader("a\nb\n"), sendErr: func(*action) error { return wire.ErrClosing },
			sent: []string{`message text "a" fragment=0`}},
		{name: "send errors are reported", in: strings.NewReader("a\nb\n"), sendErr: func(*action) error { return boom },
			sent: []string{`message text "a" fragment=0`, `message text "b" fragment=0`}, stderr: "wscope: boom\nwscope: boom\n"},
		{name: "read error", in: io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(boom)), err: boom,
			sent: []string{`message text "a" fragment=0`}},
		{name: "prompt redrawn", in: strings.NewReader("a\n/nope\n/help\n"), slash: true, prompt: "> ",
			sent:   []string{`message text "a" fragment=0`},
			stderr: "wscope: unknown command /nope (/help lists them; //nope sends it as text)\n" + SlashHelp() + "\n",
			// Not after "a": the next lines were already buffered.
			stdout: "> > "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mode := tt.mode
			if mode == "" {
				mode = StdinLines
			}
			in := newInputReader(tt.in, mode, false, tt.slash, inspect.ClientToServer, 0)
			snk, out, errOut := testSink(FormatText, s2c, func(s *sink) { s.prompt, s.overPrompt = tt.prompt, "\r\x1b[K" })
			f := &fakeSender{sendErr: tt.sendErr}
			err := pump(in, f.send, f.flush, snk)
			snk.flush()
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("pump() = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(f.sent, tt.sent) {
				t.Errorf("sent\n got %q\nwant %q", f.sent, tt.sent)
			}
			if f.flushes == 0 && tt.sendErr == nil {
				t.Error("never flushed")
			}
			if errOut.String() != tt.stderr {
				t.Errorf("stderr %q, want %q", errOut, tt.stderr)
			}
			if out.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", out, tt.stdout)
			}
		})
	}
}

func TestPumpFlushesWhenDrained(t *testing.T) {
	t.Parallel()
	// Three lines in one read: one flush for the batch, one at EOF.
	in := newInputReader(strings.NewReader("a\nb\nc\n"), StdinLines, false, false, inspect.ClientToServer, 0)
	snk, _, _ := testSink(FormatText, s2c, nil)
	f := &fakeSender{}
	if err := pump(in, f.send, f.flush, snk); err != nil {
		t.Fatal(err)
	}
	if len(f.sent) != 3 || f.flushes != 2 {
		t.Errorf("%d sent with %d flushes, want 3 with 2 (per batch, not per message)", len(f.sent), f.flushes)
	}
}

func TestPumpFlushError(t *testing.T) {
	t.Parallel()
	boom := errors.New("broken pipe")
	in := newInputReader(strings.NewReader("a\nb\n"), StdinLines, false, false, inspect.ClientToServer, 0)
	snk, _, _ := testSink(FormatText, s2c, nil)
	n := 0
	err := pump(in, func(*action) error { n++; return nil }, func() error { return boom }, snk)
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("pump() = %v after %d sends, want %v after 2", err, n, boom)
	}
}

func TestFinish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		end    inspect.End
		always bool
		code   int // 0: nil error
		stderr string
	}{
		{"clean", inspect.End{Clean: true, Code: 1000, Closer: "client"}, false, 0, ""},
		{"clean, told", inspect.End{Clean: true, Code: 1000, Closer: "client"}, true, 0, "closed: 1000 Normal Closure by client, clean\n"},
		{"going away", inspect.End{Clean: true, Code: 1001, Closer: "server"}, false, 0, ""},
		{"abnormal", inspect.End{Code: 1006, Err: "EOF"}, false, ExitAbnormal, "wscope: connection ended abnormally: 1006 Abnormal Closure, not clean: EOF\n"},
		{"abnormal, told once", inspect.End{Code: 4001, Reason: "bye", Closer: "server"}, true, ExitAbnormal, "wscope: connection ended abnormally: 4001 Private Use \"bye\" by server, not clean\n"},
		{"a completed handshake without a code", inspect.End{Clean: true, Code: 1005, Closer: "server"}, false, 0, ""},
		{"clean 1000 after a violation", inspect.End{Clean: true, Code: 1000, Closer: "client", Violations: 1}, false, ExitAbnormal, "wscope: connection ended abnormally: 1000 Normal Closure by client, clean; 1 violation\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snk, out, errOut := testSink(FormatText, s2c, nil)
			snk.event(msgEvent(1, s2c, inspect.OpText, "last"))
			err := finish(tt.end, snk, tt.always)
			if tt.code == 0 {
				if err != nil {
					t.Errorf("finish() = %v, want nil", err)
				}
			} else {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != tt.code || !ee.Silent {
					t.Errorf("finish() = %#v, want a silent exit %d", err, tt.code)
				}
			}
			if out.String() != "last\n" {
				t.Errorf("stdout %q: finish must flush what is buffered", out)
			}
			if errOut.String() != tt.stderr {
				t.Errorf("stderr %q, want %q", errOut, tt.stderr)
			}
		})
	}
}

func TestReportDialError(t *testing.T) {
	t.Parallel()
	resp := &inspect.Response{Proto: "HTTP/1.1", Status: 403, Reason: "Forbidden", Headers: []inspect.HeaderField{
		{Name: "Content-Type", Value: "text/plain"}, {Name: "X-Dup", Value: "1"}, {Name: "X-Dup", Value: "2"},
	}}
	tests := []struct {
		name   string
		err    error
		stderr string
		silent bool
		msg    string
	}{
		{
			name:   "refused with body",
			err:    &wire.HandshakeError{Status: 403, Reason: "Forbidden", Body: []byte("go away"), Response: resp},
			stderr: "wscope: handshake refused: HTTP 403 Forbidden\n< HTTP/1.1 403 Forbidden\n< Content-Type: text/plain\n< X-Dup: 1\n< X-Dup: 2\n<\ngo away\n",
			silent: true,
		},
		{
			name:   "body ends with a newline",
			err:    &wire.HandshakeError{Status: 403, Reason: "Forbidden", Body: []byte("go away\n"), Response: resp},
			stderr: "wscope: handshake refused: HTTP 403 Forbidden\n< HTTP/1.1 403 Forbidden\n< Content-Type: text/plain\n< X-Dup: 1\n< X-Dup: 2\n<\ngo away\n",
			silent: true,
		},
		{
			name:   "wrapped, no response, no body",
			err:    fmt.Errorf("dial: %w", &wire.HandshakeError{Status: 200, Problem: "status 200 is not 101"}),
			stderr: "wscope: invalid upgrade response: status 200 is not 101\n",
			silent: true,
		},
		{
			name: "connect error",
			err:  &wire.ConnectError{Stage: "tcp", Err: errors.New("could not connect to h:1: connection refused")},
			msg:  "could not connect to h:1: connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			err := reportDialError(&b, tt.err)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitConnect || ee.Silent != tt.silent {
				t.Fatalf("reportDialError() = %#v, want exit %d, silent %v", err, ExitConnect, tt.silent)
			}
			if b.String() != tt.stderr {
				t.Errorf("stderr\n got %q\nwant %q", b.String(), tt.stderr)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("error %q, want %q", err, tt.msg)
			}
		})
	}
}

func TestPrintHandshake(t *testing.T) {
	t.Parallel()
	o := &inspect.Open{
		Request: inspect.Request{Method: "GET", Target: "/ws?x=1", Proto: "HTTP/1.1", Headers: []inspect.HeaderField{
			{Name: "Host", Value: "h"}, {Name: "Upgrade", Value: "websocket"},
		}},
		Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols", Headers: []inspect.HeaderField{
			{Name: "Upgrade", Value: "websocket"},
		}},
		Subprotocol: "chat",
		Extensions: []inspect.Extension{{Name: "permessage-deflate", Params: []inspect.HeaderField{
			{Name: "client_no_context_takeover"}, {Name: "server_max_window_bits", Value: "10"},
		}}},
		TLS: &inspect.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "h", PeerSubject: "CN=h"},
	}
	var b bytes.Buffer
	printHandshake(&b, o)
	want := "> GET /ws?x=1 HTTP/1.1\n> Host: h\n> Upgrade: websocket\n>\n" +
		"< HTTP/1.1 101 Switching Protocols\n< Upgrade: websocket\n<\n" +
		"* subprotocol: chat\n" +
		"* extension: permessage-deflate; client_no_context_takeover; server_max_window_bits=10\n" +
		"* TLS: TLS 1.3 TLS_AES_128_GCM_SHA256, server name \"h\", peer CN=h\n"
	if b.String() != want {
		t.Errorf("printHandshake\n got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	printHandshake(&b, &inspect.Open{Request: o.Request, Response: o.Response})
	if strings.Contains(b.String(), "*") {
		t.Errorf("no subprotocol, extension or TLS, yet: %q", b.String())
	}
}

func TestWatchInterrupt(t *testing.T) {
	t.Parallel()
	t.Run("no interrupt", func(t *testing.T) {
		t.Parallel()
		intr := make(chan os.Signal, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop := watchInterrupt(intr, cancel)
		if stop() {
			t.Error("stop() reported an interrupt that did not come")
		}
		if ctx.Err() != nil {
			t.Error("cancelled without an interrupt")
		}
	})
	t.Run("nil channel", func(t *testing.T) {
		t.Parallel()
		stop := watchInterrupt(nil, func() { t.Error("cancelled") })
		if stop() {
			t.Error("stop() reported an interrupt")
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		t.Parallel()
		intr := make(chan os.Signal, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop := watchInterrupt(intr, cancel)
		intr <- os.Interrupt
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Ctrl-C did not cancel")
		}
		if !stop() {
			t.Error("stop() did not report the interrupt")
		}
	})
}
