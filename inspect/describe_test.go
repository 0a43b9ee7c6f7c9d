package inspect

import (
	"bytes"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	// "Hello" masked, length sent in the 16-bit form (RFC 6455 5.7 key).
	wire := []byte{0x81, 0xFE, 0x00, 0x05, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	d := NewDecoder(bytes.NewReader(wire), ClientToServer)
	var f Frame
	if err := d.Next(&f); err != nil {
		t.Fatal(err)
	}
	var a Assembler
	a.Dir = ClientToServer
	a.Add(&f)
	got := Describe(&f)
	for _, want := range []string{
		"header   81 fe 00 05 37 fa 21 3d",
		"1... ....  FIN     1  final frame of its message",
		".... 0001  opcode  0x1 text",
		"1... ....  MASK    1  masked",
		".111 1110  length  126: 16-bit length follows",
		"length  5 (16-bit form, minimal is 7-bit)",
		"mask     37 fa 21 3d",
		"!!       length-not-minimal (RFC 6455 5.2)",
		"payload  5 bytes, text\nHello",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// TestDescribeRsv1WithoutDeflate: without permessage-deflate, RSV1 is a
// violation and the payload is still the text it is.
func TestDescribeRsv1WithoutDeflate(t *testing.T) {
	t.Parallel()
	f := &Frame{Dir: ServerToClient, Header: Header{Fin: true, Rsv: Rsv1, Op: OpText, Length: 5, LenEnc: Len7}, Payload: []byte("Hello")}
	(&Assembler{Dir: ServerToClient}).Add(f)
	got := Describe(f)
	for _, want := range []string{
		".1.. ....  RSV1    1  set\n",
		"!!       rsv-without-extension (RFC 6455 5.2)",
		"payload  5 bytes, text\nHello",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
