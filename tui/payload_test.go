package tui

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

func TestHexLines(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 100, 4096 + 3} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		var got strings.Builder
		h := hexLines{p: p, per: hexPerLine(80)}
		for i := range h.Len() {
			got.WriteString(h.Line(i) + "\n")
		}
		if want := hex.Dump(p); got.String() != want {
			t.Errorf("%d bytes:\n got %q\nwant %q", n, got.String(), want)
		}
		// Narrower panes get fewer bytes a line, never a line cut.
		for _, w := range []int{77, 50, 45, 44, 16} {
			h := hexLines{p: p, per: hexPerLine(w)}
			var all []byte
			for i := range h.Len() {
				l := h.Line(i)
				if len(l) > max(w, 29) {
					t.Fatalf("%d bytes at width %d: line %d is %d columns: %q", n, w, i, len(l), l)
				}
				f := strings.Fields(l[10 : 10+3*h.per])
				b, err := hex.DecodeString(strings.Join(f, ""))
				if err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				all = append(all, b...)
			}
			if !bytes.Equal(all, p) {
				t.Errorf("%d bytes at width %d: the lines hold %d bytes, not the payload", n, w, len(all))
			}
		}
	}
}

// TestDescribeLargeFrame: past describeInline, Describe sees the header
// alone; what the pane shows must not change.
func TestDescribeLargeFrame(t *testing.T) {
	defer func(n int) { describeInline = n }(describeInline)
	frames := []*inspect.Frame{
		{Seq: 3, Dir: c2s, Header: inspect.Header{Fin: true, Op: inspect.OpText, Masked: true, Mask: testMask, Length: 300, LenEnc: inspect.Len16}, Payload: bytes.Repeat([]byte("a"), 300)},
		{Seq: 4, Dir: s2c, Header: inspect.Header{Fin: true, Op: inspect.OpBinary, Length: 300, LenEnc: inspect.Len64}, Payload: bytes.Repeat([]byte{0}, 300)},
		{Seq: 5, Dir: s2c, Header: inspect.Header{Fin: false, Op: inspect.OpBinary, Length: 400, LenEnc: inspect.Len16}, Payload: bytes.Repeat([]byte{1}, 300)}, // truncated
		{Seq: 6, Dir: s2c, Header: inspect.Header{Fin: true, Op: inspect.OpClose, Length: 200, LenEnc: inspect.Len16}, Payload: inspect.AppendClose(nil, 4000, strings.Repeat("r", 198)),
			Close: &inspect.Close{Code: 4000, Reason: strings.Repeat("r", 198)}, Violations: []inspect.Violation{{Rule: inspect.RuleControlTooLong, Section: "RFC 6455 5.5", Message: "too long"}}},
	}
	for _, f := range frames {
		describeInline = 1 << 20
		whole := describeFrame(f)
		describeInline = 10
		cut := describeFrame(f)
		if strings.Join(whole, "\n") != strings.Join(cut, "\n") {
			t.Errorf("frame %d:\nwhole payload:\n%s\nheader alone:\n%s", f.Seq, strings.Join(whole, "\n"), strings.Join(cut, "\n"))
		}
		for _, l := range whole {
			if strings.HasPrefix(l, "payload  300 bytes") || strings.HasPrefix(l, "00000000") {
				t.Errorf("frame %d: the payload part was not cut: %q", f.Seq, l)
			}
		}
	}
}

func TestPayloadLines(t *testing.T) {
	long := `{"key":"` + strings.Repeat("v", 500) + `","n":1}`
	ls, v, note := payloadLines([]byte(long), viewJSON, 60)
	if v != viewJSON || note != "" {
		t.Fatalf("view %v, note %q", v, note)
	}
	for i := range ls.Len() {
		if w := ansi.StringWidth(ls.Line(i)); w > 60 {
			t.Errorf("line %d is %d wide: %q", i, w, ls.Line(i))
		}
	}
	if l := ls.Line(1); !strings.HasPrefix(l, `  "key": "vvv`) || !strings.HasSuffix(l, "…(+464)") {
		t.Errorf("folded line %q", l)
	}

	// Text wraps at the width and stops at the cap.
	defer func(n int) { textCap = n }(textCap)
	textCap = 1000
	ls, v, note = payloadLines(bytes.Repeat([]byte("0123456789"), 300), viewText, 50)
	if v != viewText || ls.Len() != 20 || !strings.Contains(note, "hex of all 3,000 bytes") {
		t.Errorf("text: view %v, %d lines, note %q", v, ls.Len(), note)
	}
	// Terminal controls never reach the screen.
	ls, _, _ = payloadLines([]byte("a\x1b[31mred\x07\tb"), viewText, 50)
	if got := ls.Line(0); got != `a\x1b[31mred\x07    b` {
		t.Errorf("escaped %q", got)
	}
	// Hex shows everything, whatever the cap.
	ls, v, _ = payloadLines(make([]byte, 1<<20), viewHex, 80)
	if v != viewHex || ls.Len() != 1<<16 {
		t.Errorf("hex: %v, %d lines", v, ls.Len())
	}
}

func TestChooseView(t *testing.T) {
	for _, c := range []struct {
		p    string
		op   inspect.OpCode
		want payloadView
	}{
		{`{"a":1}`, inspect.OpText, viewJSON},
		{` [1,2]`, inspect.OpText, viewJSON},
		{`{"a":`, inspect.OpText, viewText},
		{`hello`, inspect.OpText, viewText},
		{`{"a":1}`, inspect.OpBinary, viewHex},
		{"p1", inspect.OpPing, viewText},
		{"\x00\x01", inspect.OpPing, viewHex},
		{"", inspect.OpBinary, viewText},
	} {
		if got := chooseView([]byte(c.p), c.op); got != c.want {
			t.Errorf("%q %s: %v, want %v", c.p, c.op, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5: "-5"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q", n, got)
		}
	}
	for n, want := range map[int64]string{12: "12 B", 1200: "1.2 kB", 3_400_000: "3.4 MB", 5e9: "5.0 GB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q", n, got)
		}
	}
}
