package inspect

import (
	"bytes"
	"errors"
	"testing"
)

func TestBits(t *testing.T) {
	if got := bits("1 000 0001 | 1 0000101"); !bytes.Equal(got, []byte{0x81, 0x85}) {
		t.Errorf("bits = % x", got)
	}
	for _, bad := range []string{"101", "1 000 0001 2"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("bits(%q) did not panic", bad)
				}
			}()
			bits(bad)
		}()
	}
}

var headerTests = []struct {
	name string
	wire []byte
	h    Header
}{
	{
		"text fin unmasked len 5",
		bits("1 000 0001 0 0000101"),
		Header{Fin: true, Op: OpText, Length: 5, LenEnc: Len7},
	},
	{
		"empty close",
		bits("1 000 1000 0 0000000"),
		Header{Fin: true, Op: OpClose, LenEnc: Len7},
	},
	{
		"binary no fin masked len 125",
		bits("0 000 0010 1 1111101  00110111 11111010 00100001 00111101"),
		Header{Op: OpBinary, Masked: true, Mask: testKey, Length: 125, LenEnc: Len7},
	},
	{
		"continuation all rsv",
		bits("1 111 0000 0 0000001"),
		Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Op: OpContinuation, Length: 1, LenEnc: Len7},
	},
	{
		"rsv1 only",
		bits("1 100 0001 0 0000001"),
		Header{Fin: true, Rsv: Rsv1, Op: OpText, Length: 1, LenEnc: Len7},
	},
	{
		"rsv3 only, reserved opcode",
		bits("1 001 1111 0 0000000"),
		Header{Fin: true, Rsv: Rsv3, Op: 0xF, LenEnc: Len7},
	},
	{
		"16-bit length 126",
		bits("1 000 0010 0 1111110  00000000 01111110"),
		Header{Fin: true, Op: OpBinary, Length: 126, LenEnc: Len16},
	},
	{
		"16-bit length 65535 masked",
		bits("1 000 0010 1 1111110  11111111 11111111  00110111 11111010 00100001 00111101"),
		Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey, Length: 0xFFFF, LenEnc: Len16},
	},
	{
		"16-bit length 5, not minimal",
		bits("1 000 0001 0 1111110  00000000 00000101"),
		Header{Fin: true, Op: OpText, Length: 5, LenEnc: Len16},
	},
	{
		"16-bit length 0, not minimal",
		bits("1 000 0001 0 1111110  00000000 00000000"),
		Header{Fin: true, Op: OpText, Length: 0, LenEnc: Len16},
	},
	{
		"64-bit length 65536",
		bits("1 000 0010 0 1111111  00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000"),
		Header{Fin: true, Op: OpBinary, Length: 0x10000, LenEnc: Len64},
	},
	{
		"64-bit length 200 masked, not minimal",
		bits("1 000 0010 1 1111111  00000000 00000000 00000000 00000000 00000000 00000000 00000000 11001000  00110111 11111010 00100001 00111101"),
		Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey, Length: 200, LenEnc: Len64},
	},
	{
		"64-bit length 3, not minimal",
		bits("1 000 0001 0 1111111  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000011"),
		Header{Fin: true, Op: OpText, Length: 3, LenEnc: Len64},
	},
	{
		"64-bit length with the top bit set",
		bits("1 000 0010 0 1111111  10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"),
		Header{Fin: true, Op: OpBinary, Length: 1<<63 | 1, LenEnc: Len64},
	},
	{
		"64-bit all ones masked: the largest header",
		bits("1 111 1111 1 1111111  11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111  11111111 11111111 11111111 11111111"),
		Header{Fin: true, Rsv: 7, Op: 0xF, Masked: true, Mask: [4]byte{0xff, 0xff, 0xff, 0xff}, Length: ^uint64(0), LenEnc: Len64},
	},
}

func TestParseHeader(t *testing.T) {
	for _, tt := range headerTests {
		t.Run(tt.name, func(t *testing.T) {
			// Trailing bytes (the payload) must not change anything.
			in := append(append([]byte(nil), tt.wire...), 0xAA, 0xBB)
			h, n, err := ParseHeader(in)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if h != tt.h {
				t.Errorf("ParseHeader =\n %+v\nwant\n %+v", h, tt.h)
			}
			if n != len(tt.wire) {
				t.Errorf("n = %d, want %d", n, len(tt.wire))
			}
			if s := h.Size(); s != len(tt.wire) {
				t.Errorf("Size() = %d, want %d", s, len(tt.wire))
			}
			if s := HeaderSize(tt.wire[1]); s != len(tt.wire) {
				t.Errorf("HeaderSize(%08b) = %d, want %d", tt.wire[1], s, len(tt.wire))
			}
			if h.Rsv1() != (h.Rsv&4 != 0) || h.Rsv2() != (h.Rsv&2 != 0) || h.Rsv3() != (h.Rsv&1 != 0) {
				t.Errorf("Rsv accessors disagree with Rsv %03b", h.Rsv)
			}
		})
	}
}

func TestAppendHeader(t *testing.T) {
	for _, tt := range headerTests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got := AppendHeader(append([]byte(nil), prefix...), tt.h)
			if !bytes.Equal(got[:len(prefix)], prefix) {
				t.Fatalf("prefix clobbered")
			}
			if got := got[len(prefix):]; !bytes.Equal(got, tt.wire) {
				t.Errorf("AppendHeader =\n % x\nwant\n % x", got, tt.wire)
			}
		})
	}
}

func TestAppendHeaderMinimalWhenLenEncUnset(t *testing.T) {
	for _, tt := range []struct {
		length uint64
		want   LengthEncoding
	}{
		{0, Len7}, {1, Len7}, {125, Len7}, {126, Len16}, {0xFFFF, Len16},
		{0x10000, Len64}, {1 << 40, Len64}, {1<<63 - 1, Len64},
	} {
		b := AppendHeader(nil, Header{Fin: true, Op: OpBinary, Length: tt.length})
		h, n, err := ParseHeader(b)
		if err != nil || n != len(b) {
			t.Fatalf("length %d: n=%d err=%v", tt.length, n, err)
		}
		if h.Length != tt.length || h.LenEnc != tt.want {
			t.Errorf("length %d: parsed %d in %s-bit form, want %s-bit", tt.length, h.Length, h.LenEnc, tt.want)
		}
		if MinimalLengthEncoding(tt.length) != tt.want {
			t.Errorf("MinimalLengthEncoding(%d) = %s, want %s", tt.length, MinimalLengthEncoding(tt.length), tt.want)
		}
	}
}

// TestAppendHeaderRsvStaysInItsBits: Rsv holds three bits; anything above
// must not leak into FIN.
func TestAppendHeaderRsvStaysInItsBits(t *testing.T) {
	b := AppendHeader(nil, Header{Fin: false, Rsv: 0xF8 | Rsv1, Op: OpText})
	h, _, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Fin || h.Rsv != Rsv1 || h.Op != OpText {
		t.Errorf("Rsv 0xFC wrote % 08b, parsed as %+v", b, h)
	}
}

func TestParseHeaderShort(t *testing.T) {
	for _, tt := range headerTests {
		for k := 0; k < len(tt.wire); k++ {
			h, n, err := ParseHeader(tt.wire[:k])
			if !errors.Is(err, ErrShortHeader) {
				t.Errorf("%s: ParseHeader of the first %d of %d bytes: err = %v, want ErrShortHeader", tt.name, k, len(tt.wire), err)
			}
			if n != 0 || h != (Header{}) {
				t.Errorf("%s: ParseHeader of %d bytes returned n=%d h=%+v with the error", tt.name, k, n, h)
			}
		}
	}
}

func TestHeaderSize(t *testing.T) {
	for _, tt := range []struct {
		b1   byte
		want int
	}{
		{0x00, 2}, {0x7D, 2}, {0x7E, 4}, {0x7F, 10},
		{0x80, 6}, {0xFD, 6}, {0xFE, 8}, {0xFF, 14},
	} {
		if got := HeaderSize(tt.b1); got != tt.want {
			t.Errorf("HeaderSize(%#02x) = %d, want %d", tt.b1, got, tt.want)
		}
	}
	if got := HeaderSize(0xFF); got != MaxHeaderSize {
		t.Errorf("largest header %d, MaxHeaderSize %d", got, MaxHeaderSize)
	}
	// Size agrees with HeaderSize for every second byte.
	for b1 := 0; b1 < 256; b1++ {
		h, _, err := ParseHeader(append([]byte{0x81, byte(b1)}, make([]byte, 12)...))
		if err != nil {
			t.Fatal(err)
		}
		if h.Size() != HeaderSize(byte(b1)) {
			t.Errorf("b1=%#02x: Size %d, HeaderSize %d", b1, h.Size(), HeaderSize(byte(b1)))
		}
	}
}

func TestOpCode(t *testing.T) {
	for op := OpCode(0); op < 16; op++ {
		got, err := ParseOpCode(op.String())
		if err != nil || got != op {
			t.Errorf("ParseOpCode(%q) = %v, %v", op.String(), got, err)
		}
		control := op >= 8
		reserved := (op >= 3 && op <= 7) || op >= 0xB
		if op.IsControl() != control || op.IsReserved() != reserved || op.IsData() != (op == 1 || op == 2) {
			t.Errorf("%s: control=%v reserved=%v data=%v", op, op.IsControl(), op.IsReserved(), op.IsData())
		}
	}
	for _, bad := range []string{"", "16", "0x10", "-1", "texts"} {
		if _, err := ParseOpCode(bad); err == nil {
			t.Errorf("ParseOpCode(%q) succeeded", bad)
		}
	}
	if d, err := ParseDirection("server"); err != nil || d != ServerToClient || d.Reverse() != ClientToServer {
		t.Errorf("ParseDirection(server) = %v, %v", d, err)
	}
}
