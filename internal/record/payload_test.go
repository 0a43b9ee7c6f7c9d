package record

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// TestPayloadOnce: a batching Writer writes the payload of a message in
// one frame once, in its msg line ("payload":"msg" on the frame line), and
// the Reader gives the frame its payload back; everything else is as the
// unbatched Writer writes it.
func TestPayloadOnce(t *testing.T) {
	evs := allEvents(t)
	var plain, batched bytes.Buffer
	for _, c := range []struct {
		buf   *bytes.Buffer
		delay time.Duration
	}{{&plain, 0}, {&batched, time.Hour}} {
		w, err := NewWriter(c.buf, inspect.RecordingHeader{Created: testStart}, WriterOptions{MaxDelay: c.delay})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(batched.String(), `"payload":"msg"`); n == 0 {
		t.Fatalf("no frame left its payload to its msg:\n%s", batched.String())
	}
	if batched.Len() >= plain.Len() {
		t.Errorf("batched recording %d bytes, unbatched %d", batched.Len(), plain.Len())
	}
	// Read back, both are the same events.
	a, b := readBack(t, plain.Bytes()), readBack(t, batched.Bytes())
	if len(a) != len(b) {
		t.Fatalf("%d events unbatched, %d batched", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("event %d:\n unbatched %s\n batched   %s", i, a[i], b[i])
		}
	}
}

// readBack reads a recording and writes each event again, unbatched.
func readBack(t *testing.T, data []byte) [][]byte {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, AppendEvent(nil, e))
	}
}

// TestPayloadInMsgWithoutItsMsg: a frame line that says its payload is in
// the msg line after it, when that line is not its msg, reads as a
// truncated frame, and the line after is read as it is.
func TestPayloadInMsgWithoutItsMsg(t *testing.T) {
	const frame = `{"t":0.1,"ev":"frame","conn":1,"seq":1,"dir":"s2c","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"op":"text","masked":false,"len":5,"payload":"msg"}`
	for _, next := range []string{
		`{"t":0.1,"ev":"msg","conn":1,"dir":"s2c","op":"text","frames":[2],"deflated":false,"text":"other"}`,
		`{"t":0.1,"ev":"mark","conn":1,"text":"m"}`,
		``,
	} {
		in := `{"wsrec":1,"created":"2026-01-01T00:00:00Z","tool":{"name":"wscope","version":"x"},"source":"live","lossy":false,"redacted":[]}` + "\n" + frame + "\n" + next
		r, err := NewReader(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		e, err := r.Next()
		if err != nil || e.Kind != inspect.KindFrame || len(e.Frame.Payload) != 0 || e.Frame.Length != 5 {
			t.Fatalf("next %q: frame %+v, %v", next, e, err)
		}
		e, err = r.Next()
		switch {
		case next == "" && err != io.EOF:
			t.Errorf("after the frame: %v, %v, want io.EOF", e, err)
		case next != "" && (err != nil || !strings.Contains(next, `"ev":"`+e.Kind.String()+`"`)):
			t.Errorf("after the frame: %v, %v, want %s", e, err, next)
		}
	}
}
