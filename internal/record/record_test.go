package record

import (
	"bytes"
	"errors"
	goflag "flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

var update = goflag.Bool("update", false, "rewrite the golden files under testdata/")

func TestRoundTripEveryEventKind(t *testing.T) {
	evs := allEvents(t)
	data := record(t, evs, WriterOptions{Secrets: true})
	r, got := readAll(t, data)
	if len(got) != len(evs) {
		t.Fatalf("read %d events, wrote %d", len(got), len(evs))
	}
	for i := range evs {
		if d := sameEvent(evs[i], got[i]); d != "" {
			t.Errorf("event %d (%s): %s", i, evs[i].Kind, d)
		}
	}
	h := r.Header()
	if h.Tool != "wscope" || h.Version != "test" || h.Source != "live" || h.Lossy || !h.Created.Equal(testStart) || len(h.Redacted) != 0 {
		t.Errorf("header = %+v", h)
	}
	if len(r.Warnings()) != 0 || r.Skipped() != 0 {
		t.Errorf("warnings %q, skipped %d", r.Warnings(), r.Skipped())
	}
	// Writing what was read gives the same bytes.
	if again := record(t, got, WriterOptions{Secrets: true}); !bytes.Equal(again, data) {
		t.Errorf("rewriting changed the recording:\n%s\n%s", head(data), head(again))
	}
}

// A frame read back rebuilds the exact wire bytes: Raw then the masked
// payload.
func TestFrameWireBytesSurvive(t *testing.T) {
	hs := []inspect.Header{
		{Fin: true, Op: inspect.OpText},
		{Fin: true, Op: inspect.OpText, Masked: true, Mask: testKey},
		{Fin: false, Op: inspect.OpBinary, Masked: true, Mask: [4]byte{0, 0, 0, 0}},
		{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len16},
		{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Masked: true, Mask: testKey},
		{Fin: true, Rsv: 7, Op: 0x3},
		{Fin: true, Rsv: inspect.Rsv2, Op: 0xF, Masked: true, Mask: testKey},
		{Fin: false, Op: inspect.OpPing, LenEnc: inspect.Len16},
		{Fin: true, Op: inspect.OpClose, Masked: true, Mask: testKey},
	}
	payloads := [][]byte{nil, []byte("x"), []byte("hello, world"), bytes.Repeat([]byte{0xAB}, 126), bytes.Repeat([]byte("é"), 40000)}
	var evs []*inspect.Event
	var wires [][]byte
	for _, h := range hs {
		for _, p := range payloads {
			h := h
			h.Length = uint64(len(p))
			if h.LenEnc == inspect.Len16 && h.Length > 0xFFFF {
				continue
			}
			w := wireFrame(h, p)
			dir := s2c
			if h.Masked {
				dir = c2s
			}
			f := dissect(t, uint64(len(evs)+1), dir, w)
			evs = append(evs, &inspect.Event{T: time.Duration(len(evs)) * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: f})
			wires = append(wires, w)
		}
	}
	_, got := readAll(t, record(t, evs, WriterOptions{}))
	for i, e := range got {
		f := e.Frame
		rebuilt := append(append([]byte(nil), f.Raw...), f.MaskedPayload()...)
		if !bytes.Equal(rebuilt, wires[i]) {
			t.Errorf("frame %d: rebuilt % x\nwant % x", i, head(rebuilt), head(wires[i]))
		}
		if d := sameEvent(evs[i], e); d != "" {
			t.Errorf("frame %d: %s", i, d)
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestGolden(t *testing.T) {
	evs := allEvents(t)
	// The 70000-byte frame would make the golden file unreadable.
	evs = append(evs[:12], evs[13:]...)
	data := record(t, evs, WriterOptions{})
	path := filepath.Join("testdata", "events.golden.jsonl")
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("output differs from %s (run go test -update if intended)", path)
	}
	// And the golden file reads back as the events.
	_, got := readAll(t, want)
	if len(got) != len(evs) {
		t.Fatalf("%d events, want %d", len(got), len(evs))
	}
	for i := range got {
		want := evs[i]
		want = inspect.NewRedaction(nil).Event(want)
		if d := sameEvent(want, got[i]); d != "" {
			t.Errorf("event %d: %s", i, d)
		}
	}
}

func TestTruncatedLastLineIsAWarning(t *testing.T) {
	data := record(t, allEvents(t)[:3], WriterOptions{})
	lines := strings.SplitAfter(string(data), "\n")
	for cut := 1; cut < len(lines[3]); cut += 7 {
		in := strings.Join(lines[:3], "") + lines[3][:cut]
		r, err := NewReader(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("cut %d: %v", cut, err)
			}
			n++
		}
		if n != 2 {
			t.Errorf("cut %d: %d events, want 2", cut, n)
		}
		if w := r.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "line 4: truncated last line") {
			t.Errorf("cut %d: warnings %q", cut, w)
		}
	}
	// A complete last line without its newline is read normally.
	in := strings.TrimSuffix(string(data), "\n")
	r, got := readAll(t, []byte(in))
	if len(got) != 3 || len(r.Warnings()) != 0 {
		t.Errorf("%d events, warnings %q", len(got), r.Warnings())
	}
}

func TestGarbageLineNamesTheLine(t *testing.T) {
	data := record(t, allEvents(t)[:4], WriterOptions{})
	lines := strings.SplitAfter(string(data), "\n")
	in := strings.Join(lines[:3], "") + "{\"t\":1.0,\"ev\":\"msg\",garbage\n" + strings.Join(lines[3:], "")
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var events int
	var errs []error
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue // the reader goes on after a bad line
		}
		events++
	}
	if events != 4 || len(errs) != 1 {
		t.Fatalf("%d events, errors %v", events, errs)
	}
	var le *LineError
	if !errors.As(errs[0], &le) || le.Line != 4 {
		t.Fatalf("error %v, want a *LineError for line 4", errs[0])
	}
	want := `line 4: invalid JSON: invalid character 'g' looking for beginning of object key string (column 21)`
	if errs[0].Error() != want {
		t.Errorf("error\n%s\nwant\n%s", errs[0], want)
	}
}

const hdr = `{"wsrec":1,"created":"2026-03-14T15:09:26.535897Z","tool":{"name":"wscope","version":"test"},"source":"live","lossy":false,"redacted":[]}` + "\n"

func TestLineErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`not json`, `line 2: invalid JSON: invalid character 'o' in literal null (expecting 'u') (column 2)`},
		{`[1,2]`, `line 2: not a JSON object`},
		{`{"t":1,"conn":1}`, `line 2: event without "ev"`},
		{`{"t":1,"ev":"frame","conn":1,"seq":1,"op":"text","fin":true,"masked":false,"len":0,"text":""}`, `line 2: frame event without "dir"`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","fin":true,"masked":false,"len":0,"text":""}`, `line 2: frame event without "op"`},
		{`{"t":1,"ev":"msg","conn":1,"op":"text","frames":[],"deflated":false,"text":""}`, `line 2: msg event without "dir"`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"up","op":"text"}`, `line 2: "dir": unknown direction "up" (want c2s or s2c)`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"word"}`, `line 2: "op": unknown opcode "word" (want cont, text, binary, close, ping, pong or 0x0-0xF)`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","masked":true,"text":"a"}`, `line 2: masked frame without "mask"`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","masked":true,"mask":"xyz","text":"a"}`, `line 2: "mask": "xyz" is not 8 hex digits`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","len":1,"text":"ab"}`, `line 2: frame payload has 2 bytes, more than its "len" of 1`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","len":300,"len_enc":7,"text":""}`, `line 2: "len_enc": 7 bits cannot hold a length of 300`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","len_enc":8,"text":""}`, `line 2: "len_enc": 8 is not 7, 16 or 64`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","text":"a","b64":"YQ=="}`, `line 2: frame event with both "text" and "b64"`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"binary","b64":"!!"}`, `line 2: "b64": illegal base64 data at input byte 0`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","fin":"yes"}`, `line 2: "fin": want true or false`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"text","seq":-1}`, `line 2: "seq": -1 is not an integer from 0 to 18446744073709551615`},
		{`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"close","close":{"code":70000}}`, `line 2: "close.code": 70000 is not an integer from 0 to 65535`},
		{`{"t":"soon","ev":"mark","conn":1}`, `line 2: "t": want a number of seconds`},
		{`{"t":1,"ev":"mark","conn":1.5}`, `line 2: "conn": 1.5 is not an integer`},
		{`{"t":1,"ev":"msg","conn":1,"dir":"c2s","op":"text","frames":["a"]}`, `line 2: "frames": want a non-negative integer`},
		{`{"t":1,"ev":"open","conn":1,"request":{"headers":[["Host"]]}}`, `line 2: "request.headers": want an array of [name, value] pairs, got 1 strings`},
		{`{"t":1,"ev":"open","conn":1,"start":"yesterday"}`, `line 2: "start": "yesterday" is not an RFC 3339 time`},
		{`{"t":1,"ev":"mark","conn":1,"ev":"note"}`, `line 2: two "ev" keys: "mark" and "note"`},
		{hdr[:len(hdr)-1], `line 2: a second recording header: were two recordings concatenated?`},
		{`{"t":1,"ev":"mark","conn":1} x`, `line 2: invalid JSON: invalid character 'x' after top-level value (column 30)`},
		{`{"t":1,"ev":"mark","conn":1,"text":"\x"}`, `line 2: invalid JSON: invalid character 'x' in string escape code (column 38)`},
		{`{"t":1,"ev":"nonsense","conn":1,"x":[1,2,}`, `line 2: invalid JSON: invalid character '}' looking for beginning of value (column 42)`},
	} {
		r, err := NewReader(strings.NewReader(hdr + tc.line + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Next()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got: %v\nwant: %s", tc.line, err, tc.want)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `not a wscope recording: the input is empty`},
		{`{"wsrec":2,"created":"2030-01-01T00:00:00Z"}` + "\n", `recording format version 2 is newer than this wscope understands (1)`},
		{`{"wsrec":10.5}` + "\n", `recording format version 10.5 is newer than this wscope understands (1)`},
		{`{"wsrec":0}` + "\n", `not a wscope recording: line 1: "wsrec": 0 is not a format version`},
		{`{"wsrec":"1"}` + "\n", `not a wscope recording: line 1: "wsrec": want a number`},
		{`{"t":0.1,"ev":"msg","conn":1}` + "\n", `not a wscope recording: line 1: the first line is a "msg" event, not the {"wsrec":1,...} header`},
		{`{"log":{"version":"1.2"}}`, `not a wscope recording: line 1: this looks like a HAR file, not a recording`},
		{`{"hello":"world"}` + "\n", `not a wscope recording: line 1: the first line has no "wsrec" key: it is not the {"wsrec":1,...} header`},
		{"\x89PNG\r\n", `not a wscope recording: line 1: invalid JSON: invalid character '\u0089' looking for beginning of value (column 1)`},
		{`{"wsrec":1,`, `not a wscope recording: line 1: invalid JSON: unexpected end of JSON input (column 12)`},
		{`{"wsrec":1,"created":"noon"}`, `not a wscope recording: line 1: "created": "noon" is not an RFC 3339 time`},
	} {
		_, err := NewReader(strings.NewReader(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q\n got: %v\nwant: %s", tc.in, err, tc.want)
		}
	}
	_, err := NewReader(strings.NewReader(`{"wsrec":2}`))
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != "2" {
		t.Errorf("err = %#v, want a *VersionError", err)
	}
}

// Later versions may add keys and event kinds: this one ignores them.
func TestUnknownKeysAndEventsAreIgnored(t *testing.T) {
	in := `{"wsrec":1.4,"created":"2026-03-14T15:09:26Z","tool":{"name":"wscope","version":"9","build":"x"},"source":"live","lossy":false,"redacted":["Cookie"],"future":{"a":[1,{"b":null}]}}` + "\n" +
		`{"t":0.5,"ev":"hologram","conn":1,"data":[1,2,3]}` + "\n" +
		"\n" +
		`{"t":1.000001,"ev":"msg","conn":3,"dir":"s2c","op":"text","frames":[4],"deflated":false,"text":"hi","lang":"en","extra":{"deep":[[[]]]},"violations":[{"rule":"new-rule","section":"RFC 9999 1","msg":"m","severity":"low"}]}` + "\r\n" +
		`{"ev":"frame","t":2,"dir":"c2s","conn":3,"op":"ping","masked":true,"mask":"00ff00ff","fin":true,"seq":5,"color":"red","close":null,"b64":"AQI="}` + "\n" +
		`{"t":3,"ev":"end","conn":3,"clean":false,"code":1006,"name":"Abnormal Closure","reason":"","closer":"","tcp":"reset","rtt":[1,2]}` + "\n"
	r, got := readAll(t, []byte(in))
	if r.Skipped() != 1 {
		t.Errorf("skipped %d, want 1", r.Skipped())
	}
	h := r.Header()
	if h.Version != "9" || len(h.Redacted) != 1 || h.Redacted[0] != "Cookie" {
		t.Errorf("header %+v", h)
	}
	if len(got) != 3 {
		t.Fatalf("%d events", len(got))
	}
	m := got[0]
	if m.T != time.Second+time.Microsecond || m.Conn != 3 || string(m.Msg.Payload) != "hi" || m.Msg.Frames[0] != 4 ||
		m.Msg.Violations[0].Rule != "new-rule" || m.Msg.WireLen != 2 {
		t.Errorf("msg %+v %+v", m, m.Msg)
	}
	f := got[1].Frame
	if f.Op != inspect.OpPing || !f.Masked || f.Mask != [4]byte{0, 0xff, 0, 0xff} || f.Length != 2 || f.LenEnc != inspect.Len7 || !bytes.Equal(f.Raw, []byte{0x89, 0x82, 0, 0xff, 0, 0xff}) {
		t.Errorf("frame %+v raw % x", f, f.Raw)
	}
	if e := got[2].End; e.Code != 1006 || e.TCP != "reset" {
		t.Errorf("end %+v", e)
	}
}

func TestLineLimit(t *testing.T) {
	long := `{"t":1,"ev":"note","conn":1,"text":"` + strings.Repeat("a", 5000) + `"}`
	in := hdr + long + "\n" + `{"t":2,"ev":"mark","conn":1,"text":"after"}` + "\n" + long
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	r.SetMaxLineSize(1000)
	_, err = r.Next()
	if err == nil || err.Error() != "line 2: longer than 1000 bytes: skipped" {
		t.Fatalf("err = %v", err)
	}
	e, err := r.Next()
	if err != nil || e.Text != "after" || r.Line() != 3 {
		t.Fatalf("after the long line: %v %v line %d", e, err, r.Line())
	}
	if _, err = r.Next(); err == nil || !strings.HasPrefix(err.Error(), "line 4: longer") {
		t.Fatalf("err = %v", err)
	}
	if _, err = r.Next(); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}
}

func TestWriterRedactsUnlessSecrets(t *testing.T) {
	open := &inspect.Event{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{URL: "ws://x/", Start: testStart,
		Request: inspect.Request{Method: "GET", Headers: []inspect.HeaderField{
			{Name: "Host", Value: "x"}, {Name: "authorization", Value: "Bearer secret-token"}, {Name: "Cookie", Value: "sid=secret"}}},
		Response: inspect.Response{Status: 101, Headers: []inspect.HeaderField{{Name: "Set-Cookie", Value: "sid=secret2"}}}}}
	orig := CloneEvent(open)

	data := record(t, []*inspect.Event{open}, WriterOptions{})
	if _, events, _ := bytes.Cut(data, []byte("\n")); bytes.Contains(events, []byte("secret")) {
		t.Errorf("credentials leaked:\n%s", data)
	}
	if sameEvent(open, orig) != "" {
		t.Error("Write modified the caller's event")
	}
	r, got := readAll(t, data)
	if want := inspect.NewRedaction(nil).Names(); strings.Join(r.Header().Redacted, ",") != strings.Join(want, ",") {
		t.Errorf("redacted = %q, want %q", r.Header().Redacted, want)
	}
	hs := got[0].Open.Request.Headers
	if hs[0].Value != "x" || hs[1].Value != inspect.Redacted || hs[2].Value != inspect.Redacted || got[0].Open.Response.Headers[0].Value != inspect.Redacted {
		t.Errorf("headers %+v %+v", hs, got[0].Open.Response.Headers)
	}

	data = record(t, []*inspect.Event{open}, WriterOptions{Secrets: true})
	r, got = readAll(t, data)
	if len(r.Header().Redacted) != 0 || got[0].Open.Request.Headers[1].Value != "Bearer secret-token" {
		t.Errorf("with secrets: %s", data)
	}
}

// countingWriter records each Write call.
type countingWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, append([]byte(nil), p...))
	c.mu.Unlock()
	return len(p), nil
}

// TestWriterWholeLinesConcurrently: whatever the batching, every Write
// call carries whole lines, and every event is written once.
func TestWriterWholeLinesConcurrently(t *testing.T) {
	for _, delay := range []time.Duration{0, DefaultMaxDelay} {
		cw := &countingWriter{}
		w, err := NewWriter(cw, inspect.RecordingHeader{}, WriterOptions{MaxDelay: delay})
		if err != nil {
			t.Fatal(err)
		}
		evs := allEvents(t)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, e := range evs {
					if err := w.Write(e); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		lines := 0
		for i, p := range cw.writes {
			if len(p) == 0 || p[len(p)-1] != '\n' {
				t.Fatalf("delay %v: write %d does not end a line: %q", delay, i, head(p))
			}
			lines += bytes.Count(p, []byte("\n"))
		}
		if lines != 1+8*len(evs) {
			t.Fatalf("delay %v: %d lines, want %d", delay, lines, 1+8*len(evs))
		}
		if delay > 0 && len(cw.writes) > 1+8*len(evs)/2 {
			t.Errorf("delay %v: %d writes for %d lines: not batched", delay, len(cw.writes), lines)
		}
		h := w.Header()
		if h.Tool != "wscope" || h.Source != "live" || h.Created.IsZero() {
			t.Errorf("defaults not filled: %+v", h)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterErrorsStick(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 1}, inspect.RecordingHeader{}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &inspect.Event{Kind: inspect.KindMark, Text: "x"}
	if err := w.Write(e); err == nil || err.Error() != "disk full" {
		t.Fatalf("err = %v", err)
	}
	if err := w.Write(e); err == nil || err.Error() != "disk full" {
		t.Fatalf("second err = %v", err)
	}
	if _, err := NewWriter(&failWriter{}, inspect.RecordingHeader{}, WriterOptions{}); err == nil {
		t.Fatal("NewWriter: header write error not reported")
	}
	// Batched, the error comes back from the next call after the write.
	bw, err := NewWriter(&failWriter{n: 1}, inspect.RecordingHeader{}, WriterOptions{MaxDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.Write(e); err != nil {
		t.Fatalf("batched Write: %v before anything was written", err)
	}
	if err := bw.Flush(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Flush: %v", err)
	}
	if err := bw.Write(e); err == nil || err.Error() != "disk full" {
		t.Fatalf("Write after a failed batch: %v", err)
	}
	if err := bw.Close(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Close after a failed batch: %v", err)
	}
}

func TestCreateAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.wsrec.jsonl")
	if err := os.WriteFile(path, []byte("old content that must go away\n\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, inspect.RecordingHeader{Version: "v"}, WriterOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range allEvents(t)[:5] {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&inspect.Event{Kind: inspect.KindMark}); err == nil {
		t.Error("write after Close succeeded")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, got := readAll(t, data); len(got) != 5 {
		t.Errorf("%d events", len(got))
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir"), inspect.RecordingHeader{}, WriterOptions{}); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

func TestCloneEventSharesNothing(t *testing.T) {
	for i, e := range allEvents(t) {
		c := CloneEvent(e)
		if d := sameEvent(e, c); d != "" {
			t.Fatalf("event %d: clone differs: %s", i, d)
		}
		// Scribble over the clone; the original must not change.
		orig := CloneEvent(e)
		if c.Frame != nil {
			fill(c.Frame.Raw)
			fill(c.Frame.Payload)
			if c.Frame.Close != nil {
				c.Frame.Close.Reason = "changed"
			}
			for j := range c.Frame.Violations {
				c.Frame.Violations[j].Message = "changed"
			}
		}
		if c.Msg != nil {
			fill(c.Msg.Payload)
			for j := range c.Msg.Frames {
				c.Msg.Frames[j] = 999
			}
		}
		if c.Open != nil {
			for j := range c.Open.Request.Headers {
				c.Open.Request.Headers[j].Value = "changed"
			}
			for j := range c.Open.Extensions {
				for k := range c.Open.Extensions[j].Params {
					c.Open.Extensions[j].Params[k].Value = "changed"
				}
			}
			if c.Open.TLS != nil {
				c.Open.TLS.SNI = "changed"
			}
		}
		if c.End != nil {
			c.End.Reason = "changed"
		}
		if d := sameEvent(e, orig); d != "" {
			t.Errorf("event %d: changing the clone changed the original: %s", i, d)
		}
	}
	if CloneEvent(nil) != nil {
		t.Error("CloneEvent(nil) != nil")
	}
}

func fill(b []byte) {
	for i := range b {
		b[i] ^= 0x55
	}
}

// The reader reuses its event: what Next returned before is overwritten,
// which is why CloneEvent exists.
func TestNextReusesTheEvent(t *testing.T) {
	r, err := NewReader(bytes.NewReader(record(t, allEvents(t)[1:3], WriterOptions{})))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.Next()
	b, _ := r.Next()
	if a != b {
		t.Error("Next returned a new event: update the documentation")
	}
}

func TestSniff(t *testing.T) {
	rec := record(t, allEvents(t)[:2], WriterOptions{})
	for _, tc := range []struct {
		head []byte
		want Format
	}{
		{rec, FormatRecording},
		{rec[:20], FormatRecording},
		{[]byte(`{"t":0.1,"ev":"msg"}`), FormatRecording},
		{[]byte("\xef\xbb\xbf\n  {\n  \"log\": {\n    \"version\": \"1.2\""), FormatHAR},
		{[]byte(`{"log":{"entries":[{"_webSocketMessages":[{"data":"{\"wsrec\":1}"}]}]}}`), FormatHAR},
		{[]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, FormatPcap},
		{[]byte{0xa1, 0xb2, 0xc3, 0xd4}, FormatPcap},
		{[]byte{0xa1, 0xb2, 0x3c, 0x4d}, FormatPcap},
		{[]byte{0x4d, 0x3c, 0xb2, 0xa1}, FormatPcap},
		{[]byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0}, FormatPcap},
		{[]byte("GET / HTTP/1.1\r\n"), FormatUnknown},
		{[]byte(`{"hello":1}`), FormatUnknown},
		{nil, FormatUnknown},
	} {
		if got := Sniff(tc.head); got != tc.want {
			t.Errorf("Sniff(%q) = %v, want %v", head(tc.head), got, tc.want)
		}
	}
}

// Recordings made by the wscope binary (testdata/README.md) read back,
// and writing what was read reproduces every event line byte for byte.
func TestLiveRecordings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events int
	}{
		{"connect-echo.wsrec.jsonl", 12},
		{"connect-crafted.wsrec.jsonl", 24},
		{"listen-echo.wsrec.jsonl", 20},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", tc.name))
		if err != nil {
			t.Fatal(err)
		}
		r, evs := readAll(t, data)
		if len(evs) != tc.events || len(r.Warnings()) != 0 || r.Skipped() != 0 {
			t.Errorf("%s: %d events, warnings %q, skipped %d", tc.name, len(evs), r.Warnings(), r.Skipped())
		}
		if h := r.Header(); h.Tool != "wscope" || h.Source != "live" || len(h.Redacted) != 4 {
			t.Errorf("%s: header %+v", tc.name, h)
		}
		_, body, _ := bytes.Cut(data, []byte("\n"))
		var again []byte
		for _, e := range evs {
			again = append(AppendEvent(again, e), '\n')
		}
		if !bytes.Equal(bytes.TrimSuffix(body, []byte("\n")), bytes.TrimSuffix(again, []byte("\n"))) {
			t.Errorf("%s: rewriting changed it:\n%s", tc.name, again)
		}
	}
}

// Beyond the credential headers: tokens in the query, API key headers,
// the Kubernetes bearer subprotocol and names added with Redact.
func TestWriterRedactsQueryKeysAndSubprotocolTokens(t *testing.T) {
	bearer := inspect.BearerSubprotocol + "dG9rLXN1YnByb3Rv"
	open := &inspect.Event{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{
		URL: "wss://x/ws?room=1&access_token=tok-url&tenant=tok-tenant", Start: testStart,
		Request: inspect.Request{Method: "GET", Target: "/ws?room=1&access_token=tok-url&tenant=tok-tenant", Headers: []inspect.HeaderField{
			{Name: "X-Api-Key", Value: "tok-key"}, {Name: "x-auth-token", Value: "tok-auth"}, {Name: "X-Tenant", Value: "tok-hdr"},
			{Name: "Sec-WebSocket-Protocol", Value: bearer + ", v4.channel.k8s.io"}}},
		Response:    inspect.Response{Status: 101, Headers: []inspect.HeaderField{{Name: "Sec-WebSocket-Protocol", Value: bearer}}},
		Subprotocol: bearer}}
	data := record(t, []*inspect.Event{open}, WriterOptions{Redact: []string{"x-tenant", "tenant"}})
	header, events, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Contains(events, []byte("tok-")) || bytes.Contains(events, []byte("dG9r")) {
		t.Errorf("secrets recorded:\n%s", events)
	}
	for _, want := range []string{`"X-Api-Key"`, `"?access_token"`, `"x-tenant"`, `"?tenant"`, `"` + inspect.BearerSubprotocol + `*"`} {
		if !bytes.Contains(header, []byte(want)) {
			t.Errorf("header line does not list %s: %s", want, header)
		}
	}
	_, got := readAll(t, data)
	o := got[0].Open
	if o.URL != "wss://x/ws?room=1&access_token=[redacted]&tenant=[redacted]" || o.Subprotocol != inspect.BearerSubprotocol+inspect.Redacted ||
		o.Request.Headers[3].Value != inspect.BearerSubprotocol+inspect.Redacted+", v4.channel.k8s.io" {
		t.Errorf("open %+v", o)
	}
	data = record(t, []*inspect.Event{open}, WriterOptions{Secrets: true, Redact: []string{"tenant"}})
	if !bytes.Contains(data, []byte("tok-tenant")) || !bytes.Contains(data, []byte(bearer)) || !bytes.Contains(data, []byte(`"redacted":[]`)) {
		t.Errorf("with secrets:\n%s", data)
	}
}

// What decoders read (a msg's "decoded", an open's "decoder") is read
// back as written.
func TestDecodedRoundTrip(t *testing.T) {
	o := &inspect.Open{URL: "ws://h/", Role: inspect.RoleClient, Decoder: "socketio", DecoderWhy: "URL path /socket.io/ with EIO=4"}
	m := &inspect.Message{Dir: inspect.ClientToServer, Op: inspect.OpText, Frames: []uint64{1}, Payload: []byte(`4212["chat",{"a":[1,2]}]`), Decoded: []inspect.Decoded{
		{Protocol: "sio", Type: "event", Summary: `sio event "chat"`, Op: "chat", Corr: "ack c2s / 12", CorrRole: inspect.CorrRequest,
			Fields: []inspect.DecodedField{{Key: "ns", Value: "/"}, {Key: "data", Value: `["chat",{"a":[1,2]}]`, JSON: true}, {Key: "n", Value: "12", JSON: true}}},
		{Protocol: "sio", Type: "error", Summary: "sio ?? bad", Err: "bad", Fields: nil},
	}}
	var lines []byte
	for _, e := range []*inspect.Event{{Kind: inspect.KindOpen, Conn: 1, Open: o}, {Kind: inspect.KindMsg, Conn: 1, Msg: m}} {
		lines = append(AppendEvent(lines, e), '\n')
	}
	r, err := NewReader(strings.NewReader(hdr + string(lines)))
	if err != nil {
		t.Fatal(err)
	}
	var again []byte
	for e, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		again = append(AppendEvent(again, e), '\n')
	}
	if string(again) != string(lines) {
		t.Errorf("read back:\n%s\nwritten:\n%s", again, lines)
	}
}
