package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// importHAR reads a HAR file into cloned events.
func importHAR(t testing.TB, data []byte) (*HARReader, []*inspect.Event) {
	t.Helper()
	hr, err := NewHARReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []*inspect.Event
	for {
		e, err := hr.Next()
		if err == io.EOF {
			return hr, out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, CloneEvent(e))
	}
}

// asRecording writes imported events as a recording, with secrets (the
// importer itself redacts nothing; the Writer does).
func asRecording(t testing.TB, h inspect.RecordingHeader, evs []*inspect.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h, WriterOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update if intended):\n%s", path, got)
	}
}

func TestImportChromeHAR(t *testing.T) {
	data, err := os.ReadFile("testdata/chrome.har")
	if err != nil {
		t.Fatal(err)
	}
	hr, evs := importHAR(t, data)
	h := hr.Header()
	if h.Source != "har" || !h.Lossy || !h.Created.Equal(time.Date(2024, 5, 14, 9, 21, 33, 915e6, time.UTC)) {
		t.Errorf("header %+v", h)
	}
	if len(hr.Warnings()) != 0 {
		t.Errorf("warnings %q", hr.Warnings())
	}
	golden(t, "chrome.golden.jsonl", asRecording(t, h, evs))

	// Spot checks, independent of the golden file.
	type want struct {
		kind    inspect.Kind
		conn    int
		t       string
		dir     inspect.Direction
		op      inspect.OpCode
		payload string
	}
	wants := []want{
		{inspect.KindOpen, 1, "0s", 0, 0, ""},
		{inspect.KindMsg, 1, "10.512ms", c2s, inspect.OpText, `{"op":"join","room":"lobby"}`},
		{inspect.KindMsg, 1, "37.877ms", s2c, inspect.OpText, `{"op":"joined","room":"lobby","members":3}`},
		{inspect.KindMsg, 1, "126.034ms", c2s, inspect.OpBinary, "\x00\x01\x02\x03\xfe\xff"},
		{inspect.KindMsg, 1, "157.256ms", s2c, inspect.OpBinary, "\x89PNG\r\n\x1a\n"},
		{inspect.KindMsg, 1, "246.001ms", c2s, inspect.OpText, "héllo ✓ \"quoted\"\nsecond line"},
		{inspect.KindMsg, 1, "268.999ms", s2c, inspect.OpText, ""},
		{inspect.KindOpen, 2, "483ms", 0, 0, ""},
		{inspect.KindMsg, 2, "497.001ms", s2c, inspect.OpText, `{"tick":1}`},
		{inspect.KindMsg, 2, "997.002ms", s2c, inspect.OpText, `{"tick":2}`},
		{inspect.KindMsg, 2, "1.187s", c2s, inspect.OpText, "pause"},
		{inspect.KindError, 2, "1.397s", 0, 0, "Invalid frame header"},
		{inspect.KindMsg, 1, "1.506125s", s2c, inspect.OpText, `{"op":"bye"}`},
	}
	if len(evs) != len(wants) {
		t.Fatalf("%d events, want %d", len(evs), len(wants))
	}
	for i, w := range wants {
		e := evs[i]
		if e.Kind != w.kind || e.Conn != w.conn || e.T.String() != w.t {
			t.Errorf("event %d: %s conn %d at %v, want %s conn %d at %s", i, e.Kind, e.Conn, e.T, w.kind, w.conn, w.t)
			continue
		}
		switch e.Kind {
		case inspect.KindMsg:
			if e.Msg.Dir != w.dir || e.Msg.Op != w.op || string(e.Msg.Payload) != w.payload || e.Msg.WireLen != len(w.payload) {
				t.Errorf("event %d: %+v", i, e.Msg)
			}
		case inspect.KindError:
			if e.Text != w.payload {
				t.Errorf("event %d: %q", i, e.Text)
			}
		}
	}
	a := evs[0].Open
	if a.URL != "wss://chat.example.com/socket?room=lobby" || a.Role != inspect.RoleClient || a.Request.Method != "GET" ||
		a.Request.Target != "/socket?room=lobby" || a.Request.Proto != "HTTP/1.1" || len(a.Request.Headers) != 14 ||
		a.Request.Headers[4] != (inspect.HeaderField{Name: "Cookie", Value: "session=6f1d0c1e"}) ||
		a.Response.Status != 101 || a.Response.Reason != "Switching Protocols" || a.Subprotocol != "chat.v2" ||
		a.Remote != "203.0.113.7:443" || !a.Start.Equal(h.Created) {
		t.Errorf("open A: %+v", a)
	}
	wantExt := []inspect.Extension{{Name: "permessage-deflate", Params: []inspect.HeaderField{
		{Name: "client_max_window_bits", Value: "15"}, {Name: "server_no_context_takeover", Value: ""}}}}
	if fmt.Sprint(a.Extensions) != fmt.Sprint(wantExt) {
		t.Errorf("extensions %+v", a.Extensions)
	}
	if b := evs[7].Open; b.URL != "ws://[::1]:8080/ticker" || b.Remote != "[::1]:8080" || b.Subprotocol != "" || b.Extensions != nil {
		t.Errorf("open B: %+v", b)
	}

	// The recording of the import reads back as the same events.
	_, back := readAll(t, asRecording(t, h, evs))
	for i := range evs {
		if d := sameEvent(evs[i], back[i]); d != "" {
			t.Errorf("event %d after a round trip through a recording: %s", i, d)
		}
	}
}

func TestImportFirefoxHAR(t *testing.T) {
	data, err := os.ReadFile("testdata/firefox.har")
	if err != nil {
		t.Fatal(err)
	}
	hr, evs := importHAR(t, data)
	if len(evs) != 1 || evs[0].Kind != inspect.KindOpen {
		t.Fatalf("events %+v", evs)
	}
	o := evs[0].Open
	if o.URL != "wss://chat.example.com/socket?room=lobby" || o.Subprotocol != "chat.v2" || len(o.Extensions) != 1 ||
		o.Remote != "203.0.113.7:443" || !o.Start.Equal(time.Date(2024, 5, 14, 9, 21, 33, 915e6, time.UTC)) {
		t.Errorf("open %+v", o)
	}
	w := hr.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "Firefox's HAR export does not include WebSocket messages") {
		t.Errorf("warnings %q", w)
	}
	golden(t, "firefox.golden.jsonl", asRecording(t, hr.Header(), evs))
}

// harOf builds a HAR around entries given as JSON.
func harOf(entries ...string) []byte {
	return []byte(`{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[` + strings.Join(entries, ",") + `]}}`)
}

func TestImportHARVariants(t *testing.T) {
	// Firefox marks a WebSocket by its 101 answer only, and its handshake
	// channel may carry an https:// URL.
	upgrade := `{"startedDateTime":"2024-01-01T00:00:00.000Z","request":{"method":"GET","url":"https://h.example/ws","httpVersion":"HTTP/1.1","headers":[{"name":"Upgrade","value":"websocket"}]},"response":{"status":101,"statusText":"Switching Protocols","httpVersion":"HTTP/1.1","headers":[]}}`
	_, evs := importHAR(t, harOf(upgrade))
	if len(evs) != 1 || evs[0].Open.URL != "wss://h.example/ws" || evs[0].Open.Remote != "h.example:443" {
		t.Errorf("101 entry: %+v", evs[0].Open)
	}

	// Milliseconds, type and opcode spellings of other producers, and
	// control frames.
	msgs := `{"_resourceType":"websocket","startedDateTime":"2024-01-01T00:00:00.000Z","request":{"url":"ws://h/"},"response":{"status":"101"},"_webSocketMessages":[
		{"type":"sent","time":1704067200500,"opcode":"text","data":"ms"},
		{"type":"received","time":1704067200.75,"data":"no opcode: text"},
		{"type":"incoming","time":"1704067201","opcode":9,"data":"cGluZw=="},
		{"type":"outgoing","time":1704067201.25,"opcode":10,"data":"cGluZw=="},
		{"type":"receive","time":1704067201.5,"opcode":8,"data":"A+hieWU="},
		{"type":"receive","time":1704067201.6,"opcode":2,"data":"not base64!"},
		{"type":"sideways","time":1704067201.7,"opcode":1,"data":"skipped"},
		{"type":"send","time":"later","opcode":1,"data":"skipped"},
		{"type":"send","time":1704067201.8,"opcode":99,"data":"skipped"}]}`
	hr, evs := importHAR(t, harOf(msgs))
	var got []string
	for _, e := range evs {
		switch e.Kind {
		case inspect.KindMsg:
			got = append(got, fmt.Sprintf("%v msg %s %s %q", e.T, e.Msg.Dir, e.Msg.Op, e.Msg.Payload))
		case inspect.KindFrame:
			got = append(got, fmt.Sprintf("%v frame %d %s %s %q close=%v raw=%x", e.T, e.Frame.Seq, e.Frame.Dir, e.Frame.Op, e.Frame.Payload, closeText(e.Frame.Close), e.Frame.Raw))
		default:
			got = append(got, fmt.Sprintf("%v %s", e.T, e.Kind))
		}
	}
	want := []string{
		"0s open",
		`500ms msg c2s text "ms"`,
		`750ms msg s2c text "no opcode: text"`,
		`1s frame 3 s2c ping "ping" close=<nil> raw=8904`,
		`1.25s frame 4 c2s pong "ping" close=<nil> raw=8a04`,
		`1.5s frame 5 s2c close "\x03\xe8bye" close=1000 Normal Closure: bye raw=8805`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := hr.Warnings(); len(w) != 4 || w[0] != "HAR entry 1, message 6: binary data is not base64: skipped" || !strings.Contains(w[1], `unknown type "sideways"`) ||
		!strings.Contains(w[2], "time \"later\"") || !strings.Contains(w[3], "opcode 99") {
		t.Errorf("warnings:\n%s", strings.Join(w, "\n"))
	}

	for _, tc := range []struct{ in, want string }{
		{string(harOf()), "no WebSocket entries in HAR"},
		{string(harOf(`{"request":{"url":"https://h/"},"response":{"status":200}}`)), "no WebSocket entries in HAR"},
		{`[1,2]`, `not a HAR file: want "{", found [`},
		{`{"hello":1}`, `not a HAR file: no "log" object`},
		{`{"log":{"entries":[{"request":`, `HAR: invalid JSON near byte 19: entry 1: unexpected EOF`},
		{``, `not a HAR file: HAR: invalid JSON near byte 0: unexpected EOF`},
	} {
		err := ReadHAR(strings.NewReader(tc.in), func(*inspect.Event) error { return nil })
		if err == nil || err.Error() != tc.want {
			t.Errorf("%.40q: err = %v, want %s", tc.in, err, tc.want)
		}
	}
	if err := ReadHAR(strings.NewReader(string(harOf())), nil); !errors.Is(err, ErrNoWebSockets) {
		t.Errorf("err = %v, want ErrNoWebSockets", err)
	}
	stop := errors.New("stop")
	if err := ReadHAR(bytes.NewReader(harOf(upgrade)), func(*inspect.Event) error { return stop }); err != stop {
		t.Errorf("emit error not returned: %v", err)
	}
}

// A HAR's bodies are not kept: after importing a file with large
// responses, nothing of them stays on the heap.
func TestImportHARKeepsNoBodies(t *testing.T) {
	const entries, bodySize = 40, 1 << 20
	body := strings.Repeat("x", bodySize)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"log":{"version":"1.2","entries":[`))
		for i := 0; i < entries; i++ {
			fmt.Fprintf(pw, `{"request":{"url":"https://h/%d"},"response":{"status":200,"content":{"text":%q}}},`, i, body)
		}
		pw.Write([]byte(`{"_resourceType":"websocket","request":{"url":"ws://h/"},"response":{"status":101},"_webSocketMessages":[{"type":"send","time":1,"opcode":1,"data":"x"}]}]}}`))
		pw.Close()
	}()
	hr, err := NewHARReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 16<<20 {
		t.Errorf("heap holds %d MiB after importing %d MiB of bodies", ms.HeapAlloc>>20, entries*bodySize>>20)
	}
	runtime.KeepAlive(hr)
}

// Recording → HAR → import gives the same messages.
func TestHARExportRoundTrip(t *testing.T) {
	evs := allEvents(t)
	h := inspect.RecordingHeader{Created: testStart, Tool: "wscope", Version: "test"}
	var buf bytes.Buffer
	if err := WriteHAR(&buf, h, Events(evs)); err != nil {
		t.Fatal(err)
	}
	golden(t, "export.golden.har", buf.Bytes())

	// It is valid JSON of the HAR shape.
	var har struct {
		Log struct {
			Version string
			Creator struct{ Name, Version string }
			Entries []map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &har); err != nil {
		t.Fatal(err)
	}
	if har.Log.Version != "1.2" || har.Log.Creator.Name != "wscope" || len(har.Log.Entries) != 2 {
		t.Fatalf("log %+v", har.Log)
	}
	for _, k := range []string{"startedDateTime", "time", "request", "response", "cache", "timings", "_resourceType", "_webSocketMessages"} {
		if _, ok := har.Log.Entries[0][k]; !ok {
			t.Errorf("entry has no %q", k)
		}
	}

	_, back := importHAR(t, buf.Bytes())
	// What the HAR can carry: data messages, control frames, errors, in
	// order, per connection, at the same times (to the millisecond the
	// HAR's startedDateTime keeps).
	type item struct {
		conn    int
		t       time.Duration
		what    string
		payload string
	}
	carry := func(evs []*inspect.Event, base time.Duration) []item {
		var out []item
		for _, e := range evs {
			it := item{conn: e.Conn, t: (e.T - base).Round(time.Millisecond)}
			switch {
			case e.Kind == inspect.KindMsg:
				it.what, it.payload = e.Msg.Dir.String()+" "+e.Msg.Op.String(), string(e.Msg.Payload)
			case e.Kind == inspect.KindFrame && e.Frame.Op.IsControl():
				it.what, it.payload = e.Frame.Dir.String()+" "+e.Frame.Op.String(), string(e.Frame.Payload)
			case e.Kind == inspect.KindError:
				it.what, it.payload = "error", e.Text
			case e.Kind == inspect.KindOpen:
				it.what = "open " + e.Open.URL
			default:
				continue
			}
			if strings.HasPrefix(it.what, "s2c text") || strings.HasPrefix(it.what, "c2s text") {
				it.payload = strings.ToValidUTF8(it.payload, "\ufffd") // JSON strings hold UTF-8 only
			}
			out = append(out, it)
		}
		return out
	}
	want, got := carry(evs, 0), carry(back, 0)
	if len(want) != len(got) {
		t.Fatalf("%d items back, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("item %d: got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func closeText(c *inspect.Close) string {
	if c == nil {
		return "<nil>"
	}
	return c.Code.String() + ": " + c.Reason
}

// One message with bad data costs only itself: sixteen messages, one
// whose data is a number and one whose data is not base64, import as
// fourteen, with a warning for each of the two (the whole entry's
// messages were lost to the first before).
func TestHARBadDataSkipsOnlyThatMessage(t *testing.T) {
	var msgs []string
	for i := range 16 {
		data := fmt.Sprintf(`"m%d"`, i)
		op := 1
		switch i {
		case 5:
			data = `12345`
		case 9:
			data, op = `"%%% not base64"`, 2
		case 12:
			data, op = `"AAEC"`, 2
		case 13:
			data, op = `"AAE"`, 2 // unpadded
		}
		msgs = append(msgs, fmt.Sprintf(`{"type":"send","time":%d.5,"opcode":%d,"data":%s}`, 1704067200+i, op, data))
	}
	entry := `{"_resourceType":"websocket","startedDateTime":"2024-01-01T00:00:00.000Z","request":{"url":"ws://h/"},"response":{"status":101},"_webSocketMessages":[` + strings.Join(msgs, ",") + `]}`
	hr, evs := importHAR(t, harOf(entry))
	var got []string
	for _, e := range evs[1:] {
		got = append(got, fmt.Sprintf("%x", e.Msg.Payload))
	}
	if len(evs) != 15 || got[5] != fmt.Sprintf("%x", "m6") || got[8] != fmt.Sprintf("%x", "m10") || got[10] != "000102" || got[11] != "0001" {
		t.Errorf("%d events: %q", len(evs), got)
	}
	w := hr.Warnings()
	if len(w) != 2 || w[0] != `HAR entry 1, message 6: "data" is a JSON number, not a string: skipped` || w[1] != "HAR entry 1, message 10: binary data is not base64: skipped" {
		t.Errorf("warnings %q", w)
	}
}
