package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// checkChromeFields checks a HAR against what Chrome DevTools' importer
// (front_end/models/har/HARFormat.ts and Importer.ts) reads: it throws on
// a missing object, a date that does not parse or a number that is NaN,
// and it keeps a WebSocket message only with a time, an opcode, data and
// a type of send, receive or error. It returns the entries.
func checkChromeFields(t *testing.T, doc []byte) []map[string]any {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	obj := func(m map[string]any, path, k string) map[string]any {
		v, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("%s.%s is %T, want an object", path, k, m[k])
		}
		return v
	}
	num := func(m map[string]any, path string, ks ...string) {
		for _, k := range ks {
			if _, ok := m[k].(float64); !ok {
				t.Errorf("%s.%s is %T (%v), want a number", path, k, m[k], m[k])
			}
		}
	}
	str := func(m map[string]any, path string, ks ...string) {
		for _, k := range ks {
			if _, ok := m[k].(string); !ok {
				t.Errorf("%s.%s is %T, want a string", path, k, m[k])
			}
		}
	}
	arr := func(m map[string]any, path string, ks ...string) {
		for _, k := range ks {
			if _, ok := m[k].([]any); !ok {
				t.Errorf("%s.%s is %T, want an array", path, k, m[k])
			}
		}
	}
	log := obj(root, "", "log")
	str(log, "log", "version")
	str(obj(log, "log", "creator"), "log.creator", "name", "version")
	arr(log, "log", "pages", "entries")
	var entries []map[string]any
	list, _ := log["entries"].([]any)
	for i, v := range list {
		e, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("entry %d is %T", i, v)
		}
		entries = append(entries, e)
		if s, _ := e["startedDateTime"].(string); s == "" {
			t.Errorf("entry %d: no startedDateTime", i)
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("entry %d: startedDateTime: %v", i, err)
		}
		num(e, "entry", "time")
		req := obj(e, "entry", "request")
		str(req, "request", "method", "url", "httpVersion")
		arr(req, "request", "cookies", "headers", "queryString")
		num(req, "request", "headersSize", "bodySize")
		resp := obj(e, "entry", "response")
		num(resp, "response", "status", "headersSize", "bodySize")
		str(resp, "response", "statusText", "httpVersion", "redirectURL")
		arr(resp, "response", "cookies", "headers")
		content := obj(resp, "response", "content")
		num(content, "content", "size")
		str(content, "content", "mimeType")
		obj(e, "entry", "cache")
		num(obj(e, "entry", "timings"), "timings", "send", "wait", "receive")
		if e["_resourceType"] != "websocket" {
			t.Errorf("entry %d: _resourceType %v, want websocket (Chrome's ResourceType name)", i, e["_resourceType"])
		}
		msgs, ok := e["_webSocketMessages"].([]any)
		if !ok {
			t.Errorf("entry %d: _webSocketMessages is %T", i, e["_webSocketMessages"])
		}
		for j, mv := range msgs {
			m, ok := mv.(map[string]any)
			if !ok {
				t.Fatalf("entry %d message %d is %T", i, j, mv)
			}
			switch m["type"] {
			case "send", "receive", "error":
			default:
				t.Errorf("entry %d message %d: type %v", i, j, m["type"])
			}
			num(m, "message", "time", "opcode")
			str(m, "message", "data")
			if tm, _ := m["time"].(float64); tm < 1e9 || tm > 1e11 {
				t.Errorf("entry %d message %d: time %v is not epoch seconds", i, j, tm)
			}
		}
	}
	return entries
}

func TestHARWriterChromeFields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteHAR(&buf, inspect.RecordingHeader{Created: testStart, Version: "test"}, Events(allEvents(t))); err != nil {
		t.Fatal(err)
	}
	if entries := checkChromeFields(t, buf.Bytes()); len(entries) != 2 {
		t.Errorf("%d entries, want 2", len(entries))
	}
}

func harOpen(conn int, t time.Duration, role inspect.Role, headers ...inspect.HeaderField) *inspect.Event {
	return &inspect.Event{T: t, Kind: inspect.KindOpen, Conn: conn, Open: &inspect.Open{
		URL: "ws://127.0.0.1:8080/x", Role: role, Local: "127.0.0.1:8080", Remote: "127.0.0.1:5000",
		Request:  inspect.Request{Method: "GET", Target: "/x", Proto: "HTTP/1.1", Headers: headers},
		Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols"},
		Start:    testStart.Add(t),
	}}
}

func harTextMsg(conn int, t time.Duration, dir inspect.Direction, text string) *inspect.Event {
	return &inspect.Event{T: t, Kind: inspect.KindMsg, Conn: conn, Msg: &inspect.Message{Dir: dir, Op: inspect.OpText, Payload: []byte(text)}}
}

func harEnd(conn int, t time.Duration) *inspect.Event {
	return &inspect.Event{T: t, Kind: inspect.KindEnd, Conn: conn, End: &inspect.End{Clean: true, Code: inspect.CloseNormal}}
}

// Over a file the HAR is complete after each connection's end: what a
// SIGKILL loses is the connections still open.
func TestHARWriterFileCompleteAfterEachEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.har")
	hw, err := CreateHAR(path, inspect.RecordingHeader{Created: testStart}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entries := func() []map[string]any {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return checkChromeFields(t, b)
	}
	for _, e := range []*inspect.Event{
		harOpen(1, 0, inspect.RoleServer), harOpen(2, time.Millisecond, inspect.RoleServer),
		harTextMsg(1, 2*time.Millisecond, c2s, "one"), harTextMsg(2, 3*time.Millisecond, c2s, "two"),
		harEnd(1, 10*time.Millisecond),
		harTextMsg(1, 11*time.Millisecond, c2s, "late"), // after its entry: dropped
	} {
		if err := hw.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	got := entries()
	if len(got) != 1 || got[0]["_connectionId"] != "1" {
		t.Fatalf("after one end: %v", got)
	}
	if n := len(got[0]["_webSocketMessages"].([]any)); n != 1 {
		t.Errorf("connection 1: %d messages, want 1 (the late one dropped)", n)
	}
	if got[0]["time"] != 10.0 {
		t.Errorf("connection 1 lasted %v ms, want 10", got[0]["time"])
	}
	// A server's HAR names the server's own address.
	if got[0]["serverIPAddress"] != "127.0.0.1" || got[0]["connection"] != "8080" {
		t.Errorf("server address %v %v", got[0]["serverIPAddress"], got[0]["connection"])
	}
	hw.Write(harOpen(3, 20*time.Millisecond, inspect.RoleServer))
	hw.Write(harEnd(2, 30*time.Millisecond))
	if got := entries(); len(got) != 2 || got[1]["_connectionId"] != "2" {
		t.Fatalf("after two ends: %d entries", len(got))
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := entries(); len(got) != 3 || got[2]["_connectionId"] != "3" {
		t.Fatalf("after Close: %d entries, want 3 (the open one at Close)", len(got))
	}
	if err := hw.Write(harTextMsg(4, time.Second, c2s, "x")); err == nil {
		t.Error("a write after Close succeeded")
	}
}

// Over a pipe the document ends with Close; the bytes before are its
// start, entries as their connections end.
func TestHARWriterPipe(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	hw, err := NewHARWriter(&buf, inspect.RecordingHeader{Created: testStart}, WriterOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	hw.Write(harOpen(1, 0, inspect.RoleClient))
	hw.Write(harEnd(1, time.Millisecond))
	if json.Valid(buf.Bytes()) || !strings.Contains(buf.String(), `"_connectionId": "1"`) {
		t.Errorf("before Close: %d bytes, the entry written: %v", buf.Len(), strings.Contains(buf.String(), `"_connectionId": "1"`))
	}
	hw.Close()
	if entries := checkChromeFields(t, buf.Bytes()); len(entries) != 1 {
		t.Errorf("%d entries", len(entries))
	}
}

// Credentials are redacted as in recordings, unless Secrets.
func TestHARWriterRedacts(t *testing.T) {
	t.Parallel()
	for _, secrets := range []bool{false, true} {
		var buf bytes.Buffer
		hw, _ := NewHARWriter(&buf, inspect.RecordingHeader{Created: testStart}, WriterOptions{Secrets: secrets})
		open := harOpen(1, 0, inspect.RoleClient, inspect.HeaderField{Name: "Authorization", Value: "Bearer s3cret"}, inspect.HeaderField{Name: "X-Other", Value: "kept"})
		hw.Write(open)
		hw.Close()
		if got := strings.Contains(buf.String(), "s3cret"); got != secrets {
			t.Errorf("secrets %v: secret in the HAR: %v", secrets, got)
		}
		if !strings.Contains(buf.String(), "kept") {
			t.Errorf("secrets %v: other header lost", secrets)
		}
		if open.Open.Request.Headers[0].Value != "Bearer s3cret" {
			t.Error("the event itself was changed")
		}
	}
}
