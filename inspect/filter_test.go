package inspect

import (
	"regexp"
	"testing"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	text := &Event{Kind: KindMsg, Conn: 1, Msg: &Message{Dir: ServerToClient, Op: OpText, Payload: []byte(`{"type":"tick"}`)}}
	bin := &Event{Kind: KindFrame, Conn: 2, Frame: &Frame{Dir: ClientToServer, Header: Header{Op: OpBinary}, Payload: []byte{1}}}
	ping := &Event{Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ClientToServer, Header: Header{Op: OpPing}}}
	zipped := &Event{Kind: KindFrame, Conn: 1, Frame: &Frame{Dir: ServerToClient, Header: Header{Op: OpText, Rsv: Rsv1}, Payload: []byte("tick")}}
	open := &Event{Kind: KindOpen, Conn: 1, Open: &Open{}}
	ops := func(s string) uint16 {
		set, err := ParseOps(s)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	cases := []struct {
		name string
		f    Filter
		want []*Event
	}{
		{"none", Filter{}, []*Event{text, bin, ping, zipped, open}},
		{"conn", Filter{Conn: 1}, []*Event{text, ping, zipped, open}},
		{"from server", Filter{From: ServerToClient}, []*Event{text, zipped}},
		{"data", Filter{Ops: ops("data")}, []*Event{text, bin, zipped}},
		{"control", Filter{Ops: ops("control")}, []*Event{ping}},
		{"binary,ping", Filter{Ops: ops("binary, ping")}, []*Event{bin, ping}},
		{"grep", Filter{Grep: regexp.MustCompile(`tick`)}, []*Event{text}},
	}
	for _, c := range cases {
		var got []*Event
		for _, e := range []*Event{text, bin, ping, zipped, open} {
			if c.f.Match(e) {
				got = append(got, e)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: matched %d, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: event %d differs", c.name, i)
			}
		}
	}
	if _, err := ParseOps("text,nope"); err == nil {
		t.Error("ParseOps accepted nope")
	}
}
