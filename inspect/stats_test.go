package inspect

import (
	"strings"
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	t.Parallel()
	var s Stats
	ms := time.Millisecond
	add := func(e Event) { s.Add(&e) }
	add(Event{T: 0, Kind: KindOpen, Conn: 1, Open: &Open{}})
	for i := range 100 {
		add(Event{T: time.Duration(i) * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ClientToServer, Header: Header{Op: OpText, Fin: true}, Payload: make([]byte, i)}})
		add(Event{T: time.Duration(i) * ms, Kind: KindMsg, Conn: 1, Msg: &Message{Dir: ClientToServer, Op: OpText, Payload: make([]byte, i)}})
	}
	add(Event{T: 200 * ms, Kind: KindMsg, Conn: 1, Msg: &Message{Dir: ServerToClient, Op: OpText, Deflated: true, WireLen: 100, Payload: make([]byte, 1000)}})
	add(Event{T: 300 * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ServerToClient, Header: Header{Op: OpPing}, Payload: []byte("p")}})
	add(Event{T: 305 * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ClientToServer, Header: Header{Op: OpPong}, Payload: []byte("p")}})
	add(Event{T: 310 * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ClientToServer, Header: Header{Op: OpPong}, Payload: []byte("unsolicited")}})
	add(Event{T: 400 * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ServerToClient, Header: Header{Op: 0x3}, Close: nil,
		Violations: []Violation{violation(RuleReservedOpcode, "x")}}})
	add(Event{T: 500 * ms, Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ServerToClient, Header: Header{Op: OpClose}, Close: &Close{Code: 4000}}})

	if s.Conns != 1 || s.Last-s.First != 500*ms {
		t.Errorf("conns %d, length %s", s.Conns, s.Last-s.First)
	}
	if c := s.Messages[ClientToServer]; c.N != 100 || c.Bytes != 4950 {
		t.Errorf("c2s messages %+v", c)
	}
	if p := s.Percentile(ClientToServer, 50); p != 63 {
		t.Errorf("p50 ≤ %d, want 63", p)
	}
	if p := s.Percentile(ClientToServer, 100); p != 127 {
		t.Errorf("p100 ≤ %d, want 127", p)
	}
	if s.RTT.N != 1 || s.RTT.Min != 5*ms {
		t.Errorf("rtt %+v", s.RTT)
	}
	if s.Deflated[ServerToClient].N != 1 || s.DeflatedOn[ServerToClient] != 100 {
		t.Errorf("deflate %+v %d", s.Deflated, s.DeflatedOn)
	}
	var b strings.Builder
	s.WriteText(&b)
	for _, want := range []string{"session      500ms, 1 connection(s)", "client → server  100 messages", "ratio 0.10", "ping rtt     1: min 5ms", "close        4000 Private Use ×1", "violation    reserved-opcode (RFC 6455 5.2) ×1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
