package replay

import (
	"strings"
	"testing"
)

func TestTextDiff(t *testing.T) {
	tests := []struct {
		name, want, got string
		diff            []string
	}{
		{"one line", "hello world", "hello there", []string{"- hello world", "+ hello there"}},
		{"lines", "a\nb\nc\nd\ne\nf", "a\nb\nC\nd\ne\nf\ng", []string{
			"  b", "- c", "+ C", "  d", "  …", "  f", "+ g"}},
		{"control characters", "a\x00b\tc", "a\x01b\tc", []string{`- a\x00b\tc`, `+ a\x01b\tc`}},
		{"escape sequences", "\x1b[31mred", "red", []string{`- \x1b[31mred`, "+ red"}},
	}
	for _, tt := range tests {
		got := textDiff([]byte(tt.want), []byte(tt.got))
		if strings.Join(got, "\n") != strings.Join(tt.diff, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.diff, "\n"))
		}
	}
}

func TestTextDiffLong(t *testing.T) {
	// One long line differing near its end: the window starts shortly
	// before the difference, and a note says where it is.
	w := strings.Repeat("x", 1000) + "A" + strings.Repeat("y", 1000)
	g := strings.Repeat("x", 1000) + "B" + strings.Repeat("y", 1000)
	d := textDiff([]byte(w), []byte(g))
	if len(d) != 3 {
		t.Fatalf("diff: %q", d)
	}
	if !strings.HasPrefix(d[0], "- …xxxx") || !strings.Contains(d[0], "xA") || !strings.HasSuffix(d[0], "(905 more bytes)") {
		t.Errorf("expected line: %q", d[0])
	}
	if !strings.Contains(d[1], "xB") {
		t.Errorf("received line: %q", d[1])
	}
	if d[2] != "(first difference at byte 1000; expected 2001 bytes, got 2001)" {
		t.Errorf("note: %q", d[2])
	}
	// Many lines: the diff is cut with a count of what is left.
	var a, b []string
	for i := range 100 {
		a = append(a, "line "+strings.Repeat("a", i%7))
		b = append(b, "LINE "+strings.Repeat("a", i%7))
	}
	d = textDiff([]byte(strings.Join(a, "\n")), []byte(strings.Join(b, "\n")))
	if len(d) != maxTextDiffLines+1 || !strings.HasPrefix(d[len(d)-1], "… 170 more lines of diff") {
		t.Errorf("long diff: %d lines, last %q", len(d), d[len(d)-1])
	}
}

func TestBinaryDiff(t *testing.T) {
	want := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	got := []byte("0123456789abcdefghijKLMN")
	d := binaryDiff(want, got)
	exp := []string{
		"binary: expected 36 bytes, got 24 bytes, first difference at byte 20",
		"- 00000010  67 68 69 6a 6b 6c 6d 6e  6f 70 71 72 73 74 75 76  |ghijklmnopqrstuv|",
		"- 00000020  77 78 79 7a                                       |wxyz|",
		"+ 00000010  67 68 69 6a 4b 4c 4d 4e                           |ghijKLMN|",
	}
	if strings.Join(d, "\n") != strings.Join(exp, "\n") {
		t.Errorf("binary diff:\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(exp, "\n"))
	}
}
