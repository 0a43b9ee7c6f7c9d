package pcap

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// The messages gen/session.js sends (the server echoes each), in order.
func sessionMessages(deflate bool) []struct {
	op   inspect.OpCode
	text string
} {
	hello := "Hello, WebSocket! Hello, WebSocket! Hello, WebSocket!"
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i * 7 % 256)
	}
	msgs := []struct {
		op   inspect.OpCode
		text string
	}{
		{inspect.OpText, hello},
		{inspect.OpText, hello},
		{inspect.OpBinary, string(bin)},
	}
	if deflate {
		msgs = append(msgs, struct {
			op   inspect.OpCode
			text string
		}{inspect.OpText, "sent without compression"})
	}
	return append(msgs, []struct {
		op   inspect.OpCode
		text string
	}{
		{inspect.OpText, "frag-one frag-two frag-three"},
		{inspect.OpText, ""}, // the JSON: checked apart
		{inspect.OpText, "héllo wörld ✓ 😀"},
	}...)
}

func TestFixtureSessions(t *testing.T) {
	for _, tc := range []struct {
		file      string
		deflate   bool
		takeover  bool
		server    string
		closeCode inspect.CloseCode
	}{
		{"deflate.pcapng", true, true, "127.0.0.1:9001", 4000},
		{"nocontext-ipv6-sll2.pcapng", true, false, "[::1]:9002", 4000},
		{"plain.pcap", false, false, "127.0.0.1:9003", 1000},
		{"plain-nsec.pcap", false, false, "127.0.0.1:9003", 1000},
	} {
		t.Run(tc.file, func(t *testing.T) {
			recs := collectFile(t, "testdata/"+tc.file)
			conn := 1
			if !tc.deflate {
				// First the refused upgrade.
				if e := recs[0].ev; e.Kind != inspect.KindError || e.Conn != 1 || e.Text != "handshake refused: HTTP/1.1 403 Forbidden (GET ws://"+tc.server+"/deny)" {
					t.Fatalf("first event %s", recs[0].json)
				}
				recs, conn = recs[1:], 2
			}
			open := recs[0].ev
			if open.Kind != inspect.KindOpen || open.Conn != conn {
				t.Fatalf("want open of conn %d, got %s", conn, recs[0].json)
			}
			o := open.Open
			if o.URL != "ws://"+tc.server+"/chat?room=1" || o.Role != inspect.RoleClient || o.Remote != tc.server ||
				!strings.HasPrefix(o.Local, strings.TrimSuffix(tc.server, tc.server[strings.LastIndex(tc.server, ":"):])+":") ||
				o.Request.Method != "GET" || o.Request.Target != "/chat?room=1" || o.Response.Status != 101 || o.Start.IsZero() {
				t.Errorf("open: %s", recs[0].json)
			}
			if v := headerValues(o.Request.Headers, "X-Fixture"); v == "" {
				t.Errorf("request headers lost: %v", o.Request.Headers)
			}
			wantExt := ""
			if tc.deflate {
				// ws offers client_max_window_bits and its server
				// answers without it.
				wantExt = "permessage-deflate[]"
				if !tc.takeover {
					wantExt = "permessage-deflate[server_no_context_takeover= client_no_context_takeover=]"
				}
			}
			if got := extString(o.Extensions); got != wantExt {
				t.Errorf("extensions %s, want %s", got, wantExt)
			}

			var msgs []*inspect.Message
			var end *inspect.End
			frames := map[uint64]*inspect.Frame{}
			for _, r := range recs[1:] {
				if r.ev.Conn != conn {
					t.Fatalf("event of another connection: %s", r.json)
				}
				switch r.ev.Kind {
				case inspect.KindMsg:
					msgs = append(msgs, r.ev.Msg)
				case inspect.KindFrame:
					frames[r.ev.Frame.Seq] = r.ev.Frame
				case inspect.KindEnd:
					end = r.ev.End
				default:
					t.Errorf("unexpected %s", r.json)
				}
			}
			want := sessionMessages(tc.deflate)
			if len(msgs) != 2*len(want) {
				t.Fatalf("%d messages, want %d", len(msgs), 2*len(want))
			}
			for i, m := range msgs {
				w := want[i/2]
				dir := inspect.ClientToServer
				if i%2 == 1 {
					dir = inspect.ServerToClient
				}
				if m.Dir != dir || m.Op != w.op {
					t.Errorf("message %d: %s %s, want %s %s", i, m.Dir, m.Op, dir, w.op)
				}
				if w.text == "" {
					if len(m.Payload) != 14181 || !strings.HasPrefix(string(m.Payload), `[{"id":0,"name":"item-0","token":"41c67ea6167eb10013df8d4012b8d480"}`) ||
						!strings.HasSuffix(string(m.Payload), `"name":"item-199","token":"290f72803f76f08045eb960011030e00"}]`) {
						t.Errorf("message %d: %.80q...", i, m.Payload)
					}
				} else if string(m.Payload) != w.text {
					t.Errorf("message %d: %q, want %q", i, m.Payload, w.text)
				}
				compressed := tc.deflate && !(dir == inspect.ClientToServer && w.text == "sent without compression")
				if m.Deflated != compressed {
					t.Errorf("message %d (%.20q): deflated=%v, want %v", i, m.Payload, m.Deflated, compressed)
				}
				if len(m.Violations) > 0 {
					t.Errorf("message %d: %v", i, m.Violations)
				}
				wireLen := 0
				for _, s := range m.Frames {
					wireLen += len(frames[s].Payload)
				}
				if m.Deflated && m.WireLen != wireLen {
					t.Errorf("message %d: wire length %d, its frames carry %d", i, m.WireLen, wireLen)
				}
				nframes := 1
				if w.text == "frag-one frag-two frag-three" && dir == inspect.ClientToServer {
					nframes = 3
				}
				if len(m.Frames) != nframes {
					t.Errorf("message %d: frames %v, want %d", i, m.Frames, nframes)
				}
			}
			if tc.deflate {
				// The same text twice: with context takeover the second
				// is mostly a back-reference into the first.
				first, second := msgs[0].WireLen, msgs[2].WireLen
				if tc.takeover && second >= first/2 {
					t.Errorf("context takeover: second hello is %d bytes, first %d", second, first)
				}
				if !tc.takeover && second != first {
					t.Errorf("no context takeover: second hello is %d bytes, first %d", second, first)
				}
			}
			if end == nil {
				t.Fatal("no end event")
			}
			// A close handshake completed is clean, whatever its code.
			closes := &inspect.Close{Code: tc.closeCode, Reason: "bye"}
			wantEnd := inspect.End{Clean: true, Code: tc.closeCode, Reason: "bye", Closer: "client", TCP: "fin", ClientClose: closes, ServerClose: closes}
			if tc.closeCode == 1000 {
				wantEnd.Reason, closes.Reason = "done", "done"
			}
			if !reflect.DeepEqual(*end, wantEnd) {
				t.Errorf("end %+v, want %+v", *end, wantEnd)
			}
			if last := recs[len(recs)-1].ev; last.Kind != inspect.KindEnd {
				t.Errorf("last event is %s", last.Kind)
			}
		})
	}
}

func extString(xs []inspect.Extension) string {
	var b strings.Builder
	for _, x := range xs {
		fmt.Fprintf(&b, "%s[", x.Name)
		for i, p := range x.Params {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", p.Name, p.Value)
		}
		b.WriteByte(']')
	}
	return b.String()
}

// Times are offsets from the first packet of the capture, and the
// nanosecond pcap gives the same events as the microsecond one.
func TestFixtureTimes(t *testing.T) {
	micro := collectFile(t, "testdata/plain.pcap")
	nano := collectFile(t, "testdata/plain-nsec.pcap")
	if len(micro) != len(nano) {
		t.Fatalf("%d events from the µs file, %d from the ns one", len(micro), len(nano))
	}
	for i := range micro {
		if micro[i].json != nano[i].json {
			t.Errorf("event %d differs:\n%s\n%s", i, micro[i].json, nano[i].json)
		}
	}
	var last float64
	for _, r := range micro {
		s := r.ev.T.Seconds()
		if s < last || s > 1 {
			t.Errorf("time %v after %v: %s", s, last, r.json)
		}
		last = s
	}
	if o := micro[1].ev.Open; o.Start.Year() < 2020 || o.Start.Nanosecond()%1000 != 0 {
		t.Errorf("start %v", o.Start)
	}
}
