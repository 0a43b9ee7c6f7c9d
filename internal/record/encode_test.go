package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// frameOf builds a frame as the decoder would: the header from its wire
// form, so LenEnc and Raw are what they would be.
func frameOf(t testing.TB, seq uint64, dir inspect.Direction, wireBytes []byte) *inspect.Frame {
	return dissect(t, seq, dir, wireBytes)
}

// client and server build well-formed frames from each side.
func client(fin bool, op inspect.OpCode, payload string) []byte {
	return wireFrame(inspect.Header{Fin: fin, Op: op, Masked: true, Mask: testKey}, []byte(payload))
}

func server(fin bool, op inspect.OpCode, payload string) []byte {
	return wireFrame(inspect.Header{Fin: fin, Op: op}, []byte(payload))
}

func violation(r inspect.Rule, msg string) inspect.Violation {
	return inspect.Violation{Rule: r, Section: r.Section(), Message: msg}
}

type jsonCase struct {
	name string
	ev   *inspect.Event
	keys []string // top-level keys, in order
	// payload, when set, is what text or b64 must decode to.
	payload *string
	b64     bool
}

func ptr[T any](v T) *T { return &v }

func jsonCases(t testing.TB) []jsonCase {
	c2s, s2c := inspect.ClientToServer, inspect.ServerToClient
	frameKeys := func(extra ...string) []string {
		return append([]string{"t", "ev", "conn", "seq", "dir", "fin", "rsv1", "rsv2", "rsv3", "op", "masked"}, extra...)
	}
	start := time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	tooBig := &inspect.Frame{Seq: 9, Dir: s2c, Header: inspect.Header{Fin: true, Op: inspect.OpBinary, Length: 1 << 40, LenEnc: inspect.Len64}}
	return []jsonCase{
		{"frame text masked", &inspect.Event{T: 1500 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 1, c2s, client(true, inspect.OpText, "hello"))},
			frameKeys("mask", "len", "text"), ptr("hello"), false},
		{"frame text unmasked", &inspect.Event{T: 2 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 2, s2c, server(true, inspect.OpText, "héllo \"quoted\"\n\t\x00 \u2028 \u2029 </script>"))},
			frameKeys("len", "text"), ptr("héllo \"quoted\"\n\t\x00 \u2028 \u2029 </script>"), false},
		{"frame binary is b64 even when it reads as text", &inspect.Event{T: 3 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 3, s2c, server(true, inspect.OpBinary, "hello"))},
			frameKeys("len", "b64"), ptr("hello"), true},
		{"frame RSV1 is b64", &inspect.Event{T: 4 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 4, c2s, wireFrame(inspect.Header{Fin: true, Rsv: inspect.Rsv1, Op: inspect.OpText, Masked: true, Mask: testKey}, []byte("hello")))},
			frameKeys("mask", "len", "b64", "violations"), ptr("hello"), true},
		{"frame invalid UTF-8 text is b64", &inspect.Event{T: 5 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 5, s2c, server(true, inspect.OpText, "ok\xff"))},
			frameKeys("len", "b64", "violations"), ptr("ok\xff"), true},
		{"frame text fragment cut mid-rune is b64", &inspect.Event{T: 5 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 6, s2c, server(false, inspect.OpText, "\xe4\xb8"))},
			frameKeys("len", "b64"), ptr("\xe4\xb8"), true},
		{"frame ping text", &inspect.Event{T: 6 * time.Second, Kind: inspect.KindFrame, Conn: 2,
			Frame: frameOf(t, 7, s2c, server(true, inspect.OpPing, "keepalive"))},
			frameKeys("len", "text"), ptr("keepalive"), false},
		{"frame empty pong", &inspect.Event{T: 6 * time.Second, Kind: inspect.KindFrame, Conn: 2,
			Frame: frameOf(t, 8, c2s, client(true, inspect.OpPong, ""))},
			frameKeys("mask", "len", "text"), ptr(""), false},
		{"frame 16-bit length for 5 bytes", &inspect.Event{T: 7 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 9, s2c, wireFrame(inspect.Header{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len16}, []byte("hello")))},
			frameKeys("len", "len_enc", "text", "violations"), ptr("hello"), false},
		{"frame 64-bit length for 126 bytes masked", &inspect.Event{T: 7 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 10, c2s, wireFrame(inspect.Header{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Masked: true, Mask: testKey}, make([]byte, 126)))},
			frameKeys("mask", "len", "len_enc", "b64", "violations"), ptr(string(make([]byte, 126))), true},
		{"frame 16-bit minimal", &inspect.Event{T: 7 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 11, s2c, server(true, inspect.OpText, strings.Repeat("a", 126)))},
			frameKeys("len", "text"), ptr(strings.Repeat("a", 126)), false},
		{"frame close", &inspect.Event{T: 8 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 12, c2s, client(true, inspect.OpClose, string(inspect.AppendClose(nil, inspect.CloseNormal, "bye \"now\""))))},
			frameKeys("mask", "len", "b64", "close"), ptr("\x03\xe8bye \"now\""), true},
		{"frame close with violations", &inspect.Event{T: 8 * time.Second, Kind: inspect.KindFrame, Conn: 1,
			Frame: frameOf(t, 13, s2c, server(false, inspect.OpClose, string(inspect.AppendClose(nil, inspect.CloseNoStatus, "\xff"))))},
			frameKeys("len", "b64", "close", "violations"), ptr("\x03\xed\xff"), true},
		{"frame too large, no payload", &inspect.Event{T: 9 * time.Second, Kind: inspect.KindFrame, Conn: 1, Frame: tooBig},
			frameKeys("len", "truncated", "b64"), ptr(""), true},
		{"msg text", &inspect.Event{T: 10 * time.Second, Kind: inspect.KindMsg, Conn: 1,
			Msg: &inspect.Message{Dir: c2s, Op: inspect.OpText, Frames: []uint64{1, 3, 4}, WireLen: 11, Payload: []byte("hello world")}},
			[]string{"t", "ev", "conn", "dir", "op", "frames", "deflated", "text"}, ptr("hello world"), false},
		{"msg binary", &inspect.Event{T: 10 * time.Second, Kind: inspect.KindMsg, Conn: 1,
			Msg: &inspect.Message{Dir: s2c, Op: inspect.OpBinary, Frames: []uint64{5}, WireLen: 3, Payload: []byte{0, 1, 2}}},
			[]string{"t", "ev", "conn", "dir", "op", "frames", "deflated", "b64"}, ptr("\x00\x01\x02"), true},
		{"msg deflated", &inspect.Event{T: 10 * time.Second, Kind: inspect.KindMsg, Conn: 1,
			Msg: &inspect.Message{Dir: s2c, Op: inspect.OpText, Frames: []uint64{6}, Deflated: true, WireLen: 7, Payload: []byte(`{"a":1}`)}},
			[]string{"t", "ev", "conn", "dir", "op", "frames", "deflated", "wire_len", "text"}, ptr(`{"a":1}`), false},
		{"msg invalid text", &inspect.Event{T: 11 * time.Second, Kind: inspect.KindMsg, Conn: 1,
			Msg: &inspect.Message{Dir: s2c, Op: inspect.OpText, Frames: []uint64{7}, WireLen: 1, Payload: []byte{0xff},
				Violations: []inspect.Violation{violation(inspect.RuleTextInvalidUTF8, "text message is not valid UTF-8")}}},
			[]string{"t", "ev", "conn", "dir", "op", "frames", "deflated", "b64", "violations"}, ptr("\xff"), true},
		{"open", &inspect.Event{T: 0, Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{
			URL: "wss://example.com/ws?x=1", Role: inspect.RoleClient,
			Request: inspect.Request{Method: "GET", Target: "/ws?x=1", Proto: "HTTP/1.1", Headers: []inspect.HeaderField{
				{Name: "Host", Value: "example.com"}, {Name: "Sec-WebSocket-Protocol", Value: "a"}, {Name: "Sec-WebSocket-Protocol", Value: "b"}, {Name: "Authorization", Value: inspect.Redacted}}},
			Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols", Headers: []inspect.HeaderField{
				{Name: "Upgrade", Value: "websocket"}, {Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; client_max_window_bits=15"}}},
			Subprotocol: "b",
			Extensions:  []inspect.Extension{{Name: "permessage-deflate", Params: []inspect.HeaderField{{Name: "client_max_window_bits", Value: "15"}, {Name: "server_no_context_takeover", Value: ""}}}},
			Local:       "10.0.0.2:50000", Remote: "93.184.216.34:443",
			TLS: &inspect.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "example.com", PeerSubject: "CN=example.com",
				ClientSubject: "CN=alice", ClientIssuer: "CN=Example CA", ClientSHA256: "01:02"},
			Start: start,
		}}, []string{"t", "ev", "conn", "url", "role", "request", "response", "subprotocol", "extensions", "local", "remote", "tls", "start"}, nil, false},
		{"open plain", &inspect.Event{T: 0, Kind: inspect.KindOpen, Conn: 2, Open: &inspect.Open{URL: "ws://localhost:9000/", Role: inspect.RoleServer, Start: start}},
			[]string{"t", "ev", "conn", "url", "role", "request", "response", "subprotocol", "extensions", "local", "remote", "start"}, nil, false},
		{"end clean", &inspect.Event{T: 12 * time.Second, Kind: inspect.KindEnd, Conn: 1,
			End: &inspect.End{Clean: true, Code: inspect.CloseNormal, Reason: "bye", Closer: "client", TCP: "fin"}},
			[]string{"t", "ev", "conn", "clean", "code", "name", "reason", "closer", "tcp"}, nil, false},
		{"end abnormal", &inspect.Event{T: 12*time.Second + 1, Kind: inspect.KindEnd, Conn: 2,
			End: &inspect.End{Code: inspect.CloseAbnormal, TCP: "reset", Err: "read: connection reset by peer"}},
			[]string{"t", "ev", "conn", "clean", "code", "name", "reason", "closer", "tcp", "error"}, nil, false},
		{"error", &inspect.Event{T: 13 * time.Second, Kind: inspect.KindError, Conn: 1, Text: "frame of 2000 bytes exceeds the limit of 1000 bytes"},
			[]string{"t", "ev", "conn", "text"}, nil, false},
		{"mark", &inspect.Event{T: 14 * time.Second, Kind: inspect.KindMark, Conn: 1, Text: "here"},
			[]string{"t", "ev", "conn", "text"}, nil, false},
		{"note without text", &inspect.Event{T: 15 * time.Second, Kind: inspect.KindNote, Conn: 1},
			[]string{"t", "ev", "conn"}, nil, false},
	}
}

// topKeys returns the keys of the JSON object in line, in order.
func topKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestAppendJSONEvents(t *testing.T) {
	var golden bytes.Buffer
	for _, c := range jsonCases(t) {
		line := AppendEvent(nil, c.ev)
		golden.Write(line)
		golden.WriteByte('\n')
		t.Run(c.name, func(t *testing.T) {
			if !json.Valid(line) {
				t.Fatalf("not valid JSON: %s", line)
			}
			if bytes.ContainsAny(line, "\n\r\u2028\u2029") {
				t.Errorf("raw line break in %s", line)
			}
			if keys := topKeys(t, line); !reflect.DeepEqual(keys, c.keys) {
				t.Errorf("keys %v\nwant %v", keys, c.keys)
			}
			// Appending keeps what was there.
			if got := AppendEvent([]byte("x"), c.ev); !bytes.Equal(got[1:], line) || got[0] != 'x' {
				t.Error("AppendJSON does not append")
			}
			var v struct {
				T    float64 `json:"t"`
				Ev   string  `json:"ev"`
				Conn int     `json:"conn"`
				Text *string `json:"text"`
				B64  *string `json:"b64"`
			}
			if err := json.Unmarshal(line, &v); err != nil {
				t.Fatal(err)
			}
			if v.Ev != c.ev.Kind.String() || v.Conn != c.ev.Conn || math.Abs(v.T-c.ev.T.Seconds()) > 1e-6 {
				t.Errorf("t/ev/conn %v %q %d", v.T, v.Ev, v.Conn)
			}
			if c.payload == nil {
				return
			}
			switch {
			case c.b64 && (v.B64 == nil || v.Text != nil):
				t.Fatalf("want b64 only: %s", line)
			case !c.b64 && (v.Text == nil || v.B64 != nil):
				t.Fatalf("want text only: %s", line)
			case c.b64:
				got, err := base64.StdEncoding.DecodeString(*v.B64)
				if err != nil || string(got) != *c.payload {
					t.Errorf("b64 decodes to %q (%v), want %q", got, err, *c.payload)
				}
			default:
				if *v.Text != *c.payload {
					t.Errorf("text decodes to %q, want %q", *v.Text, *c.payload)
				}
			}
		})
	}
	hdr := &inspect.RecordingHeader{
		Created:  time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC),
		Tool:     "wscope",
		Version:  "v0.1.0 \"dev\"",
		Source:   "live",
		Redacted: []string{"Authorization", "Cookie"},
	}
	line := AppendHeader(nil, *hdr)
	if !json.Valid(line) {
		t.Fatalf("header not valid JSON: %s", line)
	}
	if keys := topKeys(t, line); !reflect.DeepEqual(keys, []string{"wsrec", "created", "tool", "source", "lossy", "redacted"}) {
		t.Errorf("header keys %v", keys)
	}
	empty := AppendHeader(nil, inspect.RecordingHeader{Source: "har", Lossy: true})
	if !json.Valid(empty) || !bytes.Contains(empty, []byte(`"redacted":[]`)) || !bytes.Contains(empty, []byte(`"lossy":true`)) {
		t.Errorf("empty header: %s", empty)
	}
	all := append(append(append(line, '\n'), empty...), '\n')
	all = append(all, golden.Bytes()...)
	checkGolden(t, "encode.golden.jsonl", all)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s line %d:\n got %s\nwant %s", path, i+1, g, w)
			}
		}
		t.Log("run go test -update to accept the new output")
	}
}

func TestAppendJSONFrameFields(t *testing.T) {
	f := frameOf(t, 42, inspect.ClientToServer, wireFrame(inspect.Header{Fin: false, Rsv: inspect.Rsv2 | inspect.Rsv3, Op: inspect.OpBinary, Masked: true, Mask: [4]byte{0xde, 0xad, 0xbe, 0xef}, LenEnc: inspect.Len16}, []byte{1, 2, 3}))
	var v map[string]any
	if err := json.Unmarshal(AppendEvent(nil, &inspect.Event{Kind: inspect.KindFrame, Conn: 3, Frame: f}), &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"t": 0.0, "ev": "frame", "conn": 3.0, "seq": 42.0, "dir": "c2s", "fin": false,
		"rsv1": false, "rsv2": true, "rsv3": true, "op": "binary", "masked": true,
		"mask": "deadbeef", "len": 3.0, "len_enc": 16.0, "b64": "AQID",
	}
	vs := v["violations"].([]any)
	delete(v, "violations")
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got  %v\nwant %v", v, want)
	}
	if len(vs) != 2 {
		t.Fatalf("violations %v", vs)
	}
	first := vs[0].(map[string]any)
	if first["rule"] != "length-not-minimal" || first["section"] != "RFC 6455 5.2" || first["msg"] == "" {
		t.Errorf("violation %v", first)
	}
	// A close frame carries its code, name and reason.
	c := frameOf(t, 1, inspect.ServerToClient, server(true, inspect.OpClose, string(inspect.AppendClose(nil, 4001, "why"))))
	var cv struct {
		Close struct {
			Code   int    `json:"code"`
			Name   string `json:"name"`
			Reason string `json:"reason"`
		} `json:"close"`
	}
	if err := json.Unmarshal(AppendEvent(nil, &inspect.Event{Kind: inspect.KindFrame, Frame: c}), &cv); err != nil {
		t.Fatal(err)
	}
	if cv.Close.Code != 4001 || cv.Close.Name != "Private Use" || cv.Close.Reason != "why" {
		t.Errorf("close %+v", cv.Close)
	}
}

// TestAppendJSONAllocs: frame and message events, the hot ones, are
// written without allocating, whatever the payload needs escaped.
func TestAppendJSONAllocs(t *testing.T) {
	for _, p := range []string{"plain", `{"quoted":"json\n"}`, "héllo 世界 \u2028 \xff", "\x00\x01"} {
		f := frameOf(t, 1, inspect.ClientToServer, client(true, inspect.OpText, p))
		events := []*inspect.Event{
			{Kind: inspect.KindFrame, Conn: 1, Frame: f},
			{Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: inspect.ClientToServer, Op: inspect.OpText, Frames: []uint64{1, 2}, Payload: []byte(p)}},
		}
		for _, ev := range events {
			buf := AppendEvent(nil, ev)
			if n := testing.AllocsPerRun(100, func() { buf = AppendEvent(buf[:0], ev) }); n != 0 {
				t.Errorf("%s event with payload %q: %v allocations", ev.Kind, p, n)
			}
		}
	}
}

// TestAppendSeconds: the integer formatting of "t" writes what
// strconv.AppendFloat(d.Seconds(), 'f', 6) wrote before it, away from
// exact half-microsecond ties, for any session shorter than 13 days
// (beyond, a float64 of seconds no longer holds every microsecond: the
// integers are the exact ones).
func TestAppendSeconds(t *testing.T) {
	ds := []time.Duration{0, 1, 499, 501, 999, time.Microsecond, 1500 * time.Millisecond, 12*time.Second + 1,
		time.Hour + 123456789, 1234567890123, -1500 * time.Millisecond}
	for x := uint64(1); len(ds) < 2000; x = x*6364136223846793005 + 1442695040888963407 {
		ds = append(ds, time.Duration(x>>(x%40+4)))
	}
	for _, d := range ds {
		if d%1000 == 500 || -d%1000 == 500 || d > 1<<50 || d < -1<<50 {
			continue
		}
		got := string(appendSeconds(nil, d))
		want := strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
		if got != want {
			t.Errorf("%d ns: %s, want %s", int64(d), got, want)
		}
	}
}
