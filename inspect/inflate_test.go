package inspect

import (
	"errors"
	"strings"
	"testing"
)

func TestAssemblerInflates(t *testing.T) {
	var d Deflater
	c, _ := d.Deflate([]byte("héllo héllo héllo"))
	a := Assembler{Dir: ServerToClient, Deflate: true, MaxMessageSize: 1 << 20, Inflater: &Inflater{}}
	f := &Frame{Dir: ServerToClient, Header: Header{Fin: true, Rsv: Rsv1, Op: OpText, Length: uint64(len(c))}, Payload: c}
	m, err := a.Add(f)
	if err != nil || m == nil {
		t.Fatalf("%v %v", m, err)
	}
	if !m.Deflated || m.WireLen != len(c) || string(m.Payload) != "héllo héllo héllo" || len(m.Violations) != 0 {
		t.Fatalf("got %+v", m)
	}

	// Invalid UTF-8 is checked after decompression.
	c, _ = (&Deflater{}).Deflate([]byte{0xff, 0xfe})
	f = &Frame{Dir: ServerToClient, Header: Header{Fin: true, Rsv: Rsv1, Op: OpText, Length: uint64(len(c))}, Payload: c}
	a.Inflater = &Inflater{}
	m, err = a.Add(f)
	if err != nil || len(m.Violations) != 1 || m.Violations[0].Rule != RuleTextInvalidUTF8 {
		t.Fatalf("got %+v %v", m, err)
	}

	// Garbage and zip bombs.
	f = &Frame{Dir: ServerToClient, Header: Header{Fin: true, Rsv: Rsv1, Op: OpBinary, Length: 3}, Payload: []byte{0xff, 0xff, 0xff}}
	var de *DecompressError
	if _, err = a.Add(f); !errors.As(err, &de) {
		t.Fatalf("garbage: %v", err)
	}
	c, _ = (&Deflater{}).Deflate(make([]byte, 1<<21))
	f = &Frame{Dir: ServerToClient, Header: Header{Fin: true, Rsv: Rsv1, Op: OpBinary, Length: uint64(len(c))}, Payload: c}
	a.Inflater = &Inflater{}
	var le *InflateLimitError
	if _, err = a.Add(f); !errors.As(err, &le) {
		t.Fatalf("bomb: %v", err)
	}
}

func TestLineShowsCompressionRatio(t *testing.T) {
	e := &Event{Kind: KindMsg, Msg: &Message{Dir: ServerToClient, Op: OpText, Frames: []uint64{1}, Deflated: true, WireLen: 25, Payload: []byte(strings.Repeat("a", 100))}}
	if got := string(AppendLine(nil, e, LineOptions{})); !strings.Contains(got, "len=100 wire=25 ratio=0.25 ") {
		t.Errorf("line %q", got)
	}
}
