package inspect

import (
	"strings"
	"testing"
)

// checked returns a frame with header h (Length and LenEnc filled in when
// zero) and payload p, with the violations an Assembler finds in it on a
// connection that did or did not negotiate permessage-deflate.
func checked(dir Direction, h Header, p string, deflate bool) *Frame {
	if h.Length == 0 {
		h.Length = uint64(len(p))
	}
	if h.LenEnc == 0 {
		h.LenEnc = MinimalLengthEncoding(h.Length)
	}
	if dir == ClientToServer && !h.Masked {
		h.Masked, h.Mask = true, testKey
	}
	f := &Frame{Dir: dir, Header: h, Payload: []byte(p)}
	if h.Op == OpClose {
		if c, ok := ParseClose(f.Payload); ok {
			f.Close = &c
		}
	}
	a := Assembler{Dir: dir, Deflate: deflate}
	a.Add(f)
	return f
}

// line is AppendLine of f without the time.
func line(f *Frame, o LineOptions) string {
	return strings.TrimLeft(string(AppendLine(nil, &Event{Kind: KindFrame, Conn: 1, Frame: f}, o)), " 0.")
}

func TestLineNotation(t *testing.T) {
	t.Parallel()
	text := Header{Fin: true, Op: OpText}
	deflated := "\xf2\x48\xcd\xc9\xc9\x07\x00" // "Hello" compressed
	for _, c := range []struct {
		name string
		f    *Frame
		want string
	}{
		{"masked text", checked(ClientToServer, text, "hello", false),
			"c2s text   F--- M 37fa213d len=5       hello"},
		{"unmasked", checked(ServerToClient, text, "hello", false),
			"s2c text   F--- - -------- len=5       hello"},
		{"length not minimal", checked(ServerToClient, Header{Fin: true, Op: OpText, LenEnc: Len16}, "hello", false),
			"s2c text   F--- - -------- len=5/16bit !! length-not-minimal (RFC 6455 5.2) hello"},
		{"truncated", checked(ServerToClient, Header{Fin: true, Op: OpBinary, Length: 100, LenEnc: Len7}, "\x01\x02", false),
			"s2c binary F--- - -------- len=100(got 2) [binary 2 B] 01 02"},
		{"close", checked(ServerToClient, Header{Fin: true, Op: OpClose}, string(AppendClose(nil, CloseNormal, "bye")), false),
			`s2c close  F--- - -------- len=5       1000 Normal Closure "bye"`},
		// The reason is quoted: its end is plain, and a terminal control or
		// a bidi override in it is escaped.
		{"close reason escaped", checked(ServerToClient, Header{Fin: true, Op: OpClose}, string(AppendClose(nil, 4000, "a\"\x1b[2J\u202e")), false),
			`s2c close  F--- - -------- len=11      4000 Private Use "a\"\x1b[2J\u202e"`},
		{"close without status", checked(ServerToClient, Header{Fin: true, Op: OpClose}, "", false),
			"s2c close  F--- - -------- len=0       (no status)"},
		// The rules come before the preview, which the peer controls and
		// which is cut at the width.
		{"two rules", checked(ServerToClient, Header{Fin: false, Rsv: Rsv2, Op: OpPing}, "x  !! fake", false),
			"s2c ping   --2- - -------- len=10      !! control-fragmented (RFC 6455 5.5), rsv-without-extension (RFC 6455 5.2) x  !! fake"},
		// RSV1 without permessage-deflate is a violation, and the payload is
		// what the opcode says, not compressed bytes.
		{"rsv1 without deflate", checked(ServerToClient, Header{Fin: true, Rsv: Rsv1, Op: OpText}, "Hello", false),
			"s2c text   F1-- - -------- len=5       !! rsv-without-extension (RFC 6455 5.2) Hello"},
		{"deflated", checked(ServerToClient, Header{Fin: true, Rsv: Rsv1, Op: OpText}, deflated, true),
			"s2c text   F1-- - -------- len=7       [deflated 7 B] f2 48 cd c9 c9 07 00"},
	} {
		if got := line(c.f, LineOptions{}); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestLineMessage(t *testing.T) {
	t.Parallel()
	e := &Event{Kind: KindMsg, Msg: &Message{Dir: ServerToClient, Op: OpText, Frames: []uint64{1, 2}, Payload: []byte("a\xffb"),
		Violations: []Violation{{Rule: RuleTextInvalidUTF8, Section: RuleTextInvalidUTF8.Section()}}}}
	got := strings.TrimLeft(string(AppendLine(nil, e, LineOptions{})), " 0.")
	if want := `s2c msg    text   frames=2 len=3 !! text-invalid-utf8 (RFC 6455 8.1) a\xffb`; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// TestLineOpen: the open line names only the addresses it knows (a HAR
// knows no client address) and the client certificate when there was one.
func TestLineOpen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		open *Open
		want string
	}{
		{&Open{URL: "ws://h/", Role: RoleServer, Local: "127.0.0.1:80", Remote: "127.0.0.1:5000"}, "open   ws://h/ (server 127.0.0.1:80 <-> 127.0.0.1:5000)"},
		{&Open{URL: "ws://h/", Role: RoleClient, Remote: "127.0.0.1:80"}, "open   ws://h/ (client to 127.0.0.1:80)"},
		{&Open{URL: "ws://h/", Role: RoleClient}, "open   ws://h/ (client)"},
		{&Open{URL: "wss://h/", Role: RoleServer, Local: "a:1", Remote: "b:2", TLS: &TLSInfo{Version: "TLS 1.3", ClientSubject: "CN=alice", ClientIssuer: "CN=CA", ClientSHA256: "AB:CD"}},
			`open   wss://h/ (server a:1 <-> b:2) client-cert="CN=alice" sha256=AB:CD`},
	} {
		got := strings.TrimLeft(string(AppendLine(nil, &Event{Kind: KindOpen, Open: c.open}, LineOptions{})), " 0.")
		if got != c.want {
			t.Errorf("\n got %s\nwant %s", got, c.want)
		}
	}
}

func TestTLSDescribe(t *testing.T) {
	t.Parallel()
	tl := &TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "h", PeerSubject: "CN=alice",
		ClientSubject: "CN=alice", ClientIssuer: "CN=CA", ClientSHA256: "AB:CD"}
	want := `TLS 1.3 TLS_AES_128_GCM_SHA256, server name "h", peer CN=alice; client certificate CN=alice (issuer CN=CA, SHA-256 AB:CD)`
	if got := tl.Describe(); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	// A proxy relaying to ws:// knows only the client's leg.
	tl = &TLSInfo{ClientSubject: "CN=alice", ClientIssuer: "CN=CA", ClientSHA256: "AB:CD"}
	if got, want := tl.Describe(), "client certificate CN=alice (issuer CN=CA, SHA-256 AB:CD)"; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// TestLineContinuation: with a LineContext, a continuation is previewed
// as what its message is; without one, by its own bytes.
func TestLineContinuation(t *testing.T) {
	t.Parallel()
	// The frames of one direction as an Assembler checks them.
	a := Assembler{Dir: ServerToClient, Deflate: true}
	frame := func(h Header, p string) *Frame {
		h.Length, h.LenEnc = uint64(len(p)), Len7
		f := &Frame{Dir: ServerToClient, Header: h, Payload: []byte(p)}
		a.Add(f)
		return f
	}
	first := func(op OpCode, rsv uint8, p string) *Frame { return frame(Header{Op: op, Rsv: rsv}, p) }
	cont := func(fin bool, p string) *Frame { return frame(Header{Fin: fin, Op: OpContinuation}, p) }
	ctx := &LineContext{}
	with := LineOptions{Context: ctx}
	preview := func(f *Frame, o LineOptions) string {
		l := line(f, o)
		return l[strings.Index(l, " len=")+13:]
	}

	// Binary bytes that happen to be printable stay binary.
	preview(first(OpBinary, 0, "\x00\x01"), with)
	tabs := cont(false, "\t\n\n\n")
	if got, want := preview(tabs, with), "[cont 4 B] 09 0a 0a 0a"; got != want {
		t.Errorf("continuation of binary: %q, want %q", got, want)
	}
	if got := FramePreview(tabs, ContentOf(tabs), 60); got != " ⏎⏎⏎" {
		t.Errorf("the same frame alone reads as text: %q", got)
	}
	// A ping between the fragments changes nothing.
	if got := preview(frame(Header{Fin: true, Op: OpPing}, "p"), with); got != "p" {
		t.Errorf("ping between fragments: %q", got)
	}
	if got, want := preview(cont(true, "ab"), with), "[cont 2 B] 61 62"; got != want {
		t.Errorf("last continuation of binary: %q, want %q", got, want)
	}
	// The message is over: an orphan reads by its bytes.
	if got := preview(cont(true, "ab"), with); got != "!! continuation-without-message (RFC 6455 5.4) ab" {
		t.Errorf("orphan continuation: %q", got)
	}
	// A text message cut inside a rune: the continuation is text.
	preview(first(OpText, 0, "h\xc3"), with)
	if got := preview(cont(true, "\xa9!"), with); got != `\xa9!` {
		t.Errorf("continuation of text: %q", got)
	}
	// The continuations of a compressed message hold compressed bytes.
	preview(first(OpText, Rsv1, "\xf2\x48"), with)
	if got, want := preview(cont(true, "hi"), with), "[deflated 2 B] 68 69"; got != want {
		t.Errorf("continuation of a compressed message: %q, want %q", got, want)
	}
	// Each connection on its own; the end forgets one.
	preview(first(OpBinary, 0, "\x00"), with)
	other := AppendLine(nil, &Event{Kind: KindFrame, Conn: 2, Frame: cont(true, "ab")}, with)
	if !strings.HasSuffix(string(other), " ab") {
		t.Errorf("connection 2 took connection 1's message: %q", other)
	}
	AppendLine(nil, &Event{Kind: KindEnd, Conn: 1, End: &End{}}, with)
	if len(ctx.conns) != 1 {
		t.Errorf("%d connections remembered after the end of one", len(ctx.conns))
	}
}

func TestFragmentsParts(t *testing.T) {
	t.Parallel()
	var s Fragments
	frames := []struct {
		dir  Direction
		h    Header
		part Part
		op   OpCode
	}{
		{ServerToClient, Header{Op: OpBinary}, PartFirst, OpBinary},
		{ClientToServer, Header{Fin: true, Op: OpPing}, PartNone, OpPing}, // the other direction has no message open
		{ServerToClient, Header{Fin: true, Op: OpPing}, PartBetween, OpPing},
		{ClientToServer, Header{Fin: true, Op: OpText}, PartNone, OpText},
		{ServerToClient, Header{Op: OpContinuation}, PartMiddle, OpBinary},
		{ServerToClient, Header{Fin: true, Op: 0x3}, PartNone, 0x3},
		{ServerToClient, Header{Fin: true, Op: OpContinuation}, PartLast, OpBinary},
		{ServerToClient, Header{Fin: true, Op: OpContinuation}, PartNone, OpContinuation},
		{ServerToClient, Header{Op: OpText}, PartFirst, OpText},
		{ServerToClient, Header{Fin: true, Op: OpBinary}, PartNone, OpBinary}, // drops the open message
		{ServerToClient, Header{Fin: true, Op: OpContinuation}, PartNone, OpContinuation},
	}
	for i, fr := range frames {
		c, part := s.Frame(&Frame{Dir: fr.dir, Header: fr.h})
		if part != fr.part || c.Op != fr.op {
			t.Errorf("frame %d (%s %s): part %d, op %s; want %d, %s", i, fr.dir, fr.h.Op, part, c.Op, fr.part, fr.op)
		}
	}
}

func TestAppendRatio(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		wire, payload int
		want          string
	}{{23, 53, "0.43"}, {26, 24, "1.08"}, {1, 1000, "0.00"}} {
		if got := string(AppendRatio(nil, c.wire, c.payload)); got != c.want {
			t.Errorf("%d/%d: %s, want %s", c.wire, c.payload, got, c.want)
		}
	}
}
