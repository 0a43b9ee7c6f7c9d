package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

func TestFrameSpecCheck(t *testing.T) {
	t.Parallel()
	n := func(v uint64) *uint64 { return &v }
	p := func(size int) []byte { return bytes.Repeat([]byte("a"), size) }
	for _, c := range []struct {
		name string
		spec FrameSpec
		err  string // "" for a spec that can be sent as it says
	}{
		{"plain", FrameSpec{Fin: true, Op: inspect.OpText, Payload: p(5)}, ""},
		{"every reserved thing", FrameSpec{Op: 0xF, Rsv: 7, Mask: MaskWith, Key: [4]byte{1}}, ""},
		{"7-bit form at its limit", FrameSpec{LenEnc: inspect.Len7, Payload: p(125)}, ""},
		{"16-bit form at its limit", FrameSpec{LenEnc: inspect.Len16, Length: n(0xFFFF)}, ""},
		{"non-minimal 64-bit", FrameSpec{LenEnc: inspect.Len64, Payload: p(1)}, ""},
		{"a lie announcing more", FrameSpec{Length: n(1 << 63), Payload: p(3)}, ""},
		{"a true len", FrameSpec{Length: n(3), Payload: p(3)}, ""},
		{"control frame too long, on purpose", FrameSpec{Op: inspect.OpClose, Payload: p(200)}, ""},
		{"opcode 16", FrameSpec{Op: 16}, "opcode 16: the field holds 0 to 15"},
		{"rsv 8", FrameSpec{Rsv: 8}, "RSV bits 0b1000: there are three"},
		{"mask mode", FrameSpec{Mask: 3}, "mask mode 3"},
		{"length form 32", FrameSpec{LenEnc: 32}, "length form 32: want 7, 16 or 64"},
		{"200 in 7 bits", FrameSpec{LenEnc: inspect.Len7, Payload: p(200)}, "length 200 does not fit the 7-bit form (at most 125)"},
		{"126 in 7 bits", FrameSpec{LenEnc: inspect.Len7, Payload: p(126)}, "length 126 does not fit the 7-bit form"},
		{"a lie over 7 bits", FrameSpec{LenEnc: inspect.Len7, Length: n(127)}, "length 127 does not fit the 7-bit form"},
		{"65536 in 16 bits", FrameSpec{LenEnc: inspect.Len16, Payload: p(0x10000)}, "length 65536 does not fit the 16-bit form (at most 65535)"},
		{"a lie over 16 bits", FrameSpec{LenEnc: inspect.Len16, Length: n(1 << 40)}, "length 1099511627776 does not fit the 16-bit form"},
		{"a lie announcing less", FrameSpec{Length: n(2), Payload: p(5)}, "length 2 announces less than the 5-byte payload"},
	} {
		err := c.spec.Check()
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: Check() = %v, want nil", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: Check() = %v, want an error with %q", c.name, err, c.err)
		}
	}
}

func TestCheckClose(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code   inspect.CloseCode
		reason string
		err    string
	}{
		{1000, "", ""},
		{0, "", ""},
		{4000, strings.Repeat("r", 123), ""},
		{4000, strings.Repeat("r", 124), "close reason of 124 bytes: a close frame carries at most 123 bytes of reason (125 with its code)"},
		{0, "why", "a close reason needs a close code"},
	} {
		err := CheckClose(c.code, c.reason)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("CheckClose(%d, %d bytes) = %v, want %q", c.code, len(c.reason), err, c.err)
		}
	}
}

// pipeConn is a Conn of the given role writing into a net.Pipe, and the
// bytes that reach the other end once it is closed.
func pipeConn(t *testing.T, role inspect.Role, rec *recorder) (*Conn, func() []byte) {
	t.Helper()
	a, b := net.Pipe()
	got := make(chan []byte, 1)
	go func() {
		p, _ := io.ReadAll(b)
		got <- p
	}()
	cfg := Config{}
	if rec != nil {
		cfg.OnEvent = rec.event
	}
	c := newConn(a, nil, role, cfg)
	t.Cleanup(func() { a.Close(); b.Close() })
	return c, func() []byte { a.Close(); return <-got }
}

// A crafted frame that cannot be what it says is refused with nothing
// written or reported, and the connection is not marked as closing: a
// refused close frame does not stop what comes after it.
func TestWriteFrameRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c, wire := pipeConn(t, inspect.RoleClient, rec)
	err := c.WriteFrame(FrameSpec{Fin: true, Op: inspect.OpClose, LenEnc: inspect.Len7, Payload: bytes.Repeat([]byte("r"), 200)})
	if err == nil || !strings.Contains(err.Error(), "does not fit the 7-bit form") {
		t.Fatalf("WriteFrame(200 bytes in 7 bits) = %v, want refused", err)
	}
	if err := c.Send(inspect.OpText, []byte("after")); err != nil {
		t.Fatalf("a message after the refused close: %v", err)
	}
	got := wire()
	var fs []inspect.Frame
	d := inspect.NewDecoder(bytes.NewReader(got), inspect.ClientToServer)
	for {
		var f inspect.Frame
		if err := d.Next(&f); err != nil {
			break
		}
		fs = append(fs, f)
	}
	if len(fs) != 1 || fs[0].Op != inspect.OpText || string(fs[0].Payload) != "after" {
		t.Errorf("on the wire: %d frames (%d bytes), want only the text \"after\"", len(fs), len(got))
	}
	if len(rec.frames) != 1 || rec.frames[0].Op != inspect.OpText {
		t.Errorf("reported %d frames, want the text frame only", len(rec.frames))
	}
}

// A crafted close that is never written (the connection has ended) does
// not mark the connection as closing.
func TestWriteFrameCloseMarksOnlyWhenWritten(t *testing.T) {
	t.Parallel()
	c, _ := pipeConn(t, inspect.RoleClient, nil)
	c.wmu.Lock()
	c.ended = true
	c.wmu.Unlock()
	if err := c.WriteFrame(FrameSpec{Fin: true, Op: inspect.OpClose}); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteFrame on an ended connection = %v, want ErrClosed", err)
	}
	if c.closeSent.Load() {
		t.Error("a close frame that was not written marked the connection as closing")
	}

	c2, wire := pipeConn(t, inspect.RoleClient, nil)
	if err := c2.WriteFrame(FrameSpec{Fin: true, Op: inspect.OpClose, Payload: []byte{3, 0xe8}}); err != nil {
		t.Fatal(err)
	}
	if !c2.closeSent.Load() {
		t.Error("a close frame written did not mark the connection as closing")
	}
	if err := c2.Send(inspect.OpText, []byte("late")); !errors.Is(err, ErrClosing) {
		t.Errorf("a message after our close = %v, want ErrClosing", err)
	}
	wire()
}

// What a crafted frame puts on the wire is what its frame event says:
// header bits, mask key, length and its form, payload.
func TestWriteFrameWireMatchesEvent(t *testing.T) {
	t.Parallel()
	n := func(v uint64) *uint64 { return &v }
	for _, role := range []inspect.Role{inspect.RoleClient, inspect.RoleServer} {
		for i, spec := range []FrameSpec{
			{Fin: true, Op: inspect.OpText, Payload: []byte("hi")},
			{Op: 0x3, Rsv: inspect.Rsv1 | inspect.Rsv3, Mask: MaskNone, Key: [4]byte{9, 9, 9, 9}, Payload: []byte("unmasked, key ignored")},
			{Fin: true, Op: inspect.OpBinary, Mask: MaskWith, Key: [4]byte{1, 2, 3, 4}, LenEnc: inspect.Len64, Payload: []byte{0, 1, 2}},
			{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len16, Payload: bytes.Repeat([]byte("a"), 200)},
			{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len7, Payload: bytes.Repeat([]byte("a"), 125)},
			{Fin: true, Op: inspect.OpBinary, Length: n(300), Payload: []byte("short of its length")},
			{Fin: true, Op: inspect.OpPing, Payload: bytes.Repeat([]byte("p"), 130)},
		} {
			rec := &recorder{}
			c, wire := pipeConn(t, role, rec)
			if err := c.WriteFrame(spec); err != nil {
				t.Fatalf("%s frame %d: %v", role, i, err)
			}
			got := wire()
			var f inspect.Frame
			err := inspect.NewDecoder(bytes.NewReader(got), c.wdir).Next(&f)
			if err != nil && spec.Length == nil {
				t.Fatalf("%s frame %d: decoding the wire: %v", role, i, err)
			}
			if len(rec.frames) != 1 {
				t.Fatalf("%s frame %d: %d frame events", role, i, len(rec.frames))
			}
			if d := frameDiff(&rec.frames[0], &f); d != "" {
				t.Errorf("%s frame %d: the event says %s", role, i, d)
			}
		}
	}
}

// frameDiff names the first field where the event's frame differs from
// the decoded wire's.
func frameDiff(ev, w *inspect.Frame) string {
	switch {
	case ev.Fin != w.Fin, ev.Rsv != w.Rsv, ev.Op != w.Op:
		return "other header bits"
	case ev.Masked != w.Masked || ev.Mask != w.Mask:
		return "another mask"
	case ev.Length != w.Length || ev.LenEnc != w.LenEnc:
		return "another length"
	case !bytes.Equal(ev.Raw, w.Raw):
		return "another header"
	case !bytes.HasPrefix(ev.Payload, w.Payload) || len(w.Payload) < len(ev.Payload):
		return "another payload"
	}
	return ""
}
