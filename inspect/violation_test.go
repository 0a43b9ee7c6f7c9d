package inspect

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// sections is where each rule is written, spelled out independently of
// ruleSections so a typo in either shows up.
var sections = map[Rule]string{
	"rsv-without-extension":          "RFC 6455 5.2",
	"reserved-opcode":                "RFC 6455 5.2",
	"control-too-long":               "RFC 6455 5.5",
	"control-fragmented":             "RFC 6455 5.5",
	"continuation-without-message":   "RFC 6455 5.4",
	"data-inside-fragmented-message": "RFC 6455 5.4",
	"client-frame-unmasked":          "RFC 6455 5.1",
	"server-frame-masked":            "RFC 6455 5.1",
	"length-not-minimal":             "RFC 6455 5.2",
	"length-top-bit-set":             "RFC 6455 5.2",
	"text-invalid-utf8":              "RFC 6455 8.1",
	"close-payload-one-byte":         "RFC 6455 5.5.1",
	"close-code-invalid":             "RFC 6455 7.4.1",
	"close-reason-invalid-utf8":      "RFC 6455 5.5.1",
}

func TestRulesAndSections(t *testing.T) {
	rules := Rules()
	if len(rules) != len(sections) {
		t.Errorf("Rules() has %d rules, the test knows %d", len(rules), len(sections))
	}
	seen := map[Rule]bool{}
	for _, r := range rules {
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
		want, ok := sections[r]
		if !ok {
			t.Errorf("rule %q unknown to the test", r)
		}
		if r.Section() != want {
			t.Errorf("%s.Section() = %q, want %q", r, r.Section(), want)
		}
	}
}

// vstep is one frame fed to an Assembler and what it must produce.
type vstep struct {
	wire  []byte
	rules []Rule   // violations on the frame, in order
	msg   *wantMsg // the message it completes, nil for none
}

type wantMsg struct {
	op       OpCode
	payload  string
	frames   []uint64
	deflated bool
	rules    []Rule
}

type vcase struct {
	name    string
	dir     Direction
	deflate bool
	steps   []vstep
}

func msg(op OpCode, payload string, frames ...uint64) *wantMsg {
	return &wantMsg{op: op, payload: payload, frames: frames}
}

func (m *wantMsg) with(rules ...Rule) *wantMsg { m.rules = rules; return m }

func rules(r ...Rule) []Rule { return r }

func deflated(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(s))
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff}) // RFC 7692 7.2.1
}

// runSteps feeds the steps, each decoded from its own bytes, to one
// Assembler and reports every difference. It returns the rules seen.
func runSteps(t *testing.T, c vcase) map[Rule]bool {
	t.Helper()
	seen := map[Rule]bool{}
	a := &Assembler{Dir: c.dir, Deflate: c.deflate}
	for i, st := range c.steps {
		var f Frame
		d := NewDecoder(bytes.NewReader(st.wire), c.dir)
		err := d.Next(&f)
		var tl *TooLargeError
		if err != nil && !errors.As(err, &tl) {
			t.Fatalf("step %d: decode: %v", i+1, err)
		}
		f.Seq = uint64(i + 1)
		m, err := a.Add(&f)
		if err != nil {
			t.Fatalf("step %d: Add: %v", i+1, err)
		}
		checkViolations(t, fmt.Sprintf("step %d frame", i+1), f.Violations, st.rules, seen)
		switch {
		case st.msg == nil && m != nil:
			t.Errorf("step %d: unexpected %s message %q", i+1, m.Op, m.Payload)
		case st.msg != nil && m == nil:
			t.Errorf("step %d: no message, want %s %q", i+1, st.msg.op, st.msg.payload)
		case m != nil:
			w := st.msg
			if m.Dir != c.dir || m.Op != w.op || string(m.Payload) != w.payload || m.Deflated != w.deflated {
				t.Errorf("step %d: message %s %s %q deflated=%v, want %s %s %q deflated=%v",
					i+1, m.Dir, m.Op, m.Payload, m.Deflated, c.dir, w.op, w.payload, w.deflated)
			}
			if !reflect.DeepEqual(m.Frames, w.frames) {
				t.Errorf("step %d: message frames %v, want %v", i+1, m.Frames, w.frames)
			}
			checkViolations(t, fmt.Sprintf("step %d message", i+1), m.Violations, w.rules, seen)
		}
	}
	return seen
}

func checkViolations(t *testing.T, where string, got []Violation, want []Rule, seen map[Rule]bool) {
	t.Helper()
	var names []Rule
	for _, v := range got {
		names = append(names, v.Rule)
		seen[v.Rule] = true
		if v.Section != sections[v.Rule] {
			t.Errorf("%s: %s has section %q, want %q", where, v.Rule, v.Section, sections[v.Rule])
		}
		if v.Message == "" {
			t.Errorf("%s: %s has no message", where, v.Rule)
		}
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("%s: violations [%s], want %v", where, ruleNames(got), want)
	}
}

func violationCases(t testing.TB) []vcase {
	c2s, s2c := ClientToServer, ServerToClient
	compressed := deflated(t, "hello hello hello hello")
	if utf8.Valid(compressed) {
		t.Fatal("test payload compresses to valid UTF-8: pick another")
	}
	long := strings.Repeat("x", 126)
	return []vcase{
		// Valid traffic: nothing may fire.
		{"client masked", c2s, false, []vstep{
			{client(true, OpText, "hello"), nil, msg(OpText, "hello", 1)},
		}},
		{"server unmasked", s2c, false, []vstep{
			{server(true, OpText, "hello"), nil, msg(OpText, "hello", 1)},
		}},
		{"empty text", s2c, false, []vstep{
			{server(true, OpText, ""), nil, msg(OpText, "", 1)},
		}},
		{"binary needs no UTF-8", s2c, false, []vstep{
			{server(true, OpBinary, "\xff\xfe\x00"), nil, msg(OpBinary, "\xff\xfe\x00", 1)},
		}},
		{"fragmented text", c2s, false, []vstep{
			{client(false, OpText, "Hel"), nil, nil},
			{client(false, OpContinuation, "lo "), nil, nil},
			{client(true, OpContinuation, "world"), nil, msg(OpText, "Hello world", 1, 2, 3)},
		}},
		{"control frames between fragments", c2s, false, []vstep{
			{client(false, OpBinary, "ab"), nil, nil},
			{client(true, OpPing, "p"), nil, nil},
			{client(true, OpPong, ""), nil, nil},
			{client(false, OpContinuation, "cd"), nil, nil},
			{client(true, OpClose, "\x03\xe8"), nil, nil},
			{client(true, OpContinuation, "ef"), nil, msg(OpBinary, "abcdef", 1, 4, 6)},
		}},
		{"text split mid-rune", s2c, false, []vstep{
			{server(false, OpText, "\xe4"), nil, nil},
			{server(false, OpContinuation, "\xb8"), nil, nil},
			{server(true, OpPing, ""), nil, nil},
			{server(true, OpContinuation, "\x96!"), nil, msg(OpText, "世!", 1, 2, 4)},
		}},
		{"control frame of 125 bytes", s2c, false, []vstep{
			{server(true, OpPing, long[:125]), nil, nil},
		}},
		{"data frame of 126 bytes in the 16-bit form", s2c, false, []vstep{
			{server(true, OpText, long), nil, msg(OpText, long, 1)},
		}},
		{"empty close", s2c, false, []vstep{
			{server(true, OpClose, ""), nil, nil},
		}},
		{"deflate: RSV1 on the first frame", c2s, true, []vstep{
			{wire(Header{Fin: true, Rsv: Rsv1, Op: OpText, Masked: true, Mask: testKey}, compressed), nil,
				&wantMsg{op: OpText, payload: string(compressed), frames: []uint64{1}, deflated: true}},
		}},
		{"deflate: RSV1 on the first of two fragments", s2c, true, []vstep{
			{wire(Header{Rsv: Rsv1, Op: OpText}, compressed[:3]), nil, nil},
			{server(true, OpContinuation, string(compressed[3:])), nil,
				&wantMsg{op: OpText, payload: string(compressed), frames: []uint64{1, 2}, deflated: true}},
		}},
		{"deflate negotiated, message not compressed", s2c, true, []vstep{
			{server(true, OpText, "plain"), nil, msg(OpText, "plain", 1)},
		}},

		// rsv-without-extension
		{"RSV1 without deflate", s2c, false, []vstep{
			{bits("1 100 0001 0 0000001 01111000"), rules(RuleRsvWithoutExtension), msg(OpText, "x", 1)},
		}},
		{"RSV2 with deflate", s2c, true, []vstep{
			{bits("1 010 0010 0 0000001 00000000"), rules(RuleRsvWithoutExtension), msg(OpBinary, "\x00", 1)},
		}},
		{"RSV3 with deflate", s2c, true, []vstep{
			{bits("1 001 0010 0 0000000"), rules(RuleRsvWithoutExtension), msg(OpBinary, "", 1)},
		}},
		{"RSV1 on a continuation, deflate on", s2c, true, []vstep{
			{wire(Header{Rsv: Rsv1, Op: OpText}, compressed[:3]), nil, nil},
			{wire(Header{Fin: true, Rsv: Rsv1, Op: OpContinuation}, compressed[3:]), rules(RuleRsvWithoutExtension),
				&wantMsg{op: OpText, payload: string(compressed), frames: []uint64{1, 2}, deflated: true}},
		}},
		{"RSV1 on a ping, deflate on", s2c, true, []vstep{
			{bits("1 100 1001 0 0000000"), rules(RuleRsvWithoutExtension), nil},
		}},
		{"RSV1 on a close, deflate on", s2c, true, []vstep{
			{bits("1 100 1000 0 0000000"), rules(RuleRsvWithoutExtension), nil},
		}},
		{"all RSV bits on a close", c2s, false, []vstep{
			{cat(bits("1 111 1000 1 0000000"), testKey[:]), rules(RuleRsvWithoutExtension), nil},
		}},

		// reserved-opcode
		{"reserved data opcode 0x3", s2c, false, []vstep{
			{bits("1 000 0011 0 0000000"), rules(RuleReservedOpcode), nil},
		}},
		{"reserved control opcode 0xB", s2c, false, []vstep{
			{bits("1 000 1011 0 0000000"), rules(RuleReservedOpcode), nil},
		}},
		{"reserved opcode with RSV1 and deflate", s2c, true, []vstep{
			{bits("1 100 0111 0 0000000"), rules(RuleReservedOpcode, RuleRsvWithoutExtension), nil},
		}},
		{"reserved opcode does not disturb a message", s2c, false, []vstep{
			{server(false, OpText, "a"), nil, nil},
			{bits("1 000 0100 0 0000000"), rules(RuleReservedOpcode), nil},
			{server(true, OpContinuation, "b"), nil, msg(OpText, "ab", 1, 3)},
		}},

		// control-too-long
		{"ping of 126 bytes", s2c, false, []vstep{
			{server(true, OpPing, long), rules(RuleControlTooLong), nil},
		}},
		{"close of 126 bytes", s2c, false, []vstep{
			{server(true, OpClose, "\x03\xe8"+long[:124]), rules(RuleControlTooLong), nil},
		}},
		{"pong of 200 bytes in the 64-bit form", s2c, false, []vstep{
			{wire(Header{Fin: true, Op: OpPong, LenEnc: Len64}, []byte(strings.Repeat("y", 200))),
				rules(RuleControlTooLong, RuleLengthNotMinimal), nil},
		}},

		// control-fragmented
		{"ping without FIN", c2s, false, []vstep{
			{cat(bits("0 000 1001 1 0000000"), testKey[:]), rules(RuleControlFragmented), nil},
		}},
		{"close without FIN", s2c, false, []vstep{
			{server(false, OpClose, "\x03\xe8"), rules(RuleControlFragmented), nil},
		}},

		// continuation-without-message
		{"continuation first", s2c, false, []vstep{
			{server(true, OpContinuation, "x"), rules(RuleOrphanContinuation), nil},
		}},
		{"continuation after a complete message", s2c, false, []vstep{
			{server(true, OpText, "a"), nil, msg(OpText, "a", 1)},
			{server(false, OpContinuation, "b"), rules(RuleOrphanContinuation), nil},
			{server(true, OpContinuation, "c"), rules(RuleOrphanContinuation), nil},
			{server(true, OpText, "d"), nil, msg(OpText, "d", 4)},
		}},

		// data-inside-fragmented-message
		{"text inside a fragmented text", s2c, false, []vstep{
			{server(false, OpText, "a"), nil, nil},
			{server(true, OpText, "b"), rules(RuleDataInsideFragmented), msg(OpText, "b", 2)},
		}},
		{"binary starts over inside a fragmented text", s2c, false, []vstep{
			{server(false, OpText, "a"), nil, nil},
			{server(false, OpBinary, "b"), rules(RuleDataInsideFragmented), nil},
			{server(true, OpContinuation, "c"), nil, msg(OpBinary, "bc", 2, 3)},
		}},

		// client-frame-unmasked, server-frame-masked
		{"client unmasked", c2s, false, []vstep{
			{bits("1 000 0001 0 0000010 01101000 01101001"), rules(RuleClientUnmasked), msg(OpText, "hi", 1)},
		}},
		{"client unmasked control", c2s, false, []vstep{
			{server(true, OpPing, ""), rules(RuleClientUnmasked), nil},
		}},
		{"server masked", s2c, false, []vstep{
			{client(true, OpText, "hi"), rules(RuleServerMasked), msg(OpText, "hi", 1)},
		}},
		{"server masked with an all-zero key", s2c, false, []vstep{
			{bits("1 000 0001 1 0000000 00000000 00000000 00000000 00000000"), rules(RuleServerMasked), msg(OpText, "", 1)},
		}},

		// length-not-minimal, length-top-bit-set
		{"length 5 in the 16-bit form", s2c, false, []vstep{
			{cat(bits("1 000 0001 0 1111110 00000000 00000101"), []byte("hello")), rules(RuleLengthNotMinimal), msg(OpText, "hello", 1)},
		}},
		{"length 0 in the 64-bit form", c2s, false, []vstep{
			{cat(bits("1 000 1010 1 1111111"), make([]byte, 8), testKey[:]), rules(RuleLengthNotMinimal), nil},
		}},
		{"length 300 in the 64-bit form", s2c, false, []vstep{
			{wire(Header{Fin: true, Op: OpBinary, LenEnc: Len64}, make([]byte, 300)), rules(RuleLengthNotMinimal), msg(OpBinary, string(make([]byte, 300)), 1)},
		}},
		{"64-bit length with the top bit set", s2c, false, []vstep{
			// The decoder refuses the payload; the header still gets judged.
			{bits("1 000 0010 0 1111111 10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000101"),
				rules(RuleLengthTopBit), msg(OpBinary, "", 1)},
		}},

		// text-invalid-utf8
		{"invalid text", s2c, false, []vstep{
			{server(true, OpText, "ok\xff"), rules(RuleTextInvalidUTF8), msg(OpText, "ok\xff", 1).with(RuleTextInvalidUTF8)},
		}},
		{"text ends mid-rune", s2c, false, []vstep{
			{server(false, OpText, "ok"), nil, nil},
			{server(true, OpContinuation, "\xe4\xb8"), rules(RuleTextInvalidUTF8), msg(OpText, "ok\xe4\xb8", 1, 2).with(RuleTextInvalidUTF8)},
		}},
		{"text invalid from its second fragment on", s2c, false, []vstep{
			{server(false, OpText, "ok"), nil, nil},
			{server(false, OpContinuation, "\xf4\x90"), rules(RuleTextInvalidUTF8), nil},
			{server(true, OpContinuation, "\x80\x80"), nil, msg(OpText, "ok\xf4\x90\x80\x80", 1, 2, 3).with(RuleTextInvalidUTF8)},
		}},
		{"surrogate in text", c2s, false, []vstep{
			{client(true, OpText, "\xed\xa0\x80"), rules(RuleTextInvalidUTF8), msg(OpText, "\xed\xa0\x80", 1).with(RuleTextInvalidUTF8)},
		}},

		// close-payload-one-byte, close-code-invalid, close-reason-invalid-utf8
		{"close of one byte", s2c, false, []vstep{
			{server(true, OpClose, "\x03"), rules(RuleCloseOneByte), nil},
		}},
		{"close code 1005 on the wire", s2c, false, []vstep{
			{server(true, OpClose, "\x03\xed"), rules(RuleCloseCodeInvalid), nil},
		}},
		{"close reason not UTF-8", c2s, false, []vstep{
			{client(true, OpClose, "\x03\xe8\xc0\xaf"), rules(RuleCloseReasonUTF8), nil},
		}},
		{"close with bad code and bad reason", s2c, false, []vstep{
			{server(true, OpClose, "\x00\x00\xff"), rules(RuleCloseCodeInvalid, RuleCloseReasonUTF8), nil},
		}},

		// Several at once, in the order they are checked.
		{"everything wrong with one frame", c2s, false, []vstep{
			{bits("0 111 1101 0 1111110 00000000 00000001 00000000"),
				rules(RuleReservedOpcode, RuleControlFragmented, RuleClientUnmasked, RuleLengthNotMinimal, RuleRsvWithoutExtension), nil},
		}},
	}
}

func TestViolations(t *testing.T) {
	seen := map[Rule]bool{}
	for _, c := range violationCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for r := range runSteps(t, c) {
				seen[r] = true
			}
		})
	}
	for _, r := range Rules() {
		if !seen[r] {
			t.Errorf("no test case triggers %s", r)
		}
	}
}

func TestCloseCodesOnTheWire(t *testing.T) {
	valid := []CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	invalid := []CloseCode{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}
	for _, dir := range []Direction{ClientToServer, ServerToClient} {
		for _, code := range append(valid, invalid...) {
			body := string(AppendClose(nil, code, "reason"))
			frame := server(true, OpClose, body)
			if dir == ClientToServer {
				frame = client(true, OpClose, body)
			}
			var want []Rule
			if !code.ValidOnWire() {
				want = rules(RuleCloseCodeInvalid)
			}
			name := fmt.Sprintf("%s %d", dir, code)
			t.Run(name, func(t *testing.T) {
				runSteps(t, vcase{name, dir, false, []vstep{{frame, want, nil}}})
				var f Frame
				if err := NewDecoder(bytes.NewReader(frame), dir).Next(&f); err != nil {
					t.Fatal(err)
				}
				(&Assembler{Dir: dir}).Add(&f)
				if f.Close == nil || f.Close.Code != code || f.Close.Reason != "reason" {
					t.Errorf("Close = %+v, want %d reason", f.Close, code)
				}
			})
		}
	}
	for _, code := range valid {
		if !code.ValidOnWire() {
			t.Errorf("%d should be valid", code)
		}
	}
}

func TestCloseFieldReset(t *testing.T) {
	var f Frame
	a := &Assembler{Dir: ServerToClient}
	d := NewDecoder(bytes.NewReader(cat(server(true, OpClose, "\x03\xe8"), server(true, OpClose, ""), server(true, OpClose, "\x03"))), ServerToClient)
	for i, want := range []*Close{{Code: 1000}, nil, nil} {
		if err := d.Next(&f); err != nil {
			t.Fatal(err)
		}
		a.Add(&f)
		if !reflect.DeepEqual(f.Close, want) {
			t.Errorf("frame %d: Close = %+v, want %+v", i, f.Close, want)
		}
	}
}

func TestViolationString(t *testing.T) {
	v := violation(RuleCloseOneByte, "close payload is %d byte", 1)
	if got, want := v.String(), "close-payload-one-byte (RFC 6455 5.5.1): close payload is 1 byte"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
