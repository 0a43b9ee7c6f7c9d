package e2e

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// framesUntilClose is a raw server that keeps the client's frames until
// its close frame, answers it with 1000 and hands them over.
func framesUntilClose(t *testing.T) (*tp.RawServer, <-chan []tp.Frame) {
	got := make(chan []tp.Frame, 1)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		var fs []tp.Frame
		defer func() { got <- fs }()
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			fs = append(fs, f)
			if f.Op == inspect.OpClose {
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
				return
			}
		}
	})
	return srv, got
}

// describe lists frames for a failure message, payloads cut short.
func describe(fs []tp.Frame) string {
	var b strings.Builder
	for _, f := range fs {
		s := f.String()
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		b.WriteString("\n  " + s)
	}
	return b.String()
}

// Issue 15 item 3: a close reason too long for a close frame is refused
// before anything is sent or marked; what follows is still sent, the
// session closes with its own 1000, and the exit status says input was
// lost. The raw-frame path still sends an oversized close on purpose.
func TestConnectRefusesACloseReasonTooLong(t *testing.T) {
	t.Parallel()
	reason := strings.Repeat("r", 130)
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{name: "-x", args: []string{"-x", "hello", "-x", "/close 4000 " + reason, "-x", "after"}},
		{name: "--stdin json", args: []string{"--stdin", "json"}, stdin: `{"text":"hello"}` + "\n" +
			`{"op":"close","code":4000,"reason":"` + reason + `"}` + "\n" + `{"text":"after"}` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, got := framesUntilClose(t)
			r := run(t, c.stdin, append([]string{"connect", srv.URL()}, c.args...)...)
			r.expectCode(t, 1)
			fs := <-got
			if len(fs) != 3 || fs[0].Text() != "hello" || fs[1].Text() != "after" || fs[2].Op != inspect.OpClose {
				t.Fatalf("the server got %d frames, want hello, after, close:%s", len(fs), describe(fs))
			}
			if ci, _ := fs[2].Close(); ci.Code != 1000 || ci.Reason != "" {
				t.Errorf("closed with %v, want wscope's own 1000 at the end of input", ci)
			}
			for _, want := range []string{"close reason of 130 bytes: a close frame carries at most 123", "1 line of input was not sent"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, bounded(r.Stderr))
				}
			}
		})
	}
	t.Run("/frame on purpose", func(t *testing.T) {
		t.Parallel()
		srv, got := framesUntilClose(t)
		body := append([]byte{0x0f, 0xa0}, reason...)
		r := run(t, "", "connect", srv.URL(), "-x", "/frame op=close hex="+hex.EncodeToString(body))
		r.expectCode(t, 0) // our own close broke the rules; the server's 1000 is clean
		fs := <-got
		if len(fs) != 1 || fs[0].Op != inspect.OpClose || !bytes.Equal(fs[0].Payload, body) {
			t.Fatalf("the server got %d frames, want the one crafted close of %d bytes:%s", len(fs), len(body), describe(fs))
		}
	})
}

// Issue 15 item 4: a crafted frame goes out as its view and its recording
// say, header bits, mask key, length and its form; what cannot (a length
// its form cannot hold, a close code past 16 bits, two payloads, a typo'd
// key) is refused with a line naming it, nothing of it sent.
func TestConnectCraftedFramesAreWhatTheySay(t *testing.T) {
	t.Parallel()
	a := func(n int) string { return strings.Repeat("a", n) }
	refused := []string{
		`{"text":"` + a(200) + `","len_enc":7}`,
		`{"text":"x","len":70000,"len_enc":16}`,
		`{"text":"hello","len":2}`,
		`{"op":"close","code":70000}`,
		`{"op":"close","code":-1}`,
		`{"op":"close","code":65536}`,
		`{"text":"a","b64":"AA=="}`,
		`{"txt":"typo"}`,
		`{"sleep":-1}`,
		`{"op":"0x10","fin":true}`,
	}
	sent := []string{
		`{"text":"` + a(125) + `","len_enc":7}`,
		`{"text":"hi","len_enc":16}`,
		`{"b64":"AAE=","len_enc":64,"mask":"01020304"}`,
		`{"op":"0x3","fin":true,"rsv2":true,"text":"r"}`,
		`{"text":"` + a(300) + `","mask":"none"}`,
	}
	var in strings.Builder
	for i := range max(len(refused), len(sent)) {
		if i < len(refused) {
			in.WriteString(refused[i] + "\n")
		}
		if i < len(sent) {
			in.WriteString(sent[i] + "\n")
		}
	}
	srv, got := framesUntilClose(t)
	path := filepath.Join(t.TempDir(), "crafted.wsrec.jsonl")
	r := run(t, in.String(), "connect", srv.URL(), "--stdin", "json", "--record", path)
	r.expectCode(t, 1)
	fs := <-got
	if len(fs) != len(sent)+1 {
		t.Fatalf("the server got %d frames, want %d and a close:%s", len(fs), len(sent), describe(fs))
	}
	for _, want := range []string{
		"length 200 does not fit the 7-bit form (at most 125)",
		"length 70000 does not fit the 16-bit form (at most 65535)",
		"length 2 announces less than the 5-byte payload",
		"close code 70000: want 0 to 65535",
		"close code -1: want 0 to 65535",
		"close code 65536: want 0 to 65535",
		`"text" and "b64" are two payloads`,
		`unknown key "txt"`,
		"sleep -1: want seconds",
		`unknown opcode "0x10"`,
		"10 lines of input were not sent",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, bounded(r.Stderr))
		}
	}
	wantWire := []struct {
		enc    inspect.LengthEncoding
		length uint64
		masked bool
	}{{inspect.Len7, 125, true}, {inspect.Len16, 2, true}, {inspect.Len64, 2, true}, {inspect.Len7, 1, true}, {inspect.Len16, 300, false}}
	for i, w := range wantWire {
		if fs[i].LenEnc != w.enc || fs[i].Length != w.length || fs[i].Masked != w.masked {
			t.Errorf("frame %d on the wire: %v, want len=%d in %d bits, masked %v", i, fs[i], w.length, w.enc, w.masked)
		}
	}
	if fs[2].Mask != [4]byte{1, 2, 3, 4} || fs[3].Op != 0x3 || !fs[3].Rsv2() {
		t.Errorf("frames 2-3 on the wire:%s", describe(fs[2:4]))
	}

	// The recording reads back, and its frames are the wire's.
	evs, _ := readRecording(t, path)
	var rec []*inspect.Frame
	for _, e := range evs {
		if e.Kind == inspect.KindFrame && e.Frame.Dir == inspect.ClientToServer {
			rec = append(rec, e.Frame)
		}
	}
	if len(rec) != len(fs) {
		t.Fatalf("the recording has %d frames sent, the wire %d", len(rec), len(fs))
	}
	for i, f := range rec {
		if f.Header != fs[i].Header || !bytes.Equal(f.Payload, fs[i].Payload) {
			t.Errorf("frame %d: recorded %+v (%d bytes), on the wire %+v (%d bytes)", i, f.Header, len(f.Payload), fs[i].Header, len(fs[i].Payload))
		}
	}
}

// A deliberate lie about the length goes out as asked, and is recorded
// as sent: len as announced, the payload as carried, and the recording
// reads back.
func TestConnectLengthLieIsRecordedAsSent(t *testing.T) {
	t.Parallel()
	got := make(chan tp.Frame, 1)
	srv := acceptThen(t, func(rc *tp.RawConn) {
		// The lie swallows the bytes after it (our close) as its payload;
		// then the server drops the connection.
		f, _ := rc.ReadFrame(step)
		got <- f
		rc.CloseTCP()
	})
	path := filepath.Join(t.TempDir(), "lie.wsrec.jsonl")
	r := run(t, "", "connect", srv.URL(), "-x", "/frame op=binary len=10 abc", "--record", path)
	r.expectCode(t, 4) // the server dropped TCP
	f := <-got
	if f.Op != inspect.OpBinary || f.Length != 10 || !bytes.HasPrefix(f.Payload, []byte("abc")) {
		t.Errorf("on the wire: %v, want a binary frame announcing 10 bytes, carrying abc", f)
	}
	evs, _ := readRecording(t, path)
	var lie *inspect.Frame
	for _, e := range evs {
		if e.Kind == inspect.KindFrame && e.Frame.Op == inspect.OpBinary {
			lie = e.Frame
		}
	}
	if lie == nil || lie.Length != 10 || string(lie.Payload) != "abc" || lie.Raw[1]&0x7F != 10 {
		t.Fatalf("recorded %+v, want len 10 with the payload abc", lie)
	}
	if r := run(t, "", "inspect", path); r.Code != 0 || !strings.Contains(r.Stdout, "len=10(got 3)") {
		t.Errorf("inspect of the recording: exit %d\n%s\n%s", r.Code, bounded(r.Stdout), bounded(r.Stderr))
	}
}

// Issue 14: input that could not be sent fails the run (exit 1) though the
// rest was sent: a CI job piping a script must not pass after a bad line.
func TestConnectInputNotSentExits1(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	for _, c := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "not JSON", stdin: "not json\n" + `{"text":"ok"}` + "\n", args: []string{"--stdin", "json"},
			code: 1, stdout: "ok\n", stderr: "wscope: --stdin json line 1: invalid character"},
		{name: "over --max-message-size", stdin: "short\n" + long + "\nafter\n", args: []string{"--max-message-size", "16"},
			code: 1, stdout: "short\nafter\n", stderr: "wscope: input line 2 is longer than --max-message-size (16 bytes): skipped"},
		{name: "a bad -x command", args: []string{"-x", "/nope", "-x", "hi"},
			code: 1, stdout: "hi\n", stderr: "wscope: unknown command /nope"},
		{name: "all sent", stdin: `{"text":"ok"}` + "\n" + `{"sleep":0}` + "\n", args: []string{"--stdin", "json"},
			code: 0, stdout: "ok\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
			r := run(t, c.stdin, append([]string{"connect", srv.URL()}, c.args...)...)
			r.expectCode(t, c.code)
			if r.Stdout != c.stdout {
				t.Errorf("stdout %q, want %q", bounded(r.Stdout), c.stdout)
			}
			if c.code == 0 && r.Stderr != "" || !strings.Contains(r.Stderr, c.stderr) {
				t.Errorf("stderr %q, want %q", bounded(r.Stderr), c.stderr)
			}
			if c.code == 1 && !strings.Contains(r.Stderr, "1 line of input was not sent") {
				t.Errorf("stderr %q does not say input was lost", bounded(r.Stderr))
			}
		})
	}
}
