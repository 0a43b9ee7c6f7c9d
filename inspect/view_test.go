package inspect

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextView(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"ascii", "hello, world", "hello, world"},
		{"newline and tab kept", "a\nb\tc", "a\nb\tc"},
		{"nul", "a\x00b", `a\x00b`},
		{"escape sequence", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"carriage return", "over\rwrite", `over\x0dwrite`},
		{"del", "\x7f", `\x7f`},
		{"bell and backspace", "\a\b", `\x07\x08`},
		{"utf8 kept", "héllo 世界 🎉", "héllo 世界 🎉"},
		{"invalid byte", "a\xffb", `a\xffb`},
		{"lone continuation", "\x80", `\x80`},
		{"truncated rune", "ab\xe4\xb8", `ab\xe4\xb8`},
		{"overlong encoding", "\xc0\xaf", `\xc0\xaf`},
		{"surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"C1 CSI", "\u009b2J", `\u009b2J`},
		{"bidi override", "abc\u202eevil", `abc\u202eevil`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"backslash as is", `a\x00`, `a\x00`},
		{"replacement char itself is valid", "\ufffd", "\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TextView([]byte(tt.in))
			if got != tt.want {
				t.Errorf("TextView(%q) = %q, want %q", tt.in, got, tt.want)
			}
			assertTerminalSafe(t, got, true)
		})
	}
}

// assertTerminalSafe fails when s is not valid UTF-8 or holds a control
// character (newline and tab allowed when multiline).
func assertTerminalSafe(t *testing.T, s string, multiline bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if (r == '\n' || r == '\t') && multiline {
			continue
		}
		if r < 0x20 || (r >= 0x7F && r <= 0x9F) || unsafeRune(r) {
			t.Errorf("%q holds unsafe rune %U", s, r)
		}
	}
}

func TestPrettyJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"object keeps key order", `{"z":1,"a":[1,2,{"m":null}],"b":{}}`,
			"{\n  \"z\": 1,\n  \"a\": [\n    1,\n    2,\n    {\n      \"m\": null\n    }\n  ],\n  \"b\": {}\n}", true},
		{"number spelling kept", `[1.50,1e3,12345678901234567890]`,
			"[\n  1.50,\n  1e3,\n  12345678901234567890\n]", true},
		{"scalar", `"hi"`, `"hi"`, true},
		{"surrounding space", " \n {\"a\":true} \n", "{\n  \"a\": true\n}", true},
		{"duplicate keys kept", `{"a":1,"a":2}`, "{\n  \"a\": 1,\n  \"a\": 2\n}", true},
		{"escapes kept", `{"s":"a\u0000\"\n"}`, "{\n  \"s\": \"a\\u0000\\\"\\n\"\n}", true},
		{"invalid utf8 inside string shown escaped", "[\"\xff\"]", "[\n  \"\\xff\"\n]", true},
		{"C1 inside string shown escaped", "[\"\u009b\"]", "[\n  \"\\u009b\"\n]", true},
		{"empty", "", "", false},
		{"spaces only", "   ", "", false},
		{"not json", "hello", "", false},
		{"trailing garbage", `{"a":1} x`, "", false},
		{"two values", `1 2`, "", false},
		{"unterminated", `{"a":`, "", false},
		{"raw control char", "\"a\x01\"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PrettyJSON([]byte(tt.in))
			if got != tt.want || ok != tt.ok {
				t.Errorf("PrettyJSON(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			assertTerminalSafe(t, got, true)
		})
	}
}

func TestPrettyJSONDeep(t *testing.T) {
	// Deep nesting must fail or succeed, never blow the stack.
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	PrettyJSON([]byte(deep))
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, valid := PrettyJSON([]byte(ok)); !valid {
		t.Error("100 nested arrays rejected")
	}
}

func TestHexDump(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, ""},
		{"short", []byte("Hello"),
			"00000000  48 65 6c 6c 6f                                    |Hello|\n"},
		{"one line exactly", []byte("0123456789abcdef"),
			"00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"},
		{"non-printables as dots", []byte{0x00, 0x1b, 'A', 0x7f, 0x80, 0xff, '~', ' ', 0x0a},
			"00000000  00 1b 41 7f 80 ff 7e 20  0a                       |..A...~ .|\n"},
		{"second line offset", []byte("0123456789abcdefXY"),
			"00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
				"00000010  58 59                                             |XY|\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HexDump(tt.in); got != tt.want {
				t.Errorf("HexDump(%q) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
		})
	}
	// Offsets keep counting on big inputs, and every line is safe.
	big := make([]byte, 4096+3)
	for i := range big {
		big[i] = byte(i)
	}
	d := HexDump(big)
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if len(lines) != 257 {
		t.Fatalf("%d lines, want 257", len(lines))
	}
	if !strings.HasPrefix(lines[256], "00001000  00 01 02 ") {
		t.Errorf("last line %q", lines[256])
	}
	assertTerminalSafe(t, d, true)
}

func TestSummary(t *testing.T) {
	seq := make([]byte, 1024)
	for i := range seq {
		seq[i] = byte(i)
	}
	tests := []struct {
		name  string
		in    []byte
		op    OpCode
		limit int
		want  string
	}{
		{"empty text", nil, OpText, 20, "(empty)"},
		{"empty binary", []byte{}, OpBinary, 20, "(empty)"},
		{"empty close", nil, OpClose, 20, "(empty)"},
		{"short text", []byte("hello"), OpText, 20, "hello"},
		{"text exactly the limit", []byte("0123456789"), OpText, 10, "0123456789"},
		{"text one over", []byte("0123456789a"), OpText, 10, "012345678…"},
		{"multiline", []byte("a\nb\r\n\tc"), OpText, 20, `a⏎b\x0d⏎ c`},
		{"runes counted, not bytes", []byte("世界世界世界"), OpText, 4, "世界世…"},
		{"escape not split", []byte("ab\x00cd"), OpText, 4, "ab…"},
		{"escape fits", []byte("ab\x00"), OpText, 6, `ab\x00`},
		{"invalid text escaped", []byte("ok\xff"), OpText, 20, `ok\xff`},
		{"limit 1", []byte("hello"), OpText, 1, "…"},
		{"limit 0 acts as 1", []byte("hello"), OpText, 0, "…"},
		{"limit negative", []byte("h"), OpText, -5, "h"},
		{"binary", seq, OpBinary, 30, "[binary 1024 B] 00 01 02 03 …"},
		{"binary fits", []byte{0xde, 0xad}, OpBinary, 30, "[binary 2 B] de ad"},
		{"binary bracket wider than limit", seq, OpBinary, 5, "[binary 1024 B] …"},
		{"binary text-looking", []byte("hello"), OpBinary, 40, "[binary 5 B] 68 65 6c 6c 6f"},
		{"close", AppendClose(nil, CloseNormal, "bye"), OpClose, 40, "1000 Normal Closure: bye"},
		{"close no reason", AppendClose(nil, CloseGoingAway, ""), OpClose, 40, "1001 Going Away"},
		{"close truncated", AppendClose(nil, CloseNormal, "a long goodbye"), OpClose, 24, "1000 Normal Closure: a …"},
		{"close name truncated", AppendClose(nil, CloseNormal, "x"), OpClose, 8, "1000 No…"},
		{"close one byte", []byte{3}, OpClose, 40, "[close 1 B] 03"},
		{"ping text", []byte("keepalive"), OpPing, 40, "keepalive"},
		{"ping binary", []byte{0, 1, 2}, OpPing, 40, "[ping 3 B] 00 01 02"},
		{"cont text", []byte("more"), OpContinuation, 40, "more"},
		{"cont cut rune at preview edge", append(bytes.Repeat([]byte("a"), 7), "世"...), OpContinuation, 1, "…"},
		{"reserved", []byte{0xff}, OpCode(0x3), 40, "[0x3 1 B] ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summary(tt.in, tt.op, tt.limit)
			if got != tt.want {
				t.Errorf("Summary(%q, %s, %d) = %q, want %q", tt.in, tt.op, tt.limit, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > max(tt.limit, 1) && !strings.HasPrefix(got, "[") {
				t.Errorf("%q is %d runes, limit %d", got, n, tt.limit)
			}
			assertTerminalSafe(t, got, false)
		})
	}
}

func TestSummaryNeverLongerThanLimit(t *testing.T) {
	inputs := [][]byte{
		[]byte("plain ascii text that goes on and on"),
		[]byte("世界\n\x00\xff\u202e\u0085 mixed"),
		bytes.Repeat([]byte("\x00"), 50),
		bytes.Repeat([]byte("\n"), 50),
	}
	for _, in := range inputs {
		for limit := 1; limit < 60; limit++ {
			for _, op := range []OpCode{OpText, OpPing} {
				got := Summary(in, op, limit)
				if strings.HasPrefix(got, "[") {
					continue
				}
				if n := utf8.RuneCountInString(got); n > limit {
					t.Errorf("Summary(%q, %d) = %q: %d runes", in, limit, got, n)
				}
				if full := Summary(in, op, 1000); !strings.HasSuffix(got, "…") && got != full {
					t.Errorf("Summary(%q, %d) = %q cut without an ellipsis", in, limit, got)
				}
			}
		}
	}
}

// TestSummaryBounded checks that a preview of a huge payload costs what
// the preview costs, not what the payload does.
func TestSummaryBounded(t *testing.T) {
	huge := make([]byte, 64<<20)
	for i := range huge {
		huge[i] = byte(i)
	}
	text := bytes.Repeat([]byte("\n"), 64<<20)
	cases := []struct {
		p  []byte
		op OpCode
	}{
		{huge, OpBinary}, {huge, OpPing}, {huge, OpText}, {text, OpText}, {text, OpContinuation},
		{append(AppendClose(nil, CloseNormal, ""), text...), OpClose},
	}
	for _, c := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := Summary(c.p, c.op, 80)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<10 {
			t.Errorf("Summary(64 MiB, %s) allocated %d bytes", c.op, grew)
		}
		if utf8.RuneCountInString(s) > 80 {
			t.Errorf("Summary(64 MiB, %s) = %q", c.op, s)
		}
	}
}

func TestViewsNeverPanic(t *testing.T) {
	inputs := [][]byte{nil, {}, {0}, {0xff}, {0xc3}, []byte("\xf4\x90\x80\x80"), []byte(`{"a":`), []byte("[]")}
	for _, p := range inputs {
		TextView(p)
		PrettyJSON(p)
		HexDump(p)
		for op := OpCode(0); op < 16; op++ {
			for _, limit := range []int{-1, 0, 1, 2, 3, 80} {
				Summary(p, op, limit)
			}
		}
	}
}

func TestPrettyJSONMatchesIndent(t *testing.T) {
	in := []byte(`{"b":[true,false,null],"a":{"x":-0.5e-3,"y":"\u00e9\ud83c\udf89"}}`)
	got, ok := PrettyJSON(in)
	if !ok {
		t.Fatal("rejected")
	}
	var want bytes.Buffer
	if err := json.Indent(&want, in, "", "  "); err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Errorf("got\n%s\nwant\n%s", got, want.String())
	}
}
