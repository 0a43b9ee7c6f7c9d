package inspect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestDecoderFrames(t *testing.T) {
	key2 := [4]byte{1, 2, 3, 4}
	in := cat(
		client(true, OpText, "hello"),
		wire(Header{Fin: false, Op: OpBinary, Masked: true, Mask: key2}, []byte{0, 1, 2, 3, 4, 5}),
		client(true, OpPing, ""),
		wire(Header{Fin: true, Op: OpContinuation, Masked: true, Mask: testKey, LenEnc: Len64}, []byte("tail")),
		wire(Header{Fin: true, Rsv: Rsv1 | Rsv3, Op: 0x3}, []byte("unmasked")),
	)
	want := []struct {
		h       Header
		raw     []byte
		payload string
	}{
		{Header{Fin: true, Op: OpText, Masked: true, Mask: testKey, Length: 5, LenEnc: Len7},
			bits("1 000 0001 1 0000101 00110111 11111010 00100001 00111101"), "hello"},
		{Header{Op: OpBinary, Masked: true, Mask: key2, Length: 6, LenEnc: Len7},
			bits("0 000 0010 1 0000110 00000001 00000010 00000011 00000100"), "\x00\x01\x02\x03\x04\x05"},
		{Header{Fin: true, Op: OpPing, Masked: true, Mask: testKey, LenEnc: Len7},
			cat(bits("1 000 1001 1 0000000"), testKey[:]), ""},
		{Header{Fin: true, Op: OpContinuation, Masked: true, Mask: testKey, Length: 4, LenEnc: Len64},
			cat(bits("1 000 0000 1 1111111"), []byte{0, 0, 0, 0, 0, 0, 0, 4}, testKey[:]), "tail"},
		{Header{Fin: true, Rsv: 0b101, Op: 0x3, Length: 8, LenEnc: Len7},
			bits("1 101 0011 0 0001000"), "unmasked"},
	}
	for _, readerName := range []string{"whole", "one byte at a time"} {
		t.Run(readerName, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(in)
			if readerName != "whole" {
				r = iotest.OneByteReader(r)
			}
			d := NewDecoder(r, ClientToServer)
			var f Frame
			for i, w := range want {
				if err := d.Next(&f); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if f.Header != w.h {
					t.Errorf("frame %d: header %+v, want %+v", i, f.Header, w.h)
				}
				if !bytes.Equal(f.Raw, w.raw) {
					t.Errorf("frame %d: Raw % x, want % x", i, f.Raw, w.raw)
				}
				if string(f.Payload) != w.payload {
					t.Errorf("frame %d: payload %q, want %q", i, f.Payload, w.payload)
				}
				if f.Dir != ClientToServer {
					t.Errorf("frame %d: Dir %v", i, f.Dir)
				}
				wantMasked := []byte(w.payload)
				if w.h.Masked {
					wantMasked = masked(w.h.Mask, wantMasked)
				}
				if got := f.MaskedPayload(); !bytes.Equal(got, wantMasked) {
					t.Errorf("frame %d: MaskedPayload % x, want % x", i, got, wantMasked)
				}
				if f.WireLen() != len(w.raw)+len(w.payload) {
					t.Errorf("frame %d: WireLen %d", i, f.WireLen())
				}
			}
			for range 2 {
				if err := d.Next(&f); err != io.EOF {
					t.Fatalf("after the last frame: %v, want io.EOF", err)
				}
			}
		})
	}
}

func TestDecoderEmpty(t *testing.T) {
	var f Frame
	if err := NewDecoder(bytes.NewReader(nil), ServerToClient).Next(&f); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestDecoderResetsFrame(t *testing.T) {
	f := Frame{
		Violations: []Violation{{Rule: RuleCloseOneByte}},
		Close:      &Close{Code: 1000},
		Payload:    []byte("stale"),
	}
	d := NewDecoder(bytes.NewReader(server(true, OpText, "")), ServerToClient)
	if err := d.Next(&f); err != nil {
		t.Fatal(err)
	}
	if len(f.Violations) != 0 || f.Close != nil || len(f.Payload) != 0 || f.Dir != ServerToClient {
		t.Errorf("frame not reset: %+v", f)
	}
}

func TestDecoderTruncated(t *testing.T) {
	big := make([]byte, 200<<10) // larger than the bufio buffer
	for i := range big {
		big[i] = byte(i)
	}
	frames := []struct {
		name string
		wire []byte
	}{
		{"7-bit unmasked", server(true, OpText, "hello")},
		{"7-bit masked", client(true, OpText, "hello")},
		{"16-bit masked", client(true, OpBinary, string(big[:300]))},
		{"64-bit masked", wire(Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey}, big)},
	}
	for _, fr := range frames {
		hsize := HeaderSize(fr.wire[1])
		for k := 1; k < len(fr.wire); k++ {
			if k > hsize+10 && k < len(fr.wire)-10 && k%4099 != 0 {
				continue // the middle of a big payload: sample it
			}
			var f Frame
			err := NewDecoder(bytes.NewReader(fr.wire[:k]), ClientToServer).Next(&f)
			var te *TruncatedError
			if !errors.As(err, &te) {
				t.Fatalf("%s cut at %d: %v, want *TruncatedError", fr.name, k, err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s cut at %d: errors.Is(io.ErrUnexpectedEOF) is false", fr.name, k)
			}
			want := TruncatedError{InHeader: k < hsize, Got: uint64(k), Want: uint64(hsize)}
			switch {
			case k < 2:
				want.Want = 2
			case k >= hsize:
				want.Got, want.Want = uint64(k-hsize), uint64(len(fr.wire)-hsize)
			}
			if *te != want {
				t.Errorf("%s cut at %d: %+v, want %+v", fr.name, k, *te, want)
			}
			if te.Error() == "" {
				t.Error("empty message")
			}
		}
	}
}

// onlyHeader yields the header once and fails the test on any further
// read: the decoder must stop before the payload.
type onlyHeader struct {
	t    *testing.T
	b    []byte
	done bool
}

func (r *onlyHeader) Read(p []byte) (int, error) {
	if r.done {
		r.t.Error("the decoder read past the header")
		return 0, io.EOF
	}
	r.done = true
	return copy(p, r.b), nil
}

func TestDecoderTooLarge(t *testing.T) {
	for _, tt := range []struct {
		name  string
		hdr   []byte
		max   uint64
		limit uint64
		size  uint64
	}{
		{"7-bit over the limit", bits("1 000 0010 0 1100100"), 99, 99, 100},
		{"16-bit over the limit", bits("1 000 0010 1 1111110 00000011 11101000 00000000 00000000 00000000 00000000"), 999, 999, 1000},
		{"64-bit 1 TiB", bits("1 000 0010 0 1111111 00000000 00000000 00000001 00000000 00000000 00000000 00000000 00000000"), 1 << 20, 1 << 20, 1 << 40},
		{"64-bit top bit, no limit", bits("1 000 0010 0 1111111 10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"), 0, 1 << 62, 1<<63 | 1},
		{"64-bit top bit, limit", bits("1 000 0010 0 1111111 10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001"), 1 << 20, 1 << 20, 1<<63 | 1},
		{"64-bit all ones", bits("1 000 0010 0 1111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111"), 0, 1 << 62, ^uint64(0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(&onlyHeader{t: t, b: tt.hdr}, ServerToClient)
			d.MaxFrameSize = tt.max
			var f Frame
			err := d.Next(&f)
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("Next: %v, want *TooLargeError", err)
			}
			if *tl != (TooLargeError{What: "frame", Size: tt.size, Limit: tt.limit}) {
				t.Errorf("%+v", *tl)
			}
			if f.Length != tt.size || !bytes.Equal(f.Raw, tt.hdr) || f.Op != OpBinary {
				t.Errorf("header not filled in: %+v raw % x", f.Header, f.Raw)
			}
			if f.Payload != nil {
				t.Errorf("payload %d bytes", len(f.Payload))
			}
		})
	}
	// At the limit is fine.
	d := NewDecoder(bytes.NewReader(server(true, OpBinary, "12345")), ServerToClient)
	d.MaxFrameSize = 5
	var f Frame
	if err := d.Next(&f); err != nil || string(f.Payload) != "12345" {
		t.Errorf("frame at the limit: %v %q", err, f.Payload)
	}
}

func TestDecoderLargePayloads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{64<<10 - 1, 64 << 10, 64<<10 + 1, 1 << 20, 3<<20 + 7} {
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		in := cat(
			wire(Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey}, p),
			client(true, OpText, "after"),
			wire(Header{Fin: true, Op: OpBinary}, p),
		)
		for _, name := range []string{"bytes", "half reader"} {
			var r io.Reader = bytes.NewReader(in)
			if name != "bytes" {
				r = iotest.HalfReader(r)
			}
			d := NewDecoder(r, ClientToServer)
			var f Frame
			if err := d.Next(&f); err != nil {
				t.Fatalf("%d %s: %v", size, name, err)
			}
			if !bytes.Equal(f.Payload, p) {
				t.Errorf("%d %s: masked payload differs", size, name)
			}
			if err := d.Next(&f); err != nil || string(f.Payload) != "after" {
				t.Errorf("%d %s: frame after: %v %q", size, name, err, f.Payload)
			}
			if err := d.Next(&f); err != nil || !bytes.Equal(f.Payload, p) {
				t.Errorf("%d %s: unmasked payload: %v", size, name, err)
			}
			if err := d.Next(&f); err != io.EOF {
				t.Errorf("%d %s: %v, want io.EOF", size, name, err)
			}
		}
	}
}

func TestDecoderOwnBufio(t *testing.T) {
	in := cat(server(true, OpText, "a somewhat longer payload than sixteen bytes"), server(true, OpText, "b"))
	br := bufio.NewReaderSize(bytes.NewReader(in), 16)
	d := NewDecoder(br, ServerToClient)
	var f Frame
	if err := d.Next(&f); err != nil || string(f.Payload) != "a somewhat longer payload than sixteen bytes" {
		t.Fatalf("%v %q", err, f.Payload)
	}
	if err := d.Next(&f); err != nil || string(f.Payload) != "b" {
		t.Fatalf("%v %q", err, f.Payload)
	}
}

// TestDecoderAfterHandshake: bytes already buffered past a handshake are
// decoded first.
func TestDecoderAfterHandshake(t *testing.T) {
	in := cat([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"), server(true, OpText, "one"), server(true, OpText, "two"))
	br := bufio.NewReader(bytes.NewReader(in))
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	br.ReadString('\n')
	d := NewDecoder(br, ServerToClient)
	if d.Buffered() != len(in)-len("HTTP/1.1 101 Switching Protocols\r\n\r\n") {
		t.Errorf("Buffered() = %d", d.Buffered())
	}
	var f Frame
	for _, want := range []string{"one", "two"} {
		if err := d.Next(&f); err != nil || string(f.Payload) != want {
			t.Fatalf("%v %q, want %q", err, f.Payload, want)
		}
	}
	if d.Buffered() != 0 {
		t.Errorf("Buffered() = %d after the last frame", d.Buffered())
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	in := server(true, OpText, "hello")
	for _, k := range []int{0, 1, 2, 4} {
		r := io.MultiReader(bytes.NewReader(in[:k]), iotest.ErrReader(boom))
		var f Frame
		err := NewDecoder(r, ServerToClient).Next(&f)
		if !errors.Is(err, boom) {
			t.Errorf("error after %d bytes: %v, want boom", k, err)
		}
		var te *TruncatedError
		if errors.As(err, &te) {
			t.Errorf("error after %d bytes reported as truncation", k)
		}
	}
}

// TestDecodeAllocationBound: a header announcing 1 TiB followed by 10 bytes
// must cost about what arrived, with or without a frame limit.
func TestDecodeAllocationBound(t *testing.T) {
	in := cat(bits("1 000 0010 1 1111111 00000000 00000000 00000001 00000000 00000000 00000000 00000000 00000000"), testKey[:], make([]byte, 10))
	for _, max := range []uint64{0, 1 << 20, 1 << 41} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := NewDecoder(bytes.NewReader(in), ClientToServer)
		d.MaxFrameSize = max
		var f Frame
		err := d.Next(&f)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("max %d: no error", max)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew >= 1<<20 {
			t.Errorf("max %d: %d bytes allocated for 24 bytes of input (%v)", max, grew, err)
		}
	}
}

// TestDecoderTruncatedPayloadUnmasked: what arrived of a cut frame is in
// Payload, unmasked like a whole one (the recording marks it truncated).
func TestDecoderTruncatedPayloadUnmasked(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 10<<10) // 100 KiB: the chunked path
	for _, p := range [][]byte{[]byte("hello world"), big} {
		fr := wire(Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey}, p)
		hsize := HeaderSize(fr[1])
		for _, got := range []int{1, 5, len(p) - 1} {
			var f Frame
			err := NewDecoder(bytes.NewReader(fr[:hsize+got]), ClientToServer).Next(&f)
			var te *TruncatedError
			if !errors.As(err, &te) {
				t.Fatalf("%v", err)
			}
			if !bytes.Equal(f.Payload, p[:got]) {
				t.Errorf("%d of %d bytes: payload %.20q…, want %.20q…", got, len(p), f.Payload, p[:got])
			}
		}
	}
}

// A watched payload arrives in pieces, unmasked as it comes: the pieces
// add up to the payload, and the payload is unmasked once, whatever the
// reads were.
func TestDecoderWatchSeesPiecesAsTheyArrive(t *testing.T) {
	payload := []byte("a masked payload that arrives in several reads, the last one short")
	w := wire(Header{Fin: true, Op: OpText, Masked: true, Mask: testKey}, payload)
	for _, cuts := range [][]int{{3}, {5, 9, 20}, {2, 3, 4, 5, 40, 41}} {
		pr, pw := io.Pipe()
		go func() {
			prev := 0
			for _, c := range append(cuts, len(w)) {
				pw.Write(w[prev:c])
				prev = c
			}
			pw.Close()
		}()
		d := NewDecoder(pr, ClientToServer)
		var seen []byte
		d.Watch = func(f *Frame, off int, piece []byte) bool {
			if off != len(seen) {
				t.Errorf("cuts %v: piece at %d after %d bytes", cuts, off, len(seen))
			}
			seen = append(seen, piece...)
			return true
		}
		var f Frame
		if err := d.Next(&f); err != nil {
			t.Fatalf("cuts %v: %v", cuts, err)
		}
		if !bytes.Equal(f.Payload, payload) || !bytes.Equal(seen, payload) {
			t.Errorf("cuts %v: payload %q, pieces %q", cuts, f.Payload, seen)
		}
	}
}

// A frame cut by Watch: what arrived is returned, and the rest of its
// payload is skipped so the next frame decodes.
func TestDecoderWatchCutSkipsTheRest(t *testing.T) {
	w := cat(server(true, OpText, "0123456789"), server(true, OpText, "next"))
	d := NewDecoder(bytes.NewReader(w), ServerToClient)
	d.Watch = func(f *Frame, off int, piece []byte) bool { return string(f.Payload) == "" && off > 100 }
	var f Frame
	var cut *CutError
	if err := d.Next(&f); !errors.As(err, &cut) || cut.Want != 10 {
		t.Fatalf("first frame: %v", err)
	}
	d.Watch = nil
	if err := d.Next(&f); err != nil || string(f.Payload) != "next" {
		t.Fatalf("after the cut: %q %v", f.Payload, err)
	}
}
