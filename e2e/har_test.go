package e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromeSessionHAR is a HAR exported by the Network panel of the DevTools
// that ship with Chromium, from a real headless Chromium session against
// a local echo server: see testdata/har/README.md (make-har.sh makes it).
const chromeSessionHAR = "../testdata/har/chrome-session.har"

// The messages of page.html (testdata/har): after the server's greeting,
// the page sends each of these and waits for its echo.
var chromeSessionSends = []struct {
	op      string
	payload string
}{
	{"text", `{"op":"join","room":"lobby","id":1}`},
	{"text", "héllo wörld ✓ 日本語 🎉"},
	{"binary", "\x00\xff\x01\xfe\x7f\x80"},
	{"text", "line 1\nline \"2\"\ttab \\ backslash"},
	{"binary", string(allBytes())},
	{"text", ""},
	{"text", `{"op":"bye","id":2}`},
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestChromeSessionHARGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
	}{
		{"chrome-session-frames.txt", nil},
		{"chrome-session-json.txt", []string{"-o", "json"}},
		{"chrome-session-text.txt", []string{"-o", "text"}},
		{"chrome-session-stats.txt", []string{"--stats"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", append([]string{"inspect", chromeSessionHAR}, c.args...)...)
			r.expectCode(t, 0)
			if r.Stderr != "" {
				t.Errorf("stderr: %q", r.Stderr)
			}
			golden(t, "har/"+c.name, stable(r.Stdout))
		})
	}
}

// TestChromeSessionHAR checks the import of the real Chrome HAR against
// what the page did and against the HAR file itself, independently of the
// golden files.
func TestChromeSessionHAR(t *testing.T) {
	t.Parallel()
	r := run(t, "", "inspect", chromeSessionHAR, "-o", "json")
	r.expectCode(t, 0)
	if r.Stderr != "" {
		t.Errorf("stderr (warnings): %q", r.Stderr)
	}
	first, _, _ := strings.Cut(r.Stdout, "\n")
	var hdr struct {
		Created time.Time `json:"created"`
		Source  string    `json:"source"`
		Lossy   bool      `json:"lossy"`
	}
	if err := json.Unmarshal([]byte(first), &hdr); err != nil {
		t.Fatalf("header %q: %v", first, err)
	}
	if hdr.Source != "har" || !hdr.Lossy {
		t.Errorf("header %s: want source har, lossy", first)
	}
	evs := parseEvents(t, r.Stdout)

	// Two connections, 16 messages and one error; nothing else: Chrome
	// exports neither control frames (the server's ping, the pong, the
	// close frames) nor the close code.
	opens := filter(evs, "open", "")
	if len(opens) != 2 || len(filter(evs, "msg", "")) != 16 || len(filter(evs, "error", "")) != 1 || len(evs) != 19 {
		t.Fatalf("want 2 opens, 16 msgs, 1 error; got %d events:\n%s", len(evs), r.Stdout)
	}

	// The open events: URL, subprotocol, extension, handshake headers.
	u1, _ := opens[0]["url"].(string)
	m := regexp.MustCompile(`^ws://(127\.0\.0\.1:\d+)/socket\?room=lobby$`).FindStringSubmatch(u1)
	if m == nil {
		t.Fatalf("open 1 url %q", u1)
	}
	host := m[1]
	if u2, _ := opens[1]["url"].(string); u2 != "ws://"+host+"/bad" {
		t.Errorf("open 2 url %q, want ws://%s/bad", u2, host)
	}
	for i, o := range opens {
		if o.num("conn") != i+1 || o["role"] != "client" {
			t.Errorf("open %d: conn %v role %v", i+1, o["conn"], o["role"])
		}
		req, _ := o["request"].(map[string]any)
		resp, _ := o["response"].(map[string]any)
		if req["method"] != "GET" || req["proto"] != "HTTP/1.1" {
			t.Errorf("open %d request %v", i+1, req)
		}
		if resp["status"] != 101.0 || resp["reason"] != "Switching Protocols" || resp["proto"] != "HTTP/1.1" {
			t.Errorf("open %d response %v", i+1, resp)
		}
		rq, rs := headerMap(req), headerMap(resp)
		for name, want := range map[string]string{
			"Upgrade": "websocket", "Connection": "Upgrade", "Host": host, "Origin": "http://" + host,
			"Sec-WebSocket-Version": "13", "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
		} {
			if rq[name] != want {
				t.Errorf("open %d request header %s = %q, want %q", i+1, name, rq[name], want)
			}
		}
		if !strings.Contains(rq["User-Agent"], "HeadlessChrome/") {
			t.Errorf("open %d User-Agent %q", i+1, rq["User-Agent"])
		}
		// The accept key answers the request's key: both headers are the
		// ones that crossed the wire.
		if want := wsAccept(rq["Sec-WebSocket-Key"]); rq["Sec-WebSocket-Key"] == "" || rs["Sec-WebSocket-Accept"] != want {
			t.Errorf("open %d: Sec-WebSocket-Accept %q for key %q, want %q", i+1, rs["Sec-WebSocket-Accept"], rq["Sec-WebSocket-Key"], want)
		}
		if rs["Upgrade"] != "websocket" || rs["Connection"] != "Upgrade" {
			t.Errorf("open %d response headers %v", i+1, rs)
		}
	}
	o := opens[0]
	if o["subprotocol"] != "chat.v1" {
		t.Errorf("subprotocol %v, want chat.v1", o["subprotocol"])
	}
	if rq := headerMap(o["request"].(map[string]any)); rq["Sec-WebSocket-Protocol"] != "chat.v1, chat.v2" {
		t.Errorf("offered subprotocols %q", rq["Sec-WebSocket-Protocol"])
	}
	if x, _ := json.Marshal(o["extensions"]); string(x) != `[{"name":"permessage-deflate","params":[]}]` {
		t.Errorf("extensions %s", x)
	}
	if opens[1]["subprotocol"] != "" {
		t.Errorf("open 2 subprotocol %v", opens[1]["subprotocol"])
	}
	if x, _ := json.Marshal(opens[1]["extensions"]); string(x) != `[]` {
		t.Errorf("open 2 extensions %s", x)
	}

	// The messages, both ways, with the exact payloads the page sent.
	type msg struct{ dir, op, payload string }
	want := []msg{{"s2c", "text", `{"op":"hello","server":"ws echo"}`}}
	for _, s := range chromeSessionSends {
		want = append(want, msg{"c2s", s.op, s.payload}, msg{"s2c", s.op, s.payload})
	}
	var got []msg
	var conn2 []event
	for _, e := range evs {
		if e["ev"] == "open" {
			continue
		}
		if e.num("conn") == 2 {
			conn2 = append(conn2, e)
			continue
		}
		got = append(got, msg{e["dir"].(string), e["op"].(string), payload(t, e)})
	}
	if len(got) != len(want) {
		t.Fatalf("connection 1: %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("connection 1 message %d: got %s %s %q, want %s %s %q", i+1, got[i].dir, got[i].op, got[i].payload, want[i].dir, want[i].op, want[i].payload)
		}
	}
	if len(conn2) != 2 || conn2[0]["ev"] != "msg" || conn2[0]["dir"] != "s2c" || payload(t, conn2[0]) != "about to break" ||
		conn2[1]["ev"] != "error" || conn2[1]["text"] != "Unrecognized frame opcode: 3" {
		t.Errorf("connection 2: %v", conn2)
	}

	// Times: in order, the open first, the session a few milliseconds to
	// a second long (seconds read as seconds, not milliseconds).
	var last float64
	for i, e := range evs {
		tt := e["t"].(float64)
		if tt < last {
			t.Errorf("event %d: t %v before %v", i+1, tt, last)
		}
		last = tt
	}
	if evs[0]["ev"] != "open" || evs[0]["t"] != 0.0 {
		t.Errorf("first event %v", evs[0])
	}
	if last < 0.001 || last > 5 {
		t.Errorf("session lasts %vs", last)
	}
	c1 := filter(evs, "msg", "")[:15]
	for i := 1; i < len(c1); i++ {
		if c1[i]["t"].(float64) <= c1[i-1]["t"].(float64) {
			t.Errorf("connection 1 message %d: t %v not after %v", i+1, c1[i]["t"], c1[i-1]["t"])
		}
	}

	// Against the HAR itself: every _webSocketMessages element is one event
	// of its connection, at its time (epoch seconds) to the microsecond,
	// and the open events start at the entries' startedDateTime.
	entries := harWebSockets(t, chromeSessionHAR)
	if len(entries) != 2 {
		t.Fatalf("%d WebSocket entries in the HAR", len(entries))
	}
	for i, en := range entries {
		if opens[i]["url"] != en.Request.URL {
			t.Errorf("open %d url %v, HAR %s", i+1, opens[i]["url"], en.Request.URL)
		}
		if start, _ := time.Parse(time.RFC3339Nano, opens[i]["start"].(string)); !start.Equal(en.StartedDateTime) {
			t.Errorf("open %d start %v, HAR %v", i+1, opens[i]["start"], en.StartedDateTime)
		}
		var conn []event
		for _, e := range evs {
			if e["ev"] != "open" && e.num("conn") == i+1 {
				conn = append(conn, e)
			}
		}
		if len(conn) != len(en.Messages) {
			t.Errorf("connection %d: %d events, HAR %d messages", i+1, len(conn), len(en.Messages))
			continue
		}
		for j, hm := range en.Messages {
			e := conn[j]
			at := hdr.Created.Add(time.Duration(math.Round(e["t"].(float64)*1e6)) * time.Microsecond)
			harAt := time.Unix(0, int64(math.Round(hm.Time*1e6))*1e3)
			if d := at.Sub(harAt); d < -2*time.Microsecond || d > 2*time.Microsecond {
				t.Errorf("connection %d message %d at %v, HAR %v (%v off)", i+1, j+1, at, harAt, d)
			}
			switch hm.Type {
			case "error":
				if e["ev"] != "error" || e["text"] != hm.Data || hm.Opcode != -1 {
					t.Errorf("connection %d message %d: %v, HAR %+v", i+1, j+1, e, hm)
				}
				continue
			case "send":
				if e["dir"] != "c2s" {
					t.Errorf("connection %d message %d: dir %v for a sent message", i+1, j+1, e["dir"])
				}
			case "receive":
				if e["dir"] != "s2c" {
					t.Errorf("connection %d message %d: dir %v for a received message", i+1, j+1, e["dir"])
				}
			default:
				t.Errorf("HAR message type %q", hm.Type)
			}
			// Chrome writes text as it is and binary as base64.
			if hm.Opcode == 1 && (e["op"] != "text" || e["text"] != hm.Data) ||
				hm.Opcode == 2 && (e["op"] != "binary" || e["b64"] != hm.Data) {
				t.Errorf("connection %d message %d: %v, HAR %+v", i+1, j+1, e, hm)
			}
		}
	}
}

// TestChromeSessionHARTimes: the events of a connection happen between its
// handshake and its end, as the entry gives them.
func TestChromeSessionHARTimes(t *testing.T) {
	t.Parallel()
	checkWithinEntries(t, chromeSessionHAR)
}

// TestChromeSessionHARFilters: the binary messages the page sent, shown in
// hex through the filters.
func TestChromeSessionHARFilters(t *testing.T) {
	t.Parallel()
	r := run(t, "", "inspect", chromeSessionHAR, "--from", "client", "--op", "binary", "-o", "text", "--binary-as", "hex")
	r.expectCode(t, 0)
	hex := func(s string) string {
		const digits = "0123456789abcdef"
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			b.WriteByte(digits[s[i]>>4])
			b.WriteByte(digits[s[i]&15])
		}
		return b.String()
	}
	want := "[1] c2s " + hex(chromeSessionSends[2].payload) + "\n[1] c2s " + hex(chromeSessionSends[4].payload) + "\n"
	if r.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.Stdout, want)
	}
	r = run(t, "", "inspect", chromeSessionHAR, "--conn", "2", "-o", "text")
	r.expectCode(t, 0)
	if r.Stdout != "[2] s2c about to break\n" {
		t.Errorf("--conn 2: %q", r.Stdout)
	}
}

// checkWithinEntries checks that the import of a HAR file starts at its
// first WebSocket handshake and puts every event of a connection between
// its handshake (startedDateTime) and its end (startedDateTime + time).
func checkWithinEntries(t *testing.T, file string) {
	t.Helper()
	r := run(t, "", "inspect", file, "-o", "json")
	r.expectCode(t, 0)
	first, _, _ := strings.Cut(r.Stdout, "\n")
	var hdr struct {
		Created time.Time `json:"created"`
	}
	if err := json.Unmarshal([]byte(first), &hdr); err != nil {
		t.Fatalf("header %q: %v", first, err)
	}
	entries := harWebSockets(t, file)
	if !hdr.Created.Equal(entries[0].StartedDateTime) {
		t.Errorf("created %v, want the first handshake's startedDateTime %v", hdr.Created, entries[0].StartedDateTime)
	}
	at := func(e event) time.Time {
		return hdr.Created.Add(time.Duration(math.Round(e["t"].(float64)*1e6)) * time.Microsecond)
	}
	evs := parseEvents(t, r.Stdout)
	for _, e := range evs {
		c := e.num("conn")
		if c < 1 || c > len(entries) {
			t.Fatalf("event %v", e)
		}
		en := entries[c-1]
		from := en.StartedDateTime.Add(-time.Millisecond)
		to := en.StartedDateTime.Add(time.Duration((en.Time + 1) * float64(time.Millisecond)))
		if a := at(e); a.Before(from) || a.After(to) {
			t.Errorf("connection %d %s at %v, outside its handshake and end: %v to %v", c, e["ev"], a, from, to)
		}
	}
}

// headerMap returns the headers of a request or response of an open event.
func headerMap(m map[string]any) map[string]string {
	out := map[string]string{}
	hs, _ := m["headers"].([]any)
	for _, h := range hs {
		if p, ok := h.([]any); ok && len(p) == 2 {
			out[p[0].(string)] = p[1].(string)
		}
	}
	return out
}

// payload returns the payload of a msg event: its text, or its b64 decoded.
func payload(t *testing.T, e event) string {
	t.Helper()
	if s, ok := e["text"].(string); ok {
		return s
	}
	b, err := base64.StdEncoding.DecodeString(e["b64"].(string))
	if err != nil {
		t.Fatalf("b64 of %v: %v", e, err)
	}
	return string(b)
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

type harEntry struct {
	StartedDateTime time.Time `json:"startedDateTime"`
	Time            float64   `json:"time"`
	ResourceType    string    `json:"_resourceType"`
	Request         struct {
		URL string `json:"url"`
	} `json:"request"`
	Messages []struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Opcode int     `json:"opcode"`
		Data   string  `json:"data"`
	} `json:"_webSocketMessages"`
}

// harWebSockets reads the WebSocket entries of a HAR file.
func harWebSockets(t *testing.T, file string) []harEntry {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Entries []harEntry `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	var out []harEntry
	for _, e := range h.Log.Entries {
		if e.ResourceType == "websocket" {
			out = append(out, e)
		}
	}
	return out
}

// capturerSessionHAR is the same page's session recorded by
// chrome-har-capturer, a HAR tool of its own (testdata/har/README.md).
const capturerSessionHAR = "../testdata/har/capturer-session.har"

// TestCapturerSessionHAR: messages, directions and payloads of the
// chrome-har-capturer file, and their times relative to each other.
func TestCapturerSessionHAR(t *testing.T) {
	t.Parallel()
	r := run(t, "", "inspect", capturerSessionHAR, "-o", "json")
	r.expectCode(t, 0)
	evs := parseEvents(t, r.Stdout)
	// chrome-har-capturer records no WebSocket errors: /bad has only its
	// message.
	opens := filter(evs, "open", "")
	if len(opens) != 2 || len(filter(evs, "msg", "")) != 16 || len(evs) != 18 {
		t.Fatalf("want 2 opens and 16 msgs; got %d events:\n%s", len(evs), r.Stdout)
	}
	if opens[0]["subprotocol"] != "chat.v1" {
		t.Errorf("subprotocol %v", opens[0]["subprotocol"])
	}
	type msg struct{ dir, op, payload string }
	want := []msg{{"s2c", "text", `{"op":"hello","server":"ws echo"}`}}
	for _, s := range chromeSessionSends {
		want = append(want, msg{"c2s", s.op, s.payload}, msg{"s2c", s.op, s.payload})
	}
	want = append(want, msg{"s2c", "text", "about to break"})
	var got []msg
	for _, e := range filter(evs, "msg", "") {
		got = append(got, msg{e["dir"].(string), e["op"].(string), payload(t, e)})
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: got %s %s %q, want %s %s %q", i+1, got[i].dir, got[i].op, got[i].payload, want[i].dir, want[i].op, want[i].payload)
		}
	}
	// Within a connection the gaps between messages are the HAR's (each
	// entry's monotonic times are placed from its own startedDateTime).
	byConn := map[int][]float64{}
	for _, e := range filter(evs, "msg", "") {
		byConn[e.num("conn")] = append(byConn[e.num("conn")], e["t"].(float64))
	}
	for n, en := range harWebSockets(t, capturerSessionHAR) {
		ts := byConn[n+1]
		if len(ts) != len(en.Messages) {
			t.Fatalf("connection %d: %d messages, HAR entry has %d", n+1, len(ts), len(en.Messages))
		}
		for i, m := range en.Messages {
			if d := (ts[i] - ts[0]) - (m.Time - en.Messages[0].Time); math.Abs(d) > 2e-6 {
				t.Errorf("connection %d message %d at +%.6fs, HAR +%.6fs", n+1, i+1, ts[i]-ts[0], m.Time-en.Messages[0].Time)
			}
		}
	}
}

// TestCapturerSessionHARTimes: the messages of a connection happen between
// its handshake (startedDateTime) and its end (startedDateTime + time).
func TestCapturerSessionHARTimes(t *testing.T) {
	t.Parallel()
	checkWithinEntries(t, capturerSessionHAR)
}
