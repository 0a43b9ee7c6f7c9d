package record

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wscope/wscope/inspect"
)

var (
	c2s     = inspect.ClientToServer
	s2c     = inspect.ServerToClient
	testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}
)

// wireFrame returns the bytes of a frame as they cross the wire.
func wireFrame(h inspect.Header, payload []byte) []byte {
	if h.Length == 0 && len(payload) > 0 {
		h.Length = uint64(len(payload))
	}
	b := inspect.AppendHeader(nil, h)
	p := append([]byte(nil), payload...)
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return append(b, p...)
}

// dissect decodes wire bytes as wscope would: the decoder, then the
// assembler for violations and close bodies.
func dissect(t testing.TB, seq uint64, dir inspect.Direction, wire []byte) *inspect.Frame {
	t.Helper()
	f := &inspect.Frame{}
	d := inspect.NewDecoder(bytes.NewReader(wire), dir)
	if err := d.Next(f); err != nil {
		t.Fatal(err)
	}
	f.Seq = seq
	f.Raw = slices.Clone(f.Raw)
	f.Payload = slices.Clone(f.Payload)
	(&inspect.Assembler{Dir: dir}).Add(f)
	return f
}

func text(dir inspect.Direction, fin bool, op inspect.OpCode, payload string) []byte {
	h := inspect.Header{Fin: fin, Op: op}
	if dir == c2s {
		h.Masked, h.Mask = true, testKey
	}
	return wireFrame(h, []byte(payload))
}

var testStart = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// allEvents has every event kind and every optional key at least once.
func allEvents(t testing.TB) []*inspect.Event {
	violation := func(r inspect.Rule, msg string) inspect.Violation {
		return inspect.Violation{Rule: r, Section: r.Section(), Message: msg}
	}
	big := strings.Repeat("x", 70000)
	return []*inspect.Event{
		{T: 0, Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{
			URL: "wss://example.com/chat?room=1", Role: inspect.RoleClient,
			Request: inspect.Request{Method: "GET", Target: "/chat?room=1", Proto: "HTTP/1.1", Headers: []inspect.HeaderField{
				{Name: "Host", Value: "example.com"}, {Name: "Upgrade", Value: "websocket"},
				{Name: "Sec-WebSocket-Protocol", Value: "chat"}, {Name: "Sec-WebSocket-Protocol", Value: "superchat"},
				{Name: "X-Quote", Value: "a \"quoted\" \\ value\u2028"}}},
			Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols", Headers: []inspect.HeaderField{
				{Name: "Upgrade", Value: "websocket"}, {Name: "Sec-WebSocket-Protocol", Value: "chat"},
				{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; client_max_window_bits=15; server_no_context_takeover"}}},
			Subprotocol: "chat",
			Extensions: []inspect.Extension{{Name: "permessage-deflate", Params: []inspect.HeaderField{
				{Name: "client_max_window_bits", Value: "15"}, {Name: "server_no_context_takeover", Value: ""}}}},
			Local: "10.0.0.2:50312", Remote: "93.184.216.34:443",
			TLS: &inspect.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "example.com", PeerSubject: "CN=example.com",
				ClientSubject: "CN=alice,O=Example", ClientIssuer: "CN=Example CA", ClientSHA256: "AB:CD:EF"},
			Start: testStart,
		}},
		{T: 1500 * time.Microsecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 1, c2s, text(c2s, true, inspect.OpText, "hello"))},
		{T: 2 * time.Millisecond, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: c2s, Op: inspect.OpText, Frames: []uint64{1}, WireLen: 5, Payload: []byte("hello")}},
		{T: 3 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 2, s2c, text(s2c, false, inspect.OpText, "héllo \"wörld\"\n\t\x01 \u2028"))},
		{T: 4 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 3, s2c, text(s2c, true, inspect.OpContinuation, "!"))},
		{T: 4 * time.Millisecond, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: s2c, Op: inspect.OpText, Frames: []uint64{2, 3}, WireLen: 23, Payload: []byte("héllo \"wörld\"\n\t\x01 \u2028!")}},
		{T: 5 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 4, c2s, wireFrame(inspect.Header{Fin: true, Op: inspect.OpBinary, Masked: true, Mask: testKey}, []byte{0, 1, 2, 0xff}))},
		{T: 5 * time.Millisecond, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: c2s, Op: inspect.OpBinary, Frames: []uint64{4}, WireLen: 4, Payload: []byte{0, 1, 2, 0xff}}},
		// Non-minimal length encodings, RSV bits, a reserved opcode.
		{T: 6 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 5, s2c, wireFrame(inspect.Header{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len16}, []byte("short")))},
		{T: 6 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 6, c2s, wireFrame(inspect.Header{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Masked: true, Mask: testKey}, make([]byte, 200)))},
		{T: 7 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 7, s2c, wireFrame(inspect.Header{Fin: true, Rsv: inspect.Rsv1 | inspect.Rsv3, Op: inspect.OpText}, []byte("compressed?")))},
		{T: 7 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 8, s2c, wireFrame(inspect.Header{Fin: false, Op: 0xB}, []byte("reserved")))},
		{T: 8 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 9, s2c, text(s2c, true, inspect.OpText, big))},
		{T: 9 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 10, s2c, text(s2c, true, inspect.OpText, "bad \xff utf8"))},
		{T: 9 * time.Millisecond, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: s2c, Op: inspect.OpText, Frames: []uint64{10}, WireLen: 10, Payload: []byte("bad \xff utf8"),
			Violations: []inspect.Violation{violation(inspect.RuleTextInvalidUTF8, "text message is not valid UTF-8")}}},
		{T: 10 * time.Millisecond, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: s2c, Op: inspect.OpText, Frames: []uint64{11}, Deflated: true, WireLen: 9, Payload: []byte(`{"a":1}`)}},
		{T: 11 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 12, s2c, text(s2c, true, inspect.OpPing, "are you there"))},
		{T: 11 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 13, c2s, text(c2s, true, inspect.OpPong, ""))},
		// A frame whose payload was not kept (too large).
		{T: 12 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: &inspect.Frame{Seq: 14, Dir: s2c,
			Header: inspect.Header{Fin: true, Op: inspect.OpBinary, Length: 1 << 40, LenEnc: inspect.Len64},
			Raw:    inspect.AppendHeader(nil, inspect.Header{Fin: true, Op: inspect.OpBinary, Length: 1 << 40, LenEnc: inspect.Len64})}},
		{T: 13 * time.Millisecond, Kind: inspect.KindMark, Conn: 1, Text: "before close"},
		{T: 13 * time.Millisecond, Kind: inspect.KindNote, Conn: 0, Text: "a note\nwith two lines"},
		{T: 13 * time.Millisecond, Kind: inspect.KindGap, Conn: 1, Text: "1234 bytes lost"},
		{T: 14 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 15, c2s, text(c2s, true, inspect.OpClose, string(inspect.AppendClose(nil, inspect.CloseNormal, "bye"))))},
		{T: 15 * time.Millisecond, Kind: inspect.KindFrame, Conn: 1, Frame: dissect(t, 16, s2c, text(s2c, true, inspect.OpClose, string(inspect.AppendClose(nil, 1005, "\xff"))))},
		{T: 16 * time.Millisecond, Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{Clean: true, Code: inspect.CloseNormal, Reason: "bye", Closer: "client", TCP: "fin",
			ClientClose: &inspect.Close{Code: inspect.CloseNormal, Reason: "bye"}, ServerClose: &inspect.Close{Code: inspect.CloseNormal, Reason: "bye"}}},
		{T: 17 * time.Millisecond, Kind: inspect.KindOpen, Conn: 2, Open: &inspect.Open{URL: "ws://127.0.0.1:9000/", Role: inspect.RoleServer, Start: testStart.Add(17 * time.Millisecond)}},
		{T: 18 * time.Millisecond, Kind: inspect.KindError, Conn: 2, Text: "read tcp: connection reset by peer"},
		{T: 1234567890 * time.Microsecond, Kind: inspect.KindEnd, Conn: 2, End: &inspect.End{Code: inspect.CloseAbnormal, TCP: "reset", Err: "connection reset by peer",
			ClientClose: &inspect.Close{Code: inspect.CloseNoStatus}, Violations: 2,
			FirstViolation: &inspect.ViolationAt{Violation: inspect.Violation{Rule: inspect.RuleRsvWithoutExtension, Section: "RFC 6455 5.2", Message: "RSV2 set: no extension was negotiated"}, Dir: inspect.ServerToClient, Seq: 3}}},
	}
}

// sameEvent compares two events field by field, treating nil and empty
// slices alike and T to the microsecond the format keeps. It returns a
// description of the first difference.
func sameEvent(a, b *inspect.Event) string {
	if a.T.Round(time.Microsecond) != b.T.Round(time.Microsecond) {
		return fmt.Sprintf("T %v != %v", a.T, b.T)
	}
	if a.Kind != b.Kind || a.Conn != b.Conn || a.Text != b.Text {
		return fmt.Sprintf("kind/conn/text %v %d %q != %v %d %q", a.Kind, a.Conn, a.Text, b.Kind, b.Conn, b.Text)
	}
	if (a.Open == nil) != (b.Open == nil) || (a.Frame == nil) != (b.Frame == nil) || (a.Msg == nil) != (b.Msg == nil) || (a.End == nil) != (b.End == nil) {
		return "different pointers set"
	}
	if a.Open != nil {
		x, y := *a.Open, *b.Open
		if !x.Start.Equal(y.Start) {
			return fmt.Sprintf("start %v != %v", x.Start, y.Start)
		}
		x.Start, y.Start = time.Time{}, time.Time{}
		if (x.TLS == nil) != (y.TLS == nil) || (x.TLS != nil && *x.TLS != *y.TLS) {
			return fmt.Sprintf("tls %+v != %+v", x.TLS, y.TLS)
		}
		x.TLS, y.TLS = nil, nil
		if fmt.Sprintf("%+v", x) != fmt.Sprintf("%+v", y) {
			return fmt.Sprintf("open\n%+v\n%+v", x, y)
		}
	}
	if a.Frame != nil {
		x, y := a.Frame, b.Frame
		if x.Seq != y.Seq || x.Dir != y.Dir || x.Header != y.Header {
			return fmt.Sprintf("frame header %+v %+v != %+v %+v", x.Seq, x.Header, y.Seq, y.Header)
		}
		if !bytes.Equal(x.Raw, y.Raw) || !bytes.Equal(x.Payload, y.Payload) {
			return fmt.Sprintf("frame raw/payload %x %q != %x %q", x.Raw, x.Payload, y.Raw, y.Payload)
		}
		if (x.Close == nil) != (y.Close == nil) || (x.Close != nil && *x.Close != *y.Close) {
			return fmt.Sprintf("close %v != %v", x.Close, y.Close)
		}
		if !slices.Equal(x.Violations, y.Violations) {
			return fmt.Sprintf("violations %v != %v", x.Violations, y.Violations)
		}
	}
	if a.Msg != nil {
		x, y := a.Msg, b.Msg
		if x.Dir != y.Dir || x.Op != y.Op || x.Deflated != y.Deflated || x.WireLen != y.WireLen ||
			!slices.Equal(x.Frames, y.Frames) || !bytes.Equal(x.Payload, y.Payload) || !slices.Equal(x.Violations, y.Violations) {
			return fmt.Sprintf("msg %+v != %+v", x, y)
		}
	}
	if a.End != nil && !reflect.DeepEqual(a.End, b.End) {
		return fmt.Sprintf("end %+v != %+v", a.End, b.End)
	}
	return ""
}

// readAll reads every event of a recording, cloned.
func readAll(t testing.TB, data []byte) (*Reader, []*inspect.Event) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []*inspect.Event
	for e, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, CloneEvent(e))
	}
	return r, out
}

func record(t testing.TB, evs []*inspect.Event, opts WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, inspect.RecordingHeader{Created: testStart, Version: "test"}, opts)
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
