package inspect

import (
	"io"
	"strings"
	"testing"
)

// loopReader yields its bytes over and over, never io.EOF, so a benchmark
// can decode b.N frames from one Decoder without setup in the loop.
type loopReader struct {
	b   []byte
	off int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

var _ io.Reader = (*loopReader)(nil)

func BenchmarkParseHeader(b *testing.B) {
	for _, bm := range []struct {
		name string
		hdr  []byte
	}{
		{"7-bit", bits("1 000 0001 0 0000101")},
		{"16-bit masked", AppendHeader(nil, Header{Fin: true, Op: OpText, Masked: true, Mask: testKey, Length: 1000})},
		{"64-bit masked", AppendHeader(nil, Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey, Length: 1 << 20})},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.hdr)))
			var sink uint64
			for b.Loop() {
				h, _, err := ParseHeader(bm.hdr)
				if err != nil {
					b.Fatal(err)
				}
				sink += h.Length
			}
			_ = sink
		})
	}
}

// BenchmarkDecodeSmallFrames decodes masked client frames with a 32-byte
// text payload and reassembles them: one frame per op. Steady state must
// not allocate.
func BenchmarkDecodeSmallFrames(b *testing.B) {
	payload := strings.Repeat("0123456789abcdef", 2)
	frame := client(true, OpText, payload)
	var stream []byte
	for range 1024 {
		stream = append(stream, frame...)
	}
	d := NewDecoder(&loopReader{b: stream}, ClientToServer)
	a := &Assembler{Dir: ClientToServer}
	var f Frame
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var seq uint64
	for b.Loop() {
		if err := d.Next(&f); err != nil {
			b.Fatal(err)
		}
		seq++
		f.Seq = seq
		m, err := a.Add(&f)
		if err != nil || m == nil || len(m.Payload) != 32 || len(f.Violations) != 0 {
			b.Fatalf("frame %d: %v %v %v", seq, m, err, f.Violations)
		}
	}
}

// BenchmarkDecodeFragmented is the same with every message in four
// fragments and a ping between them.
func BenchmarkDecodeFragmented(b *testing.B) {
	msg := cat(
		client(false, OpText, "01234567"),
		client(false, OpContinuation, "89abcdef"),
		client(true, OpPing, ""),
		client(false, OpContinuation, "01234567"),
		client(true, OpContinuation, "89abcdef"),
	)
	d := NewDecoder(&loopReader{b: msg}, ClientToServer)
	a := &Assembler{Dir: ClientToServer}
	var f Frame
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	var seq uint64
	for b.Loop() {
		for range 5 {
			if err := d.Next(&f); err != nil {
				b.Fatal(err)
			}
			seq++
			f.Seq = seq
			if _, err := a.Add(&f); err != nil || len(f.Violations) != 0 {
				b.Fatal(err, f.Violations)
			}
		}
	}
}

func BenchmarkDecodeLargeFrame(b *testing.B) {
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(i * 7)
	}
	for _, bm := range []struct {
		name  string
		frame []byte
	}{
		{"masked", wire(Header{Fin: true, Op: OpBinary, Masked: true, Mask: testKey}, p)},
		{"unmasked", wire(Header{Fin: true, Op: OpBinary}, p)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			dir := ServerToClient
			if bm.name == "masked" {
				dir = ClientToServer
			}
			d := NewDecoder(&loopReader{b: bm.frame}, dir)
			a := &Assembler{Dir: dir}
			var f Frame
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.frame)))
			for b.Loop() {
				if err := d.Next(&f); err != nil {
					b.Fatal(err)
				}
				if m, err := a.Add(&f); err != nil || len(m.Payload) != 1<<20 {
					b.Fatal(err)
				}
			}
		})
	}
}
