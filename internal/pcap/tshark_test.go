package pcap

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// tsharkFrame is one WebSocket frame as Wireshark's dissector saw it (see
// testdata/README.md for the command that wrote the .tshark.json files).
type tsharkFrame struct {
	packet  int
	stream  int
	fin     bool
	rsv     uint8
	op      inspect.OpCode
	masked  bool
	key     string
	length  uint64
	text    *string // decompressed by tshark when compressed
	data    []byte  // binary payload, decompressed
	code    int
	reason  *string
	control []byte // ping or pong payload
}

func loadTshark(t *testing.T, path string) []tsharkFrame {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pkts []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(b, &pkts); err != nil {
		t.Fatal(err)
	}
	var out []tsharkFrame
	for _, p := range pkts {
		l := p.Source.Layers
		for k, v := range l {
			if len(v) != 1 {
				t.Fatalf("%s: packet %v has %d values of %s: several frames in one packet, which this test does not pair up yet", path, l["frame.number"], len(v), k)
			}
		}
		one := func(k string) string {
			if v, ok := l[k]; ok {
				return v[0]
			}
			return ""
		}
		num := func(k string) uint64 {
			s := one(k)
			if s == "" {
				return 0
			}
			n, err := strconv.ParseUint(s, 0, 64)
			if err != nil {
				t.Fatalf("%s: %s = %q: %v", path, k, s, err)
			}
			return n
		}
		unhex := func(k string) []byte {
			s := strings.ReplaceAll(one(k), ":", "")
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("%s: %s = %q: %v", path, k, s, err)
			}
			return b
		}
		f := tsharkFrame{
			packet: int(num("frame.number")),
			stream: int(num("tcp.stream")),
			fin:    num("websocket.fin") == 1,
			rsv:    uint8(num("websocket.rsv")),
			op:     inspect.OpCode(num("websocket.opcode")),
			masked: num("websocket.mask") == 1,
			key:    strings.ReplaceAll(one("websocket.masking_key"), ":", ""),
			length: num("websocket.payload_length"),
			code:   int(num("websocket.payload.close.status_code")),
		}
		if _, ok := l["websocket.payload_length_ext_16"]; ok {
			f.length = num("websocket.payload_length_ext_16")
		}
		if _, ok := l["websocket.payload_length_ext_64"]; ok {
			f.length = num("websocket.payload_length_ext_64")
		}
		if v, ok := l["websocket.payload.text"]; ok {
			f.text = &v[0]
		}
		if _, ok := l["data.data"]; ok {
			f.data = unhex("data.data")
		}
		if v, ok := l["websocket.payload.close.reason"]; ok {
			f.reason = &v[0]
		}
		for _, k := range []string{"websocket.payload.ping", "websocket.payload.pong"} {
			if _, ok := l[k]; ok {
				f.control = unhex(k)
			}
		}
		out = append(out, f)
	}
	return out
}

// TestAgainstTshark dissects each fixture and compares every frame with
// what tshark found in it: the header bits, the mask key, the length, and
// the payload wherever tshark shows it (tshark decompresses single-frame
// messages itself, context takeover included, so their text is compared
// with the decompressed message).
func TestAgainstTshark(t *testing.T) {
	for _, name := range []string{"deflate.pcapng", "nocontext-ipv6-sll2.pcapng", "plain.pcap", "plain-nsec.pcap"} {
		t.Run(name, func(t *testing.T) {
			want := loadTshark(t, "testdata/"+name+".tshark.json")
			recs := collectFile(t, "testdata/"+name)
			var frames []record
			msgs := map[[2]uint64]*inspect.Message{} // (conn, last frame seq) -> message
			for _, r := range recs {
				switch r.ev.Kind {
				case inspect.KindFrame:
					frames = append(frames, r)
				case inspect.KindMsg:
					m := r.ev.Msg
					msgs[[2]uint64{uint64(r.ev.Conn), m.Frames[len(m.Frames)-1]}] = m
				}
			}
			if len(frames) != len(want) {
				t.Fatalf("%d frames, tshark finds %d", len(frames), len(want))
			}
			// tshark numbers every TCP stream; the dissector numbers the
			// WebSocket connections. Both in order of appearance.
			streams := map[int]int{}
			deflated := map[[2]int]bool{} // (conn, dir) -> the message in progress is compressed
			wantMsgs := 0
			for i, w := range want {
				r := frames[i]
				f := r.ev.Frame
				at := "packet " + strconv.Itoa(w.packet)
				if c, ok := streams[w.stream]; !ok {
					streams[w.stream] = r.ev.Conn
				} else if c != r.ev.Conn {
					t.Errorf("%s: conn %d, earlier frames of tshark's stream %d were conn %d", at, r.ev.Conn, w.stream, c)
				}
				if f.Fin != w.fin || f.Rsv != w.rsv || f.Op != w.op || f.Masked != w.masked || f.Length != w.length {
					t.Errorf("%s: fin=%v rsv=%d op=%v masked=%v len=%d; tshark: fin=%v rsv=%d op=%v masked=%v len=%d",
						at, f.Fin, f.Rsv, f.Op, f.Masked, f.Length, w.fin, w.rsv, w.op, w.masked, w.length)
				}
				if f.Masked && hex.EncodeToString(f.Mask[:]) != w.key {
					t.Errorf("%s: mask %x, tshark %s", at, f.Mask, w.key)
				}
				if (f.Dir == inspect.ClientToServer) != f.Masked {
					t.Errorf("%s: %s frame masked=%v", at, f.Dir, f.Masked)
				}
				if len(f.Violations) > 0 {
					t.Errorf("%s: violations %v in a session between two ws peers", at, f.Violations)
				}
				if f.Fin && (f.Op.IsData() || f.Op == inspect.OpContinuation) {
					wantMsgs++
				}
				m := msgs[[2]uint64{uint64(r.ev.Conn), f.Seq}]
				switch {
				case f.Op.IsData() && f.Fin:
					// A whole message in one frame: tshark shows it
					// decompressed.
					if m == nil {
						t.Fatalf("%s: no message for frame %d", at, f.Seq)
					}
					if m.Deflated != (f.Rsv1()) {
						t.Errorf("%s: message deflated=%v, frame rsv1=%v", at, m.Deflated, f.Rsv1())
					}
					switch {
					case w.text != nil:
						if string(m.Payload) != *w.text {
							t.Errorf("%s: message %.60q, tshark %.60q", at, m.Payload, *w.text)
						}
					case w.data != nil:
						if string(m.Payload) != string(w.data) {
							t.Errorf("%s: message %x, tshark %x", at, m.Payload, w.data)
						}
					default:
						t.Errorf("%s: tshark shows no payload", at)
					}
				}
				key := [2]int{r.ev.Conn, int(f.Dir)}
				if f.Op.IsData() {
					deflated[key] = f.Rsv1()
				}
				switch f.Op {
				case inspect.OpContinuation, inspect.OpText:
					// The frames of a compressed fragmented message are
					// not text; tshark shows whatever it makes of them.
					got := f.Payload
					if f.Op == inspect.OpContinuation && f.Fin && m != nil {
						got = m.Payload // tshark shows the reassembled message on the last fragment
					}
					if !deflated[key] && w.text != nil && string(got) != *w.text {
						t.Errorf("%s: frame payload %q, tshark %q", at, got, *w.text)
					}
				case inspect.OpPing, inspect.OpPong:
					if string(f.Payload) != string(w.control) {
						t.Errorf("%s: %s payload %q, tshark %q", at, f.Op, f.Payload, w.control)
					}
				case inspect.OpClose:
					if f.Close == nil || int(f.Close.Code) != w.code || w.reason == nil || f.Close.Reason != *w.reason {
						t.Errorf("%s: close %+v, tshark %d %v", at, f.Close, w.code, w.reason)
					}
				}
			}
			if len(msgs) != wantMsgs {
				t.Errorf("%d messages, tshark's frames make %d", len(msgs), wantMsgs)
			}
		})
	}
}
