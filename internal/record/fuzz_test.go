package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

func addRecordingSeeds(f *testing.F) {
	for _, name := range []string{"testdata/events.golden.jsonl", "testdata/chrome.golden.jsonl"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		_, body, _ := bytes.Cut(data, []byte("\n"))
		f.Add(body)
		for _, line := range bytes.Split(body, []byte("\n")) {
			f.Add(line)
		}
	}
	for _, s := range []string{
		`{"t":1,"ev":"frame","conn":1,"dir":"c2s","op":"0x3","masked":true,"mask":"01020304","len":65536,"len_enc":64,"b64":"AAEC"}`,
		`{"t":1e3,"ev":"msg","conn":-1,"dir":"client","op":"2","frames":[1,null,2],"b64":"A\/8="}`,
		`{"t":1,"ev":"open","conn":1,"tls":null,"request":{"headers":[["a","\ud83d\ude00\ud800"]]},"extensions":[{"params":[["x",""]]},null]}`,
		`{"\u0065v":"note","text":"\u00e9\ud800x"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		`{"t":1,"ev":"x","a":{"b":[{"c":[]},{}]}}`,
		"{\"t\":1,\"ev\":\"mark\",\"text\":\"\xff\xfe\"}",
	} {
		f.Add([]byte(s))
	}
}

// FuzzReader feeds arbitrary bytes after a valid header. The reader must
// not panic, must keep its allocations within the line limit, and every
// event it returns must survive being written and read again.
func FuzzReader(f *testing.F) {
	addRecordingSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := NewReader(io.MultiReader(strings.NewReader(hdr), bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		r.SetMaxLineSize(1 << 16)
		for i := 0; ; i++ {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			checkRewrite(t, e)
		}
	})
}

// checkRewrite writes e and reads it back.
func checkRewrite(t *testing.T, e *inspect.Event) {
	t.Helper()
	line := AppendEvent(nil, e)
	r, err := NewReader(io.MultiReader(strings.NewReader(hdr), bytes.NewReader(line)))
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.Next()
	if err != nil {
		t.Fatalf("rewritten line %s: %v", line, err)
	}
	a, b := CloneEvent(e), CloneEvent(back)
	tol := max(2*time.Microsecond, time.Duration(float64(absDur(a.T))*1e-15))
	if absDur(a.T-b.T) > tol {
		t.Fatalf("T %v became %v", a.T, b.T)
	}
	a.T, b.T = 0, 0
	if d := sameEvent(a, b); d != "" {
		t.Fatalf("rewritten line %s: %s", line, d)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// FuzzLine checks the scanner against encoding/json: a line the standard
// library rejects is never accepted, a line rejected as invalid JSON is
// invalid for the standard library too.
func FuzzLine(f *testing.F) {
	addRecordingSeeds(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.ContainsAny(line, "\n") {
			return
		}
		r, err := NewReader(strings.NewReader(hdr + string(line) + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := r.Next()
		valid := json.Valid(line)
		blank := len(bytes.Trim(line, " \t\r")) == 0
		switch {
		case blank:
			if err != io.EOF {
				t.Fatalf("blank line: %v %v", e, err)
			}
		case err == nil || err == io.EOF: // accepted, or skipped as an unknown kind
			if !valid {
				t.Fatalf("accepted invalid JSON %q", line)
			}
			if e != nil {
				checkRewrite(t, e)
			}
		default:
			var se *syntaxError
			if errors.As(err, &se) || strings.Contains(err.Error(), "invalid JSON") {
				if valid {
					t.Fatalf("valid JSON %q rejected: %v", line, err)
				}
			}
		}
		// The header parser too.
		_, herr := NewReader(bytes.NewReader(line))
		if herr == nil && !valid {
			t.Fatalf("header %q accepted but invalid JSON", line)
		}
		if herr != nil && strings.Contains(herr.Error(), "invalid JSON") && valid {
			t.Fatalf("valid JSON header %q rejected: %v", line, herr)
		}
	})
}

// FuzzReadHAR: arbitrary bytes as a HAR file never panic, and whatever
// imports can be written as a recording and read back.
func FuzzReadHAR(f *testing.F) {
	for _, name := range []string{"testdata/chrome.har", "testdata/firefox.har"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(harOf(`{"_resourceType":"websocket","request":{"url":"ws://h/"},"_webSocketMessages":[{"type":"send","time":1e20,"opcode":8,"data":"A"},{"type":"receive","time":"2024-01-01T00:00:00Z","opcode":"ping","data":""}]}`))
	f.Add(harOf(`{"request":{"url":"http://h/","headers":[{"name":"Upgrade","value":"websocket"}]},"response":{"status":101}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hr, err := NewHARReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, hr.Header(), WriterOptions{Secrets: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			e, err := hr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
			n++
		}
		r, err := NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if _, err := r.Next(); err != nil {
				t.Fatalf("event %d of the import: %v", i, err)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the import: %v", err)
		}
	})
}
