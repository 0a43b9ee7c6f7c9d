package session

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

func ptr[T any](v T) *T { return &v }

// sameAction compares what apply would do with a and b: the fields each
// kind uses, with nil and empty payloads alike.
func sameAction(a, b action) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case actMessage:
		return a.op == b.op && bytes.Equal(a.payload, b.payload) && a.fragment == b.fragment
	case actControl:
		return a.op == b.op && bytes.Equal(a.payload, b.payload)
	case actClose:
		return a.code == b.code && a.reason == b.reason
	case actFrame:
		fa, fb := a.frame, b.frame
		if !bytes.Equal(fa.Payload, fb.Payload) {
			return false
		}
		fa.Payload, fb.Payload = nil, nil
		return reflect.DeepEqual(fa, fb)
	case actSleep:
		return a.sleep == b.sleep
	}
	return true
}

// short quotes p, cut to 40 bytes so failures stay readable.
func short(p []byte) string {
	if len(p) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", p[:40], len(p))
	}
	return fmt.Sprintf("%q", p)
}

func (a action) String() string {
	names := [...]string{"message", "control", "close", "frame", "sleep", "help"}
	s := "?"
	if int(a.kind) < len(names) {
		s = names[a.kind]
	}
	switch a.kind {
	case actMessage:
		return fmt.Sprintf("%s %s %s fragment=%d", s, a.op, short(a.payload), a.fragment)
	case actControl:
		return fmt.Sprintf("%s %s %s", s, a.op, short(a.payload))
	case actClose:
		return fmt.Sprintf("%s %d %q", s, a.code, a.reason)
	case actFrame:
		f := a.frame
		l := "nil"
		if f.Length != nil {
			l = fmt.Sprint(*f.Length)
		}
		return fmt.Sprintf("%s fin=%v rsv=%03b op=%s mask=%d key=%x len=%s lenenc=%d payload=%s", s, f.Fin, f.Rsv, f.Op, f.Mask, f.Key, l, f.LenEnc, short(f.Payload))
	case actSleep:
		return fmt.Sprintf("%s %v", s, a.sleep)
	}
	return s
}

// step is one result of inputReader.next: an action, or an error.
type step struct {
	a   action
	err string // "input: ..." for an *inputError, otherwise the error text
}

func (s step) String() string {
	if s.err != "" {
		return "error " + s.err
	}
	return s.a.String()
}

func msgStep(op inspect.OpCode, p string) step {
	return step{a: action{kind: actMessage, op: op, payload: []byte(p)}}
}

func textStep(p string) step { return msgStep(inspect.OpText, p) }

// readSteps calls next until io.EOF (at most limit times) and returns
// what it gave, payloads copied.
func readSteps(t *testing.T, in *inputReader) []step {
	t.Helper()
	var out []step
	for range 10000 {
		a, err := in.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var ie *inputError
			if errors.As(err, &ie) {
				out = append(out, step{err: "input: " + err.Error()})
				continue
			}
			return append(out, step{err: err.Error()})
		}
		c := *a
		c.payload = append([]byte(nil), a.payload...)
		out = append(out, step{a: c})
	}
	t.Fatal("next never returned io.EOF")
	return nil
}

// checkSteps compares got with want; an error step in want matches a got
// error step that contains its text.
func checkSteps(t *testing.T, got, want []step) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		if want[i].err != "" {
			ok = strings.Contains(got[i].err, want[i].err)
		} else {
			ok = got[i].err == "" && sameAction(got[i].a, want[i].a)
		}
	}
	if !ok {
		t.Errorf("steps\n got %v\nwant %v", got, want)
	}
}

func TestParseSlash(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", 126)
	tests := []struct {
		line string
		want action
		err  string
	}{
		{line: "/ping", want: action{kind: actControl, op: inspect.OpPing}},
		{line: "/ping data", want: action{kind: actControl, op: inspect.OpPing, payload: []byte("data")}},
		{line: "/ping   two words", want: action{kind: actControl, op: inspect.OpPing, payload: []byte("two words")}},
		{line: "/ping " + long[:125], want: action{kind: actControl, op: inspect.OpPing, payload: []byte(long[:125])}},
		{line: "/ping " + long, err: "/ping: payload is 126 bytes"},
		{line: "/pong", want: action{kind: actControl, op: inspect.OpPong}},
		{line: "/pong hi", want: action{kind: actControl, op: inspect.OpPong, payload: []byte("hi")}},
		{line: "/pong " + long, err: "/pong: payload is 126 bytes"},
		{line: "/close", want: action{kind: actClose, code: inspect.CloseNormal}},
		{line: "/close 4001", want: action{kind: actClose, code: 4001}},
		{line: "/close 4001 bye bye", want: action{kind: actClose, code: 4001, reason: "bye bye"}},
		{line: "/close  1001 away", want: action{kind: actClose, code: 1001, reason: "away"}},
		{line: "/close 0", want: action{kind: actClose, code: 0}},
		{line: "/close 4000 " + strings.Repeat("r", 123), want: action{kind: actClose, code: 4000, reason: strings.Repeat("r", 123)}},
		{line: "/close 4000 " + strings.Repeat("r", 124), err: "/close: close reason of 124 bytes: a close frame carries at most 123 bytes of reason (125 with its code) (/frame op=close sends any payload)"},
		{line: "/close 0 why", err: "/close: a close reason needs a close code"},
		{line: "/close abc", err: `/close: close code "abc"`},
		{line: "/close 65536", err: "/close: close code"},
		{line: "/close -1", err: "/close: close code"},
		{line: "/binary 48 65 6c", want: action{kind: actMessage, op: inspect.OpBinary, payload: []byte("Hel")}},
		{line: "/binary 48656c6c6f", want: action{kind: actMessage, op: inspect.OpBinary, payload: []byte("Hello")}},
		{line: "/binary 0x48:0x65", want: action{kind: actMessage, op: inspect.OpBinary, payload: []byte("He")}},
		{line: "/binary 00 FF", want: action{kind: actMessage, op: inspect.OpBinary, payload: []byte{0, 0xff}}},
		{line: "/binary", want: action{kind: actMessage, op: inspect.OpBinary}},
		{line: "/binary zz", err: "/binary: invalid hex"},
		{line: "/binary 486", err: "/binary: invalid hex"},
		{line: "/fragment 3 hello", want: action{kind: actMessage, op: inspect.OpText, payload: []byte("hello"), fragment: 3}},
		{line: "/fragment 1 two words", want: action{kind: actMessage, op: inspect.OpText, payload: []byte("two words"), fragment: 1}},
		{line: "/fragment 0 x", err: `/fragment: want a positive frame size, got "0"`},
		{line: "/fragment -2 x", err: "/fragment: want a positive frame size"},
		{line: "/fragment x y", err: `got "x"`},
		{line: "/fragment", err: `got ""`},
		{line: "/help", want: action{kind: actHelp}},
		{line: "/?", want: action{kind: actHelp}},
		{line: "/frame", want: action{kind: actFrame, frame: wire.FrameSpec{Fin: true, Op: inspect.OpText, Mask: wire.MaskAuto}}},
		{line: "/frame fin=0 hi", want: action{kind: actFrame, frame: wire.FrameSpec{Op: inspect.OpText, Mask: wire.MaskAuto, Payload: []byte("hi")}}},
		{line: "/frame op=0x3 rsv=1", want: action{kind: actFrame, frame: wire.FrameSpec{Fin: true, Op: 3, Rsv: inspect.Rsv1, Mask: wire.MaskAuto}}},
		{line: "/frame fin=2", err: "/frame: fin=2: want 0 or 1"},
		{line: "/foo", err: "unknown command /foo"},
		{line: "/foo bar", err: "//foo sends it as text"},
		{line: "/PING", err: "unknown command /PING"},
		{line: "/", err: "unknown command /"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			var a action
			err := parseSlash(&a, tt.line)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseSlash(%q) = %v (%v), want an error with %q", tt.line, err, a, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSlash(%q): %v", tt.line, err)
			}
			if !sameAction(a, tt.want) {
				t.Errorf("parseSlash(%q)\n got %v\nwant %v", tt.line, a, tt.want)
			}
		})
	}
}

func TestParseSlashUnknownMentionsEscape(t *testing.T) {
	t.Parallel()
	var a action
	err := parseSlash(&a, "/foo")
	if err == nil || !strings.Contains(err.Error(), "//foo") || !strings.Contains(err.Error(), "/help") {
		t.Errorf("parseSlash(/foo) = %v, want a hint at /help and //foo", err)
	}
}

func TestParseFrameSpec(t *testing.T) {
	t.Parallel()
	def := func(change func(*wire.FrameSpec)) wire.FrameSpec {
		s := wire.FrameSpec{Fin: true, Op: inspect.OpText, Mask: wire.MaskAuto}
		change(&s)
		return s
	}
	tests := []struct {
		args string
		want wire.FrameSpec
		err  string
	}{
		{"", def(func(*wire.FrameSpec) {}), ""},
		{"hello world", def(func(s *wire.FrameSpec) { s.Payload = []byte("hello world") }), ""},
		{
			"fin=0 op=0x3 rsv=1,3 mask=none len=9 lenenc=64 hex=0001",
			wire.FrameSpec{Op: 3, Rsv: inspect.Rsv1 | inspect.Rsv3, Mask: wire.MaskNone, Length: ptr[uint64](9), LenEnc: inspect.Len64, Payload: []byte{0, 1}},
			"",
		},
		{"fin=0 op=cont  two  spaces ", def(func(s *wire.FrameSpec) {
			s.Fin, s.Op, s.Payload = false, inspect.OpContinuation, []byte("two  spaces ")
		}), ""},
		{"fin=1 fin=false x", def(func(s *wire.FrameSpec) { s.Fin, s.Payload = false, []byte("x") }), ""},
		{"fin=true x", def(func(s *wire.FrameSpec) { s.Payload = []byte("x") }), ""},
		{"op=binary op=ping", def(func(s *wire.FrameSpec) { s.Op = inspect.OpPing }), ""},
		{"op=close hex=03e8", def(func(s *wire.FrameSpec) { s.Op, s.Payload = inspect.OpClose, []byte{0x03, 0xe8} }), ""},
		{"op=15", def(func(s *wire.FrameSpec) { s.Op = 0xF }), ""},
		{"rsv=2", def(func(s *wire.FrameSpec) { s.Rsv = inspect.Rsv2 }), ""},
		{"rsv=rsv1,rsv2,rsv3", def(func(s *wire.FrameSpec) { s.Rsv = inspect.Rsv1 | inspect.Rsv2 | inspect.Rsv3 }), ""},
		{"rsv=0", def(func(*wire.FrameSpec) {}), ""},
		{"rsv1=1 rsv2=true rsv3=0", def(func(s *wire.FrameSpec) { s.Rsv = inspect.Rsv1 | inspect.Rsv2 }), ""},
		{"rsv3=1", def(func(s *wire.FrameSpec) { s.Rsv = inspect.Rsv3 }), ""},
		{"mask=01020304 x", def(func(s *wire.FrameSpec) {
			s.Mask, s.Key, s.Payload = wire.MaskWith, [4]byte{1, 2, 3, 4}, []byte("x")
		}), ""},
		{"mask=none", def(func(s *wire.FrameSpec) { s.Mask = wire.MaskNone }), ""},
		{"mask=0", def(func(s *wire.FrameSpec) { s.Mask = wire.MaskNone }), ""},
		{"mask=none mask=auto", def(func(*wire.FrameSpec) {}), ""},
		{"len=0x10", def(func(s *wire.FrameSpec) { s.Length = ptr[uint64](16) }), ""},
		{"len=18446744073709551615", def(func(s *wire.FrameSpec) { s.Length = ptr[uint64](1<<64 - 1) }), ""},
		{"lenenc=7", def(func(s *wire.FrameSpec) { s.LenEnc = inspect.Len7 }), ""},
		{"lenenc=16 x", def(func(s *wire.FrameSpec) { s.LenEnc, s.Payload = inspect.Len16, []byte("x") }), ""},
		// The first token that is not key=value starts the payload.
		{"notakey=1 fin=0", def(func(s *wire.FrameSpec) { s.Payload = []byte("notakey=1 fin=0") }), ""},
		{"fin=0 text fin=1", def(func(s *wire.FrameSpec) { s.Fin, s.Payload = false, []byte("text fin=1") }), ""},
		{"lenenc=16 len=65535", def(func(s *wire.FrameSpec) { s.LenEnc, s.Length = inspect.Len16, ptr[uint64](65535) }), ""},
		{"lenenc=7 " + strings.Repeat("a", 125), def(func(s *wire.FrameSpec) { s.LenEnc, s.Payload = inspect.Len7, []byte(strings.Repeat("a", 125)) }), ""},
		{"len=9 hello", def(func(s *wire.FrameSpec) { s.Length, s.Payload = ptr[uint64](9), []byte("hello") }), ""},
		// On purpose: a close frame over 125 bytes.
		{"op=close " + strings.Repeat("r", 130), def(func(s *wire.FrameSpec) { s.Op, s.Payload = inspect.OpClose, []byte(strings.Repeat("r", 130)) }), ""},
		{"hex=", def(func(*wire.FrameSpec) {}), ""},
		{"lenenc=7 " + strings.Repeat("a", 200), wire.FrameSpec{}, "length 200 does not fit the 7-bit form (at most 125)"},
		{"lenenc=7 len=126", wire.FrameSpec{}, "length 126 does not fit the 7-bit form"},
		{"lenenc=16 len=65536 x", wire.FrameSpec{}, "length 65536 does not fit the 16-bit form (at most 65535)"},
		{"len=2 hello", wire.FrameSpec{}, "length 2 announces less than the 5-byte payload"},
		{"hex=00 hello", wire.FrameSpec{}, `hex= and the text "hello" are two payloads: give one`},
		{"hex= hello", wire.FrameSpec{}, "two payloads"},
		{"fin=2", wire.FrameSpec{}, "fin=2: want 0 or 1"},
		{"op=0x10", wire.FrameSpec{}, "unknown opcode"},
		{"op=nope", wire.FrameSpec{}, "unknown opcode"},
		{"rsv=4", wire.FrameSpec{}, "rsv=4: want a list of 1, 2, 3"},
		{"rsv2=maybe", wire.FrameSpec{}, "rsv2=maybe: want 0 or 1"},
		{"mask=0102", wire.FrameSpec{}, "mask=0102: want auto, none or 8 hex digits"},
		{"mask=zzzzzzzz", wire.FrameSpec{}, "mask=zzzzzzzz"},
		{"len=abc", wire.FrameSpec{}, "len=abc: want a number"},
		{"len=-1", wire.FrameSpec{}, "len=-1"},
		{"lenenc=32", wire.FrameSpec{}, "lenenc=32: want 7, 16 or 64"},
		{"hex=zz", wire.FrameSpec{}, "hex=: invalid hex"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			var a action
			err := parseFrameSpec(&a, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "/frame: ") {
					t.Fatalf("parseFrameSpec(%q) = %v, want an error with %q", tt.args, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFrameSpec(%q): %v", tt.args, err)
			}
			want := action{kind: actFrame, frame: tt.want}
			if !sameAction(a, want) {
				t.Errorf("parseFrameSpec(%q)\n got %v\nwant %v", tt.args, a, want)
			}
		})
	}
}

func TestInputLines(t *testing.T) {
	t.Parallel()
	ping := step{a: action{kind: actControl, op: inspect.OpPing, payload: []byte("x")}}
	tests := []struct {
		name   string
		in     string
		binary bool
		slash  bool
		want   []step
	}{
		{name: "empty", in: "", want: nil},
		{name: "lines", in: "a\nbc\n", want: []step{textStep("a"), textStep("bc")}},
		{name: "CRLF stripped", in: "a\r\nb\r\n", want: []step{textStep("a"), textStep("b")}},
		{name: "lone CR kept inside", in: "a\rb\n", want: []step{textStep("a\rb")}},
		{name: "last line without newline", in: "a\nlast", want: []step{textStep("a"), textStep("last")}},
		{name: "empty lines are empty messages", in: "\n\na\n\n", want: []step{textStep(""), textStep(""), textStep("a"), textStep("")}},
		{name: "spaces kept", in: "  padded  \n", want: []step{textStep("  padded  ")}},
		{name: "binary", in: "a\n\x00\xff\n", binary: true, want: []step{msgStep(inspect.OpBinary, "a"), msgStep(inspect.OpBinary, "\x00\xff")}},
		{name: "invalid UTF-8 text kept as is", in: "\xff\xfe\n", want: []step{textStep("\xff\xfe")}},
		{name: "slash off: commands are text", in: "/ping x\n//x\n/foo\n", want: []step{textStep("/ping x"), textStep("//x"), textStep("/foo")}},
		{name: "slash on: commands", in: "/ping x\n", slash: true, want: []step{ping}},
		{name: "slash on: // escapes", in: "//x\n//\n", slash: true, want: []step{textStep("/x"), textStep("/")}},
		{name: "slash on: // escapes binary", in: "//x\n", slash: true, binary: true, want: []step{msgStep(inspect.OpBinary, "/x")}},
		{name: "slash on: not at the start", in: " /ping\nx/ping\n", slash: true, want: []step{textStep(" /ping"), textStep("x/ping")}},
		{
			name: "slash on: a bad command is skipped", in: "/foo\n/close abc\nafter\n", slash: true,
			want: []step{{err: "input: unknown command /foo"}, {err: "input: /close"}, textStep("after")},
		},
		{
			name: "slash on: close and help", in: "/help\n/close 4000 done\n", slash: true,
			want: []step{{a: action{kind: actHelp}}, {a: action{kind: actClose, code: 4000, reason: "done"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newInputReader(strings.NewReader(tt.in), StdinLines, tt.binary, tt.slash, inspect.ClientToServer, 1<<20)
			checkSteps(t, readSteps(t, in), tt.want)
		})
	}
}

func TestInputLinesOneByteReader(t *testing.T) {
	t.Parallel()
	in := newInputReader(iotest.OneByteReader(strings.NewReader("one\r\ntwo\nthree")), StdinLines, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), []step{textStep("one"), textStep("two"), textStep("three")})
}

func TestInputLinesReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\npartial"), iotest.ErrReader(boom))
	in := newInputReader(r, StdinLines, false, false, inspect.ClientToServer, 0)
	a, err := in.next()
	if err != nil || string(a.payload) != "a" {
		t.Fatalf("first next() = %v, %v", a, err)
	}
	_, err = in.next()
	if !errors.Is(err, boom) {
		t.Errorf("next() after a read error = %v, want %v", err, boom)
	}
	var ie *inputError
	if errors.As(err, &ie) {
		t.Error("a read error is reported as a bad input line")
	}
}

func TestInputLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("0123456789", 20000) // 200,000 bytes: three buffers' worth
	t.Run("assembled", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader("a\n"+long+"\r\nb\n"+long), StdinLines, false, false, inspect.ClientToServer, 1<<20)
		checkSteps(t, readSteps(t, in), []step{textStep("a"), textStep(long), textStep("b"), textStep(long)})
	})
	t.Run("no limit", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader(long+"\n"), StdinLines, false, false, inspect.ClientToServer, 0)
		checkSteps(t, readSteps(t, in), []step{textStep(long)})
	})
	t.Run("exactly the buffer", func(t *testing.T) {
		t.Parallel()
		line := long[:64<<10]
		in := newInputReader(strings.NewReader(line+"\n"+line), StdinLines, false, false, inspect.ClientToServer, 1<<20)
		checkSteps(t, readSteps(t, in), []step{textStep(line), textStep(line)})
	})
	t.Run("over the limit is skipped", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader("first\n"+long+"\nafter\n"+long+"\nlast"), StdinLines, false, false, inspect.ClientToServer, 70000)
		checkSteps(t, readSteps(t, in), []step{
			textStep("first"),
			{err: "input: input line 2 is longer than --max-message-size (70000 bytes): skipped"},
			textStep("after"),
			{err: "is longer than --max-message-size"},
			textStep("last"),
		})
	})
	t.Run("over the limit at EOF", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader("first\n"+long), StdinLines, false, false, inspect.ClientToServer, 70000)
		checkSteps(t, readSteps(t, in), []step{textStep("first"), {err: "is longer than --max-message-size"}})
	})
	t.Run("over the limit in json mode", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader(`{"text":"`+long+`"}`+"\n"+`{"text":"ok"}`), StdinJSON, false, false, inspect.ClientToServer, 70000)
		checkSteps(t, readSteps(t, in), []step{{err: "is longer than --max-message-size"}, textStep("ok")})
	})
}

func TestInputLineOverLimitShorterThanBuffer(t *testing.T) {
	t.Parallel()
	for _, n := range []int{200, 100000} {
		// 200 bytes fits the buffer; 100,000 bytes is over the 70,000 limit
		// but under limit+buffer, so the loop ends before checking again.
		limit := 100
		if n > 64<<10 {
			limit = 70000
		}
		in := newInputReader(strings.NewReader(strings.Repeat("x", n)+"\nnext\n"), StdinLines, false, false, inspect.ClientToServer, limit)
		checkSteps(t, readSteps(t, in), []step{{err: "is longer than --max-message-size"}, textStep("next")})
	}
}

func TestInputDrained(t *testing.T) {
	t.Parallel()
	in := newInputReader(strings.NewReader("a\nb\n"), StdinLines, false, false, inspect.ClientToServer, 0)
	if !in.drained() {
		t.Error("drained before reading: nothing is buffered yet")
	}
	if _, err := in.next(); err != nil {
		t.Fatal(err)
	}
	if in.drained() {
		t.Error("drained with a line still buffered")
	}
	if _, err := in.next(); err != nil {
		t.Fatal(err)
	}
	if !in.drained() {
		t.Error("not drained after the last line")
	}
}

func TestInputRaw(t *testing.T) {
	t.Parallel()
	data := make([]byte, 150000)
	rand.New(rand.NewSource(1)).Read(data)
	copy(data, "/ping\n//x\r\n") // raw mode knows no lines and no commands
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"reader", bytes.NewReader(data)},
		{"one byte reads", iotest.OneByteReader(bytes.NewReader(data[:300]))},
		{"half reads", iotest.HalfReader(bytes.NewReader(data))},
		{"data with EOF", iotest.DataErrReader(bytes.NewReader(data))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newInputReader(tt.r, StdinRaw, false, true, inspect.ClientToServer, 100)
			var got []byte
			for {
				a, err := in.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if a.kind != actMessage || a.op != inspect.OpBinary || a.fragment != 0 {
					t.Fatalf("raw chunk %v, want a binary message", *a)
				}
				if len(a.payload) == 0 || len(a.payload) > 64<<10 {
					t.Fatalf("raw chunk of %d bytes", len(a.payload))
				}
				got = append(got, a.payload...)
			}
			want := data
			if tt.name == "one byte reads" {
				want = data[:300]
			}
			if !bytes.Equal(got, want) {
				t.Errorf("raw chunks join to %d bytes, want the %d bytes of input", len(got), len(want))
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		in := newInputReader(strings.NewReader(""), StdinRaw, false, false, inspect.ClientToServer, 0)
		if a, err := in.next(); err != io.EOF {
			t.Errorf("next() on empty raw input = %v, %v; want io.EOF", a, err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		in := newInputReader(iotest.ErrReader(boom), StdinRaw, false, false, inspect.ClientToServer, 0)
		if _, err := in.next(); !errors.Is(err, boom) {
			t.Errorf("next() = %v, want %v", err, boom)
		}
	})
}

func TestInputJSON(t *testing.T) {
	t.Parallel()
	frame := func(change func(*wire.FrameSpec)) step {
		s := wire.FrameSpec{Fin: true, Op: inspect.OpText, Mask: wire.MaskAuto}
		change(&s)
		return step{a: action{kind: actFrame, frame: s}}
	}
	skip := []step(nil)
	tests := []struct {
		line string
		dir  inspect.Direction // sendDir; zero means c2s
		want []step
	}{
		{line: `{"text":"hi"}`, want: []step{textStep("hi")}},
		{line: `  {"text":""}  `, want: []step{textStep("")}},
		{line: `{"text":"h\u00e9 \n"}`, want: []step{textStep("hé \n")}},
		{line: `{"b64":"AAE="}`, want: []step{msgStep(inspect.OpBinary, "\x00\x01")}},
		{line: `{"hex":"00 01"}`, want: []step{msgStep(inspect.OpBinary, "\x00\x01")}},
		{line: `{"hex":"0xff:00"}`, want: []step{msgStep(inspect.OpBinary, "\xff\x00")}},
		{line: `{"op":"binary","text":"x"}`, want: []step{msgStep(inspect.OpBinary, "x")}},
		{line: `{"op":"text","b64":"aGk="}`, want: []step{textStep("hi")}},
		{line: `{"op":"ping","text":"x"}`, want: []step{{a: action{kind: actControl, op: inspect.OpPing, payload: []byte("x")}}}},
		{line: `{"op":"pong"}`, want: []step{{a: action{kind: actControl, op: inspect.OpPong}}}},
		{line: `{"op":"close","code":4000,"reason":"bye"}`, want: []step{{a: action{kind: actClose, code: 4000, reason: "bye"}}}},
		{line: `{"op":"close"}`, want: []step{{a: action{kind: actClose, code: inspect.CloseNormal}}}},
		{line: `{"op":"close","close":{"code":1001,"reason":"away"}}`, want: []step{{a: action{kind: actClose, code: 1001, reason: "away"}}}},
		{line: `{"text":"abcdef","fragment":2}`, want: []step{{a: action{kind: actMessage, op: inspect.OpText, payload: []byte("abcdef"), fragment: 2}}}},
		{line: `{"sleep":0.01}`, want: []step{{a: action{kind: actSleep, sleep: 10 * time.Millisecond}}}},
		{line: `{"sleep":1.5}`, want: []step{{a: action{kind: actSleep, sleep: 1500 * time.Millisecond}}}},
		{line: `{"sleep":0}`, want: []step{{a: action{kind: actSleep}}}},
		{line: `{"t":1,"ev":"msg","dir":"c2s","op":"text","text":"x","unknown":[1,{"a":2}]}`, want: []step{textStep("x")}},
		// A recording's lines are read by internal/record, with its errors.
		{line: `{"ev":"msg","dir":"c2s","text":"x"}`, want: []step{{err: `msg event without "op"`}}},
		{line: `{"ev":"msg","dir":"c2s","op":"text","text":"x","b64":"eA=="}`, want: []step{{err: `both "text" and "b64"`}}},
		{line: `{"ev":"msg","dir":"c2s","op":"close","b64":"A+g="}`, want: []step{{err: "not one to send again"}}},

		// Crafted frames: any header field.
		{line: `{"text":"x","fin":false}`, want: []step{frame(func(s *wire.FrameSpec) { s.Fin, s.Payload = false, []byte("x") })}},
		{line: `{"op":"cont","text":"y","fin":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op, s.Payload = inspect.OpContinuation, []byte("y") })}},
		{line: `{"text":"x","rsv1":true,"rsv3":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Rsv, s.Payload = inspect.Rsv1|inspect.Rsv3, []byte("x") })}},
		{line: `{"b64":"AA==","rsv2":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op, s.Rsv, s.Payload = inspect.OpBinary, inspect.Rsv2, []byte{0} })}},
		{line: `{"text":"x","mask":"none"}`, want: []step{frame(func(s *wire.FrameSpec) { s.Mask, s.Payload = wire.MaskNone, []byte("x") })}},
		{line: `{"text":"x","mask":"01020304"}`, want: []step{frame(func(s *wire.FrameSpec) {
			s.Mask, s.Key, s.Payload = wire.MaskWith, [4]byte{1, 2, 3, 4}, []byte("x")
		})}},
		{line: `{"text":"x","masked":false}`, want: []step{frame(func(s *wire.FrameSpec) { s.Mask, s.Payload = wire.MaskNone, []byte("x") })}},
		{line: `{"text":"x","len":9}`, want: []step{frame(func(s *wire.FrameSpec) { s.Length, s.Payload = ptr[uint64](9), []byte("x") })}},
		{line: `{"text":"x","len":1}`, want: []step{frame(func(s *wire.FrameSpec) { s.Payload = []byte("x") })}},
		{line: `{"text":"x","len_enc":64}`, want: []step{frame(func(s *wire.FrameSpec) { s.LenEnc, s.Payload = inspect.Len64, []byte("x") })}},
		{line: `{"text":"x","len_enc":16,"len":1}`, want: []step{frame(func(s *wire.FrameSpec) { s.LenEnc, s.Payload = inspect.Len16, []byte("x") })}},
		{line: `{"op":"0x3","fin":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op = 3 })}},
		{line: `{"op":"ping","text":"p","fin":false}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op, s.Fin, s.Payload = inspect.OpPing, false, []byte("p") })}},
		{line: `{"op":"close","code":1002,"reason":"r","fin":true}`, want: []step{frame(func(s *wire.FrameSpec) {
			s.Op, s.Payload = inspect.OpClose, inspect.AppendClose(nil, 1002, "r")
		})}},
		{line: `{"op":"close","b64":"A+g=","fin":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op, s.Payload = inspect.OpClose, []byte{0x03, 0xe8} })}},
		{line: `{"op":"close","fin":true}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op = inspect.OpClose })}},
		{line: `{"op":"close","code":0}`, want: []step{{a: action{kind: actClose}}}},
		{line: `{"op":"close","code":65535}`, want: []step{{a: action{kind: actClose, code: 65535}}}},
		// On purpose, a crafted frame carries what a close may not.
		{line: `{"op":"close","fin":true,"code":4000,"reason":"` + strings.Repeat("r", 130) + `"}`, want: []step{frame(func(s *wire.FrameSpec) {
			s.Op, s.Payload = inspect.OpClose, inspect.AppendClose(nil, 4000, strings.Repeat("r", 130))
		})}},
		{line: `{"op":"ping","fin":true,"text":"` + strings.Repeat("p", 126) + `"}`, want: []step{frame(func(s *wire.FrameSpec) { s.Op, s.Payload = inspect.OpPing, []byte(strings.Repeat("p", 126)) })}},
		{line: `{"text":"` + strings.Repeat("a", 125) + `","len_enc":7}`, want: []step{frame(func(s *wire.FrameSpec) { s.LenEnc, s.Payload = inspect.Len7, []byte(strings.Repeat("a", 125)) })}},
		{line: `{"text":"x","len":65535,"len_enc":16}`, want: []step{frame(func(s *wire.FrameSpec) {
			s.LenEnc, s.Length, s.Payload = inspect.Len16, ptr[uint64](65535), []byte("x")
		})}},
		{line: `{"text":"x","len":18446744073709551615,"len_enc":64}`, want: []step{frame(func(s *wire.FrameSpec) {
			s.LenEnc, s.Length, s.Payload = inspect.Len64, ptr[uint64](1<<64-1), []byte("x")
		})}},

		// Lines of a recording.
		{line: `{"t":0.5,"ev":"msg","conn":1,"dir":"c2s","op":"text","frames":[3],"deflated":false,"text":"x"}`, want: []step{textStep("x")}},
		{line: `{"t":0.5,"ev":"msg","conn":1,"dir":"c2s","op":"binary","frames":[3,4],"deflated":false,"b64":"AAE="}`, want: []step{msgStep(inspect.OpBinary, "\x00\x01")}},
		{line: `{"t":0.5,"ev":"msg","conn":1,"dir":"s2c","op":"text","frames":[3],"deflated":false,"text":"x"}`, want: skip},
		{line: `{"ev":"msg","dir":"s2c","op":"text","text":"to clients"}`, dir: inspect.ServerToClient, want: []step{textStep("to clients")}},
		{line: `{"ev":"msg","dir":"c2s","op":"text","text":"from a client"}`, dir: inspect.ServerToClient, want: skip},
		{line: `{"t":0,"ev":"open","conn":1,"url":"ws://h/","role":"client","request":{"method":"GET","target":"/","proto":"HTTP/1.1","headers":[["Host","h"]]},"response":{"proto":"HTTP/1.1","status":101,"reason":"Switching Protocols","headers":[]},"subprotocol":"","extensions":[],"local":"a","remote":"b","start":"2024-01-01T00:00:00Z"}`, want: skip},
		{line: `{"t":1,"ev":"end","conn":1,"clean":true,"code":1000}`, want: skip},
		{line: `{"t":1,"ev":"error","conn":1,"text":"boom"}`, want: skip},
		{line: `{"t":1,"ev":"note","conn":1,"text":"look here"}`, want: skip},
		{line: `{"t":1,"ev":"mark","conn":1}`, want: skip},
		{line: "", want: skip},
		{line: "   \t", want: skip},

		// Errors: the line is skipped.
		{line: `not json`, want: []step{{err: "input: --stdin json line 1: "}}},
		{line: `{"text":"unterminated`, want: []step{{err: "input: --stdin json line 1: "}}},
		{line: `[1,2]`, want: []step{{err: "input: --stdin json line 1: "}}},
		{line: `{"text":1}`, want: []step{{err: "input: --stdin json line 1: "}}},
		{line: `{"op":"nope"}`, want: []step{{err: `unknown opcode "nope"`}}},
		{line: `{"op":"0x3"}`, want: []step{{err: `op "0x3" needs a crafted frame`}}},
		{line: `{"op":"cont","text":"x"}`, want: []step{{err: `op "cont" needs a crafted frame`}}},
		{line: `{"b64":"!!"}`, want: []step{{err: "input: --stdin json line 1: b64: "}}},
		{line: `{"hex":"zz"}`, want: []step{{err: "input: --stdin json line 1: invalid hex"}}},
		{line: `{"text":"x","mask":"xyz"}`, want: []step{{err: "mask=xyz: want auto, none or 8 hex digits"}}},
		{line: `{"text":"x","mask":5}`, want: []step{{err: "mask must be a string"}}},

		// Refused before anything is sent: what cannot go out as written.
		{line: `{"dir":"sideways","text":"x"}`, want: []step{{err: `dir: unknown direction "sideways"`}}},
		{line: `{"txt":"hello"}`, want: []step{{err: `unknown key "txt" (keys: text, b64`}}},
		{line: `{"text":"x","unknown":[1,{"a":2}]}`, want: []step{{err: `unknown key "unknown"`}}},
		{line: `{"op":"close","close":{"code":1000,"name":"x"}}`, want: []step{{err: `unknown key "name"`}}},
		{line: `{"text":"a","b64":"AA=="}`, want: []step{{err: `"text" and "b64" are two payloads: give one`}}},
		{line: `{"b64":"AA==","hex":"00"}`, want: []step{{err: `"b64" and "hex" are two payloads`}}},
		{line: `{"text":"a","hex":"00","fin":true}`, want: []step{{err: `"text" and "hex" are two payloads`}}},
		{line: `{"op":"close","code":70000}`, want: []step{{err: "close code 70000: want 0 to 65535"}}},
		{line: `{"op":"close","code":-1}`, want: []step{{err: "close code -1: want 0 to 65535"}}},
		{line: `{"op":"close","code":65536}`, want: []step{{err: "close code 65536: want 0 to 65535"}}},
		{line: `{"op":"close","code":65536,"fin":true}`, want: []step{{err: "close code 65536: want 0 to 65535"}}},
		{line: `{"op":"close","close":{"code":70000}}`, want: []step{{err: "close code 70000"}}},
		{line: `{"op":"close","code":4000,"reason":"` + strings.Repeat("r", 124) + `"}`, want: []step{{err: "close reason of 124 bytes: a close frame carries at most 123"}}},
		{line: `{"op":"close","code":0,"reason":"x"}`, want: []step{{err: "a close reason needs a close code"}}},
		{line: `{"op":"close","fin":true,"reason":"x"}`, want: []step{{err: `a "reason" needs a "code"`}}},
		{line: `{"op":"close","text":"bye"}`, want: []step{{err: `a close takes "code" and "reason", not "text"`}}},
		{line: `{"op":"close","b64":"A+g=","fin":true,"code":4000}`, want: []step{{err: `"b64" and the close's code and reason are two payloads`}}},
		{line: `{"op":"close","code":1000,"close":{"code":1000}}`, want: []step{{err: `"close" and "code"/"reason" give the close twice`}}},
		{line: `{"text":"x","code":4000}`, want: []step{{err: `"code" and "reason" are for "op":"close", not "text"`}}},
		{line: `{"op":"ping","text":"` + strings.Repeat("p", 126) + `"}`, want: []step{{err: "ping payload of 126 bytes: control frames carry at most 125"}}},
		{line: `{"sleep":-1}`, want: []step{{err: "sleep -1: want seconds from 0 to"}}},
		{line: `{"sleep":1e300}`, want: []step{{err: "sleep 1e+300: want seconds"}}},
		{line: `{"sleep":1,"text":"x"}`, want: []step{{err: `"sleep" goes on a line of its own`}}},
		{line: `{"sleep":1,"fin":true}`, want: []step{{err: `"sleep" goes on a line of its own`}}},
		{line: `{"text":"abc","fragment":-1}`, want: []step{{err: `"fragment": -1: want a positive frame size`}}},
		{line: `{"op":"ping","fragment":2}`, want: []step{{err: `"fragment": 2`}}},
		{line: `{"text":"abc","fragment":1,"fin":false}`, want: []step{{err: `"fragment" splits a message, not a crafted frame`}}},
		{line: `{"text":"` + strings.Repeat("a", 200) + `","len_enc":7}`, want: []step{{err: "length 200 does not fit the 7-bit form (at most 125)"}}},
		{line: `{"text":"` + strings.Repeat("a", 126) + `","len_enc":7}`, want: []step{{err: "length 126 does not fit the 7-bit form"}}},
		{line: `{"text":"x","len":200,"len_enc":7}`, want: []step{{err: "length 200 does not fit the 7-bit form"}}},
		{line: `{"text":"x","len":65536,"len_enc":16}`, want: []step{{err: "length 65536 does not fit the 16-bit form (at most 65535)"}}},
		{line: `{"text":"hello","len":2}`, want: []step{{err: "length 2 announces less than the 5-byte payload"}}},
		{line: `{"text":"x","len_enc":0}`, want: []step{{err: "len_enc 0: want 7, 16 or 64"}}},
		{line: `{"op":"0x10","fin":true}`, want: []step{{err: `unknown opcode "0x10"`}}},
		{line: `{"op":"-1","fin":true}`, want: []step{{err: `unknown opcode "-1"`}}},
		{line: `{"text":"x","masked":false,"mask":"01020304"}`, want: []step{{err: `"masked":false with a mask key`}}},
		{line: `{"text":"x","masked":true,"mask":"none"}`, want: []step{{err: `"masked":true with "mask":"none"`}}},
		{line: `{"text":"x","rsv1":1}`, want: []step{{err: "input: --stdin json line 1: "}}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir
			if dir == 0 {
				dir = inspect.ClientToServer
			}
			// --binary and slash mode do not apply to json lines.
			in := newInputReader(strings.NewReader(tt.line+"\n"), StdinJSON, true, true, dir, 1<<20)
			checkSteps(t, readSteps(t, in), tt.want)
		})
	}
}

func TestInputJSONGoesOnAfterErrors(t *testing.T) {
	t.Parallel()
	lines := strings.Join([]string{
		`{"ev":"open","conn":1}`,
		`not json`,
		``,
		`{"text":"a"}`,
		`{"ev":"msg","dir":"s2c","op":"text","text":"theirs"}`,
		`{"op":"nope"}`,
		`{"ev":"msg","dir":"c2s","op":"text","text":"b"}`,
		`{"sleep":0.25}`,
		`{"op":"close","code":4000}`,
	}, "\r\n")
	in := newInputReader(strings.NewReader(lines), StdinJSON, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), []step{
		{err: "input: --stdin json line 2: invalid character"},
		textStep("a"),
		{err: "unknown opcode"},
		textStep("b"),
		{a: action{kind: actSleep, sleep: 250 * time.Millisecond}},
		{a: action{kind: actClose, code: 4000}},
	})
}

func TestInputJSONManySkippedLines(t *testing.T) {
	t.Parallel()
	// A long recording of the peer's side before the line to send.
	var b strings.Builder
	for range 20000 {
		b.WriteString(`{"ev":"msg","dir":"s2c","op":"text","text":"theirs"}` + "\n\n")
	}
	b.WriteString(`{"text":"mine"}` + "\n")
	in := newInputReader(strings.NewReader(b.String()), StdinJSON, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), []step{textStep("mine")})
}

func TestInputJSONRecordingHeaderSkipped(t *testing.T) {
	t.Parallel()
	line := `{"wsrec":1,"created":"2024-01-01T00:00:00Z","tool":{"name":"wscope","version":"v0"},"source":"live","lossy":false,"redacted":["Authorization"]}`
	in := newInputReader(strings.NewReader(line+"\n"), StdinJSON, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), nil)
}

func TestInputJSONRecordingSendsEachMessageOnce(t *testing.T) {
	t.Parallel()
	// What `wscope connect URL -o json` writes for one message each way.
	rec := strings.Join([]string{
		`{"t":0.000000,"ev":"frame","conn":1,"seq":1,"dir":"c2s","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"op":"text","masked":true,"mask":"0a0b0c0d","len":5,"text":"hello"}`,
		`{"t":0.000000,"ev":"msg","conn":1,"dir":"c2s","op":"text","frames":[1],"deflated":false,"text":"hello"}`,
		`{"t":0.001000,"ev":"frame","conn":1,"seq":2,"dir":"s2c","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"op":"text","masked":false,"len":5,"text":"hello"}`,
		`{"t":0.001000,"ev":"msg","conn":1,"dir":"s2c","op":"text","frames":[2],"deflated":false,"text":"hello"}`,
	}, "\n")
	in := newInputReader(strings.NewReader(rec), StdinJSON, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), []step{textStep("hello")})
}

func TestInputJSONLenEncValidated(t *testing.T) {
	t.Parallel()
	in := newInputReader(strings.NewReader(`{"text":"x","len_enc":32}`+"\n"), StdinJSON, false, false, inspect.ClientToServer, 0)
	checkSteps(t, readSteps(t, in), []step{{err: "len_enc"}})
}

func TestInputJSONMaskedTrueMasks(t *testing.T) {
	t.Parallel()
	// "masked":true without a key masks with a fresh one, whichever side
	// sends: a server's automatic mask is no mask.
	for _, line := range []string{`{"text":"x","masked":true}`, `{"text":"x","mask":"auto","masked":true}`} {
		for _, dir := range []inspect.Direction{inspect.ClientToServer, inspect.ServerToClient} {
			var a action
			if _, err := parseJSONAction(&a, []byte(line), dir); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if a.kind != actFrame || a.frame.Mask != wire.MaskWith {
				t.Errorf("%s from %s: %v, want a frame masked with a key", line, dir, a)
			}
		}
	}
}

// pump counts what it could not send, and goes on after it.
func TestPumpCountsWhatWasNotSent(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, c := range []struct {
		name    string
		in      io.Reader
		mode    string
		sendErr func(*action) error
		sent    int
		refused int64
	}{
		{name: "all sent", in: strings.NewReader("a\nb\n"), mode: StdinLines, sent: 2},
		{name: "not JSON", in: strings.NewReader("{\n" + `{"text":"ok"}` + "\nnot json\n"), mode: StdinJSON, sent: 1, refused: 2},
		{name: "a refused close, then the rest", in: strings.NewReader(`{"op":"close","code":70000}` + "\n" + `{"text":"ok"}` + "\n" + `{"op":"close"}` + "\n"), mode: StdinJSON, sent: 2, refused: 1},
		{name: "over the size limit", in: strings.NewReader(strings.Repeat("x", 100) + "\nok\n"), mode: StdinLines, sent: 1, refused: 1},
		{name: "a send that failed", in: strings.NewReader("a\nb\n"), mode: StdinLines, sendErr: func(a *action) error {
			if string(a.payload) == "a" {
				return boom
			}
			return nil
		}, sent: 2, refused: 1},
		{name: "closing is not a failure", in: strings.NewReader("a\nb\n"), mode: StdinLines, sendErr: func(*action) error { return wire.ErrClosing }, sent: 1},
		{name: "a read error", in: io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(boom)), mode: StdinLines, sent: 1, refused: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := newInputReader(c.in, c.mode, false, false, inspect.ClientToServer, 50)
			snk, _, _ := testSink(FormatText, inspect.ServerToClient, nil)
			f := &fakeSender{sendErr: c.sendErr}
			pump(in, f.send, f.flush, snk)
			if len(f.sent) != c.sent || in.refused.Load() != c.refused {
				t.Errorf("%d sent, %d refused; want %d and %d (sent %q)", len(f.sent), in.refused.Load(), c.sent, c.refused, f.sent)
			}
		})
	}
}

// A line of exactly --max-message-size bytes ending in "\r\n" is sent,
// even when the "\r" is the last byte of a full buffer (found by
// FuzzInputReader).
func TestInputLineAtTheLimitWithCRLF(t *testing.T) {
	t.Parallel()
	for _, n := range []int{64<<10 - 1, 128<<10 - 1, 64 << 10} {
		in := newInputReader(strings.NewReader(strings.Repeat("x", n)+"\r\nnext\n"), StdinLines, false, false, inspect.ClientToServer, n)
		checkSteps(t, readSteps(t, in), []step{textStep(strings.Repeat("x", n)), textStep("next")})
	}
}

// An error quotes what it refuses, cut short: a line may be megabytes
// (found by FuzzParseTyped).
func TestInputErrorsStayShort(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("0", 10000)
	for _, line := range []string{
		"/" + long, "/fragment " + long + " x", "/close " + long + "x", "/binary " + long + "z",
		"/frame fin=" + long, "/frame op=" + long, "/frame rsv=" + long, "/frame rsv1=" + long,
		"/frame mask=" + long, "/frame len=" + long + "x", "/frame lenenc=" + long, "/frame hex=" + long + "z",
	} {
		var a action
		err := parseTyped(&a, []byte(line), false)
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("%.30s...: error %.80q of %d bytes, want a short one", line, err, len(fmt.Sprint(err)))
		}
	}
	for _, line := range []string{
		`{"` + long + `":1}`, `{"op":"` + long + `"}`, `{"op":"0x` + long + `"}`, `{"dir":"` + long + `"}`, `{"hex":"` + long + `z"}`,
	} {
		var a action
		_, err := parseJSONAction(&a, []byte(line), inspect.ClientToServer)
		if err == nil || len(err.Error()) > 300 {
			t.Errorf("%.30s...: error %.80q of %d bytes, want a short one", line, err, len(fmt.Sprint(err)))
		}
	}
}
