package inspect

import (
	"fmt"
	"strings"
)

// Describe explains one frame field by field, the way a dissector's detail
// pane does: the first two header bytes bit by bit, the extended length
// and mask key, the close body, the violations, and the payload as text,
// JSON or a hex dump.
func Describe(f *Frame) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	raw := f.Raw
	if len(raw) < 2 {
		raw = AppendHeader(nil, f.Header)
	}
	p("frame %d, %s, %d bytes on the wire\n", f.Seq, f.Dir, f.WireLen())
	p("header   % x\n", raw)
	b0, b1 := raw[0], raw[1]
	bit := func(v byte, i int) byte { return '0' + (v>>(7-i))&1 }
	p("         %c... ....  FIN     %s\n", bit(b0, 0), yesNo(f.Fin, "final frame of its message", "more frames follow"))
	rsv1 := "set"
	if ContentOf(f).Compressed {
		rsv1 = "set (permessage-deflate: compressed)"
	}
	p("         .%c.. ....  RSV1    %s\n", bit(b0, 1), yesNo(f.Rsv1(), rsv1, "clear"))
	p("         ..%c. ....  RSV2    %s\n", bit(b0, 2), yesNo(f.Rsv2(), "set", "clear"))
	p("         ...%c ....  RSV3    %s\n", bit(b0, 3), yesNo(f.Rsv3(), "set", "clear"))
	p("         .... %c%c%c%c  opcode  0x%X %s\n", bit(b0, 4), bit(b0, 5), bit(b0, 6), bit(b0, 7), byte(f.Op), opMeaning(f.Op))
	p("         %c... ....  MASK    %s\n", bit(b1, 0), yesNo(f.Masked, "masked", "not masked"))
	p("         .%c%c%c %c%c%c%c  length  %d", bit(b1, 1), bit(b1, 2), bit(b1, 3), bit(b1, 4), bit(b1, 5), bit(b1, 6), bit(b1, 7), b1&0x7F)
	switch f.LenEnc {
	case Len16:
		p(": 16-bit length follows\n         length  %d (16-bit form", f.Length)
	case Len64:
		p(": 64-bit length follows\n         length  %d (64-bit form", f.Length)
	default:
		p(" (7-bit form")
	}
	if want := MinimalLengthEncoding(f.Length); f.LenEnc != 0 && f.LenEnc != want {
		p(", minimal is %s-bit", want)
	}
	p(")\n")
	if f.Masked {
		p("mask     % x\n", f.Mask[:])
	}
	if uint64(len(f.Payload)) != f.Length {
		p("payload  %d of %d bytes arrived\n", len(f.Payload), f.Length)
	}
	if f.Close != nil {
		p("close    %s\n", AppendCloseText(nil, f.Close.Code, f.Close.Reason))
	}
	for _, v := range f.Violations {
		p("!!       %s\n", v)
	}
	p("payload  %d bytes", len(f.Payload))
	switch c := ContentOf(f); {
	case len(f.Payload) == 0:
		p("\n")
	case c.Op == OpText && !c.Compressed:
		if pretty, ok := PrettyJSON(f.Payload); ok {
			p(", JSON\n%s\n", pretty)
		} else {
			p(", text\n%s\n", TextView(f.Payload))
		}
	default:
		p("\n%s", HexDump(f.Payload))
	}
	return b.String()
}

func yesNo(on bool, yes, no string) string {
	if on {
		return "1  " + yes
	}
	return "0  " + no
}

func opMeaning(op OpCode) string {
	switch {
	case op == OpContinuation:
		return "continuation"
	case op.IsReserved():
		return "reserved"
	}
	return op.String()
}
