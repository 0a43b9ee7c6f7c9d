package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

const (
	c2s = inspect.ClientToServer
	s2c = inspect.ServerToClient
)

func msgEvent(conn int, dir inspect.Direction, op inspect.OpCode, p string) *inspect.Event {
	return &inspect.Event{T: 1500 * time.Millisecond, Kind: inspect.KindMsg, Conn: conn, Msg: &inspect.Message{
		Dir: dir, Op: op, Frames: []uint64{7}, WireLen: len(p), Payload: []byte(p),
	}}
}

func frameEvent(conn int, seq uint64, dir inspect.Direction, op inspect.OpCode, p string) *inspect.Event {
	f := &inspect.Frame{Seq: seq, Dir: dir, Header: inspect.Header{
		Fin: true, Op: op, Length: uint64(len(p)), LenEnc: inspect.MinimalLengthEncoding(uint64(len(p))),
	}, Payload: []byte(p)}
	if dir == c2s {
		f.Masked, f.Mask = true, [4]byte{0x9f, 0x1c, 0x2a, 0x7e}
	}
	if op == inspect.OpClose {
		if c, ok := inspect.ParseClose(f.Payload); ok {
			f.Close = &c
		}
	}
	f.Raw = inspect.AppendHeader(nil, f.Header)
	return &inspect.Event{T: 250 * time.Millisecond, Kind: inspect.KindFrame, Conn: conn, Frame: f}
}

func closeFrame(conn int, dir inspect.Direction, code inspect.CloseCode, reason string) *inspect.Event {
	return frameEvent(conn, 9, dir, inspect.OpClose, string(inspect.AppendClose(nil, code, reason)))
}

func withViolations(e *inspect.Event, vs ...inspect.Violation) *inspect.Event {
	if e.Frame != nil {
		e.Frame.Violations = vs
	} else {
		e.Msg.Violations = vs
	}
	return e
}

var (
	rsvViolation  = inspect.Violation{Rule: inspect.RuleRsvWithoutExtension, Section: "RFC 6455 5.2", Message: "RSV1 set without a negotiated extension"}
	utf8Violation = inspect.Violation{Rule: inspect.RuleTextInvalidUTF8, Section: "RFC 6455 8.1", Message: "text message is not valid UTF-8"}
)

func openEvent(conn int) *inspect.Event {
	return &inspect.Event{Kind: inspect.KindOpen, Conn: conn, Open: &inspect.Open{
		URL:  "ws://127.0.0.1:8080/ws",
		Role: inspect.RoleClient,
		Request: inspect.Request{Method: "GET", Target: "/ws", Proto: "HTTP/1.1", Headers: []inspect.HeaderField{
			{Name: "Host", Value: "127.0.0.1:8080"},
			{Name: "Authorization", Value: "Basic c2VjcmV0"},
			{Name: "cookie", Value: "session=s3cret"},
			{Name: "Proxy-Authorization", Value: "Bearer pxy"},
			{Name: "X-Trace", Value: "keep-me"},
		}},
		Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols", Headers: []inspect.HeaderField{
			{Name: "Upgrade", Value: "websocket"},
			{Name: "Set-Cookie", Value: "id=hidden"},
		}},
		Local:  "127.0.0.1:50000",
		Remote: "127.0.0.1:8080",
		Start:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
}

// testSink is a sink on buffers, configured like the flags would.
func testSink(format string, recv inspect.Direction, change func(*sink)) (*sink, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	s := newSink(&out, &errOut, format, recv)
	s.binaryAs = "base64"
	if change != nil {
		change(s)
	}
	if format == FormatJSON {
		s.startRecording("", record.WriterOptions{})
		out.Reset() // drop the header line (written at once): tests of it start again
	}
	return s, &out, &errOut
}

func TestSinkText(t *testing.T) {
	t.Parallel()
	binary := string([]byte{0x00, 0x01, 0xff})
	tests := []struct {
		name   string
		recv   inspect.Direction
		change func(*sink)
		events []*inspect.Event
		out    string
		errOut string
	}{
		{name: "received text", events: []*inspect.Event{msgEvent(1, s2c, inspect.OpText, "hello")}, out: "hello\n"},
		{name: "sent text is not shown", events: []*inspect.Event{msgEvent(1, c2s, inspect.OpText, "mine")}, out: ""},
		{name: "listen receives c2s", recv: c2s, events: []*inspect.Event{
			msgEvent(1, c2s, inspect.OpText, "from client"), msgEvent(1, s2c, inspect.OpText, "to client"),
		}, out: "from client\n"},
		{name: "empty message is an empty line", events: []*inspect.Event{msgEvent(1, s2c, inspect.OpText, "")}, out: "\n"},
		{name: "text kept as is", events: []*inspect.Event{msgEvent(1, s2c, inspect.OpText, "tab\there \u00e9")}, out: "tab\there \u00e9\n"},
		{name: "binary as base64", events: []*inspect.Event{msgEvent(1, s2c, inspect.OpBinary, binary)}, out: "AAH/\n"},
		{name: "binary as hex", change: func(s *sink) { s.binaryAs = "hex" }, events: []*inspect.Event{msgEvent(1, s2c, inspect.OpBinary, binary)}, out: "0001ff\n"},
		{name: "binary raw", change: func(s *sink) { s.binaryAs = "raw" }, events: []*inspect.Event{msgEvent(1, s2c, inspect.OpBinary, binary)}, out: binary + "\n"},
		{name: "empty binary", events: []*inspect.Event{msgEvent(1, s2c, inspect.OpBinary, "")}, out: "\n"},
		{name: "text unaffected by binary-as", change: func(s *sink) { s.binaryAs = "hex" }, events: []*inspect.Event{msgEvent(1, s2c, inspect.OpText, "AB")}, out: "AB\n"},
		{name: "connection prefix", change: func(s *sink) { s.showConn = true }, events: []*inspect.Event{
			msgEvent(2, s2c, inspect.OpText, "hi"), msgEvent(13, s2c, inspect.OpBinary, "\x00"),
		}, out: "[2] hi\n[13] AA==\n"},
		{name: "control frames hidden by default", events: []*inspect.Event{
			frameEvent(1, 1, s2c, inspect.OpPing, "x"), closeFrame(1, s2c, 1000, ""),
		}, out: ""},
		{name: "data frames never shown", change: func(s *sink) { s.showControl = true }, events: []*inspect.Event{
			frameEvent(1, 1, s2c, inspect.OpText, "frame"),
		}, out: ""},
		{name: "show control", change: func(s *sink) { s.showControl = true }, events: []*inspect.Event{
			frameEvent(1, 1, s2c, inspect.OpPing, "x"),
			frameEvent(1, 2, s2c, inspect.OpPong, ""),
			frameEvent(1, 3, s2c, inspect.OpPing, "\x1b[2J"),
			closeFrame(1, s2c, 1000, "reason"),
			closeFrame(1, s2c, 4001, ""),
			frameEvent(1, 4, s2c, inspect.OpClose, ""),
		}, out: "[ping] x\n[pong]\n[ping] \\x1b[2J\n[close] 1000 Normal Closure \"reason\"\n[close] 4001 Private Use\n[close]\n"},
		{name: "show control, sent frames hidden", change: func(s *sink) { s.showControl = true }, events: []*inspect.Event{
			frameEvent(1, 1, c2s, inspect.OpPing, "x"), closeFrame(1, c2s, 1000, ""),
		}, out: ""},
		{name: "show control with connection", change: func(s *sink) { s.showControl, s.showConn = true, true }, events: []*inspect.Event{
			frameEvent(3, 1, s2c, inspect.OpPing, "x"),
		}, out: "[3] [ping] x\n"},
		{name: "open and end not shown", events: []*inspect.Event{
			openEvent(1), {Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{Clean: true, Code: 1000}}, {Kind: inspect.KindError, Conn: 1, Text: "x"},
		}, out: ""},
		{name: "frame violations warned", events: []*inspect.Event{
			withViolations(frameEvent(1, 3, s2c, inspect.OpText, "x"), rsvViolation),
		}, errOut: "wscope: frame 3: rsv-without-extension (RFC 6455 5.2): RSV1 set without a negotiated extension\n"},
		{name: "control frame violation warned and shown", change: func(s *sink) { s.showControl = true }, events: []*inspect.Event{
			withViolations(frameEvent(1, 4, s2c, inspect.OpPing, "x"), rsvViolation),
		}, out: "[ping] x\n", errOut: "wscope: frame 4: rsv-without-extension"},
		{name: "message violations warned", events: []*inspect.Event{
			withViolations(msgEvent(1, s2c, inspect.OpText, "\xff"), utf8Violation, rsvViolation),
		}, out: "\xff\n", errOut: "wscope: message: text-invalid-utf8 (RFC 6455 8.1): text message is not valid UTF-8\nwscope: message: rsv-without-extension"},
		{name: "violations with connection", change: func(s *sink) { s.showConn = true }, recv: c2s, events: []*inspect.Event{
			withViolations(frameEvent(2, 5, c2s, inspect.OpText, "x"), rsvViolation),
			withViolations(msgEvent(2, c2s, inspect.OpText, "x"), utf8Violation),
		}, out: "[2] x\n", errOut: "wscope: [2] frame 5: rsv-without-extension (RFC 6455 5.2): RSV1 set without a negotiated extension\nwscope: [2] message: text-invalid-utf8"},
		{name: "our own violations not warned", events: []*inspect.Event{
			withViolations(frameEvent(1, 3, c2s, inspect.OpText, "x"), rsvViolation),
			withViolations(msgEvent(1, c2s, inspect.OpText, "x"), utf8Violation),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := tt.recv
			if recv == 0 {
				recv = s2c
			}
			s, out, errOut := testSink(FormatText, recv, tt.change)
			s.startRecording("", record.WriterOptions{}) // nothing outside json
			for _, e := range tt.events {
				s.event(e)
			}
			s.flush()
			if out.String() != tt.out {
				t.Errorf("stdout %q, want %q", out, tt.out)
			}
			if tt.errOut == "" && errOut.Len() > 0 || !strings.HasPrefix(errOut.String(), tt.errOut) {
				t.Errorf("stderr %q, want %q", errOut, tt.errOut)
			}
		})
	}
}

func TestSinkTextCloseReasonIsTerminalSafe(t *testing.T) {
	t.Parallel()
	s, out, _ := testSink(FormatText, s2c, func(s *sink) { s.showControl = true })
	s.event(closeFrame(1, s2c, 1000, "bye\x1b[2J"))
	s.flush()
	if want := "[close] 1000 Normal Closure \"bye\\x1b[2J\"\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

// TestSinkBuffersUntilFlush: text and frames wait for the flush; json
// (the recording) is written by its record.Writer, batched with a bound
// on the delay (TestSinkJSONWrittenUnflushed).
func TestSinkBuffersUntilFlush(t *testing.T) {
	t.Parallel()
	for _, format := range []string{FormatText, FormatFrames} {
		s, out, _ := testSink(format, s2c, nil)
		s.event(msgEvent(1, s2c, inspect.OpText, "x"))
		s.event(frameEvent(1, 1, s2c, inspect.OpText, "x"))
		if out.Len() != 0 {
			t.Errorf("%s: %q written before flush; the sink flushes when input is drained", format, out)
		}
		s.flush()
		if out.Len() == 0 {
			t.Errorf("%s: nothing written after flush", format)
		}
	}
}

// TestSinkJSONWrittenUnflushed: -o json reaches stdout without a flush,
// within record.DefaultMaxDelay, as --record reaches its file.
func TestSinkJSONWrittenUnflushed(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	s := newSink(&out, io.Discard, FormatJSON, s2c)
	if err := s.startRecording("", record.WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.event(msgEvent(1, s2c, inspect.OpText, "x"))
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "\n") != 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s stdout holds %q, want the header and the event", out.String())
		}
	}
}

// lockedBuffer is a bytes.Buffer written from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSinkLineModePrompt(t *testing.T) {
	t.Parallel()
	s, out, _ := testSink(FormatText, s2c, func(s *sink) {
		s.linePrefix, s.prompt, s.overPrompt, s.showControl = "< ", "> ", "\r\x1b[K", true
	})
	s.raw(s.prompt)
	if out.String() != "> " {
		t.Fatalf("raw prompt %q, want it written at once", out)
	}
	// No flush: each line goes out at once with the prompt redrawn.
	s.event(msgEvent(1, s2c, inspect.OpText, "msg"))
	s.event(msgEvent(1, c2s, inspect.OpText, "mine"))
	s.event(frameEvent(1, 2, s2c, inspect.OpPing, "p"))
	s.event(closeFrame(1, s2c, 1001, ""))
	want := "> " +
		"\r\x1b[K< msg\n> " +
		"\r\x1b[K< [ping] p\n> " +
		"\r\x1b[K< [close] 1001 Going Away\n> "
	if out.String() != want {
		t.Errorf("line mode\n got %q\nwant %q", out, want)
	}
}

func TestSinkLinePrefixWithoutPrompt(t *testing.T) {
	t.Parallel()
	// listen at a terminal: "< " and the connection, no prompt to redraw.
	s, out, _ := testSink(FormatText, c2s, func(s *sink) { s.linePrefix, s.showConn = "< ", true })
	s.event(msgEvent(4, c2s, inspect.OpText, "hi"))
	s.raw(s.prompt)
	if out.String() != "< [4] hi\n" {
		t.Errorf("stdout %q, want %q", out, "< [4] hi\n")
	}
}

func TestSinkFrames(t *testing.T) {
	t.Parallel()
	for _, showConn := range []bool{false, true} {
		t.Run(fmt.Sprint("showConn=", showConn), func(t *testing.T) {
			t.Parallel()
			s, out, errOut := testSink(FormatFrames, s2c, func(s *sink) { s.showConn = showConn })
			events := []*inspect.Event{
				openEvent(2),
				frameEvent(2, 1, c2s, inspect.OpText, "hello"),
				msgEvent(2, c2s, inspect.OpText, "hello"),
				withViolations(frameEvent(2, 2, s2c, inspect.OpBinary, "\x00\x01"), rsvViolation),
				msgEvent(2, s2c, inspect.OpBinary, "\x00\x01"),
				closeFrame(2, s2c, 1000, "bye"),
				{T: time.Second, Kind: inspect.KindEnd, Conn: 2, End: &inspect.End{Clean: true, Code: 1000, Closer: "server"}},
			}
			s.startRecording("", record.WriterOptions{}) // nothing outside json
			var want []byte
			for _, e := range events {
				s.event(e)
				if e.Kind != inspect.KindMsg {
					want = append(inspect.AppendLine(want, e, inspect.LineOptions{ShowConn: showConn}), '\n')
				}
			}
			s.flush()
			if out.String() != string(want) {
				t.Errorf("frames output\n got %q\nwant %q", out, want)
			}
			if n := strings.Count(out.String(), "\n"); n != 5 {
				t.Errorf("%d lines, want 5 (msg events skipped)", n)
			}
			if showConn != strings.Contains(out.String(), " #2 ") {
				t.Errorf("connection id shown=%v in %q", !showConn, out)
			}
			if errOut.Len() != 0 {
				t.Errorf("frames mode wrote %q on stderr; violations are on the line", errOut)
			}
		})
	}
}

func TestSinkJSONHeader(t *testing.T) {
	t.Parallel()
	for _, secrets := range []bool{false, true} {
		t.Run(fmt.Sprint("secrets=", secrets), func(t *testing.T) {
			t.Parallel()
			s, out, _ := testSink(FormatJSON, s2c, nil)
			before := time.Now()
			s.startRecording("", record.WriterOptions{Secrets: secrets})
			s.flush()
			line := out.String()
			if !strings.HasPrefix(line, `{"wsrec":1,`) || strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "}\n") {
				t.Fatalf("header line %q", line)
			}
			var h struct {
				Wsrec   int       `json:"wsrec"`
				Created time.Time `json:"created"`
				Tool    struct {
					Name, Version string
				} `json:"tool"`
				Source   string   `json:"source"`
				Lossy    bool     `json:"lossy"`
				Redacted []string `json:"redacted"`
			}
			if err := json.Unmarshal([]byte(line), &h); err != nil {
				t.Fatal(err)
			}
			if h.Wsrec != record.FormatVersion || h.Tool.Name != "wscope" || h.Tool.Version != Version || h.Source != "live" || h.Lossy {
				t.Errorf("header %+v", h)
			}
			if h.Created.Before(before.Add(-time.Second)) || h.Created.After(time.Now().Add(time.Second)) {
				t.Errorf("created %v, want about now", h.Created)
			}
			want := inspect.NewRedaction(nil).Names()
			if secrets {
				want = []string{}
			}
			if fmt.Sprint(h.Redacted) != fmt.Sprint(want) || h.Redacted == nil {
				t.Errorf("redacted %q, want %q", h.Redacted, want)
			}
		})
	}
}

func TestSinkJSONRedactsOpen(t *testing.T) {
	t.Parallel()
	secretValues := []string{"Basic c2VjcmV0", "session=s3cret", "Bearer pxy", "id=hidden"}
	for _, secrets := range []bool{false, true} {
		t.Run(fmt.Sprint("secrets=", secrets), func(t *testing.T) {
			t.Parallel()
			s, out, _ := testSink(FormatJSON, c2s, nil)
			s.startRecording("", record.WriterOptions{Secrets: secrets})
			out.Reset() // drop the header line
			e := openEvent(1)
			orig := *e.Open
			origReq := append([]inspect.HeaderField(nil), e.Open.Request.Headers...)
			origResp := append([]inspect.HeaderField(nil), e.Open.Response.Headers...)
			s.event(e)
			s.flush()
			got := out.String()
			if !json.Valid([]byte(got)) || !strings.HasPrefix(got, `{"t":0.000000,"ev":"open","conn":1,`) {
				t.Fatalf("open line %q", got)
			}
			for _, v := range secretValues {
				if strings.Contains(got, v) != secrets {
					t.Errorf("secret %q present=%v in %s", v, !secrets, got)
				}
			}
			for _, v := range []string{`["X-Trace","keep-me"]`, `["Host","127.0.0.1:8080"]`, `["Upgrade","websocket"]`} {
				if !strings.Contains(got, v) {
					t.Errorf("%s missing from %s", v, got)
				}
			}
			if !secrets {
				for _, v := range []string{`["Authorization","[redacted]"]`, `["cookie","[redacted]"]`, `["Proxy-Authorization","[redacted]"]`, `["Set-Cookie","[redacted]"]`} {
					if !strings.Contains(got, v) {
						t.Errorf("%s missing from %s", v, got)
					}
				}
			}
			// The event belongs to the caller: redaction works on a copy.
			if e.Open.URL != orig.URL || fmt.Sprint(e.Open.Request.Headers) != fmt.Sprint(origReq) || fmt.Sprint(e.Open.Response.Headers) != fmt.Sprint(origResp) {
				t.Errorf("the caller's open event was modified: %+v", e.Open)
			}
		})
	}
}

func TestSinkJSONEvents(t *testing.T) {
	t.Parallel()
	s, out, errOut := testSink(FormatJSON, s2c, nil)
	events := []*inspect.Event{
		frameEvent(1, 1, c2s, inspect.OpText, "hello"),
		msgEvent(1, c2s, inspect.OpText, "hello"),
		withViolations(frameEvent(1, 2, s2c, inspect.OpBinary, "\x00"), rsvViolation),
		msgEvent(1, s2c, inspect.OpBinary, "\x00"),
		closeFrame(1, s2c, 1000, ""),
		{T: time.Second, Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{Clean: true, Code: 1000, Closer: "client"}},
		{T: time.Second, Kind: inspect.KindError, Conn: 1, Text: "oops"},
	}
	var want []byte
	for _, e := range events {
		s.event(e)
		want = append(record.AppendEvent(want, e), '\n')
	}
	s.flush()
	if out.String() != string(want) {
		t.Errorf("json output\n got %s\nwant %s", out, want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not JSON: %s", i+1, line)
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("json mode wrote %q on stderr", errOut)
	}
}

// orderWriter records which stream each write went to, in order.
type orderWriter struct {
	mu  *sync.Mutex
	buf *strings.Builder
	tag string
}

func (w orderWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.buf, "%s%q ", w.tag, p)
	return len(p), nil
}

func TestSinkNoteFlushesFirst(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var b strings.Builder
	s := newSink(orderWriter{&mu, &b, "out:"}, orderWriter{&mu, &b, "err:"}, FormatText, s2c)
	s.event(msgEvent(1, s2c, inspect.OpText, "reply"))
	s.note("closed: %s", "1000")
	want := `out:"reply\n" err:"closed: 1000\n" `
	if b.String() != want {
		t.Errorf("writes %s, want %s", b.String(), want)
	}
}

func TestSinkConcurrent(t *testing.T) {
	t.Parallel()
	for _, format := range []string{FormatText, FormatFrames, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s, out, _ := testSink(format, c2s, func(s *sink) { s.showConn = true })
			var wg sync.WaitGroup
			for conn := 1; conn <= 8; conn++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						s.event(msgEvent(conn, c2s, inspect.OpText, fmt.Sprintf("m%d-%d", conn, i)))
						s.event(frameEvent(conn, uint64(i), c2s, inspect.OpText, "f"))
						if i%10 == 0 {
							s.flush()
						}
					}
				}()
			}
			wg.Wait()
			s.flush()
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			want := map[string]int{FormatText: 400, FormatFrames: 400, FormatJSON: 800}[format]
			if len(lines) != want {
				t.Fatalf("%d lines, want %d", len(lines), want)
			}
			for _, l := range lines {
				if format == FormatJSON && !json.Valid([]byte(l)) || format == FormatText && !strings.HasPrefix(l, "[") {
					t.Fatalf("torn line %q", l)
				}
			}
		})
	}
}

func TestSessionOptionsSink(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	o := validSession()
	o.Output, o.BinaryAs, o.ShowControl, o.RecordSecrets = FormatJSON, "hex", true, true
	s, err := o.sink(&IOStreams{Out: &out, ErrOut: &errOut}, c2s, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.format != FormatJSON || s.recvDir != c2s || s.binaryAs != "hex" || !s.showControl || s.json == nil || !s.showConn {
		t.Errorf("sink %+v does not follow the options", s)
	}
	if s.prompt != "" || s.linePrefix != "" {
		t.Errorf("prompt %q and prefix %q set outside the line mode", s.prompt, s.linePrefix)
	}
}

func TestValidFormat(t *testing.T) {
	t.Parallel()
	for _, f := range []string{FormatText, FormatFrames, FormatJSON} {
		if err := ValidFormat(f); err != nil {
			t.Errorf("ValidFormat(%q) = %v", f, err)
		}
	}
	wantUsage(t, ValidFormat("ndjson"), `"ndjson"`, "text, frames or json")
	for _, b := range []string{"base64", "hex", "raw"} {
		if err := ValidBinaryAs(b); err != nil {
			t.Errorf("ValidBinaryAs(%q) = %v", b, err)
		}
	}
	wantUsage(t, ValidBinaryAs("b64"), `"b64"`, "base64, hex or raw")
}
