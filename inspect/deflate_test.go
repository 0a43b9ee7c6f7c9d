package inspect

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// windowSizes are the window bits a peer can agree (RFC 7692 section
// 7.1.2): 15 goes through compress/flate, the others through the windowed
// encoder.
var windowSizes = []int{8, 9, 10, 11, 12, 13, 14, 15}

func TestDeflaterInflaterRoundTrip(t *testing.T) {
	msg := []byte(strings.Repeat("hello, compressed world ", 20))
	for _, wbits := range windowSizes {
		for _, takeover := range []bool{true, false} {
			d := Deflater{Takeover: takeover, WindowBits: wbits}
			in := Inflater{Takeover: takeover}
			var sizes []int
			for i := 0; i < 3; i++ {
				c, err := d.Deflate(msg)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(c))
				if bytes.HasSuffix(c, []byte{0, 0, 0xff, 0xff}) {
					t.Fatalf("bits=%d: tail not stripped: % x", wbits, c)
				}
				out, err := in.Inflate(c, 1<<20)
				if err != nil {
					t.Fatalf("bits=%d takeover=%v message %d: %v", wbits, takeover, i, err)
				}
				if !bytes.Equal(out, msg) {
					t.Fatalf("bits=%d takeover=%v message %d: got %q", wbits, takeover, i, out)
				}
			}
			if sizes[0] >= len(msg)/4 {
				t.Errorf("bits=%d: %d bytes compressed to %d", wbits, len(msg), sizes[0])
			}
			if takeover && sizes[1] >= sizes[0] {
				t.Errorf("bits=%d: with context takeover the second message should be smaller: %v", wbits, sizes)
			}
			if !takeover && sizes[1] != sizes[0] {
				t.Errorf("bits=%d: without context takeover every message compresses alike: %v", wbits, sizes)
			}
		}
	}
}

func TestDeflaterEmpty(t *testing.T) {
	for _, wbits := range windowSizes {
		d := Deflater{WindowBits: wbits}
		c, err := d.Deflate(nil)
		if err != nil || !bytes.Equal(c, []byte{0}) {
			t.Fatalf("bits=%d: got % x, %v; want 00", wbits, c, err)
		}
	}
}

// windowMessages are messages that put a windowed encoder to work: empty
// and one-byte ones, text that repeats within a message and across two,
// at short and at long distances,
// incompressible bytes (stored blocks, more than one), and repeats just
// inside and just outside each window.
func windowMessages() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	block := random(3000)
	text := []byte(strings.Repeat(`{"id":7,"name":"wscope","ok":true} `, 100))
	msgs := [][]byte{
		{},
		{'x'},
		text,
		text, // with takeover, refers to the one before
		append(append(append([]byte(nil), block...), random(5000)...), block...),
		random(70000),
		[]byte(strings.Repeat("aaaaaaaaab", 1000)),
	}
	for _, w := range []int{256, 512, 1024, 2048, 4096, 8192, 16384, 32768} {
		for _, gap := range []int{w - 8, w - 4, w, w + 1} {
			chunk := random(64)
			m := append(append(append([]byte(nil), chunk...), random(gap-len(chunk))...), chunk...)
			msgs = append(msgs, m)
		}
	}
	return append(msgs, block) // repeats part of an earlier message
}

func TestDeflaterWindowRoundTrip(t *testing.T) {
	msgs := windowMessages()
	for _, wbits := range windowSizes {
		for _, takeover := range []bool{true, false} {
			d := Deflater{Takeover: takeover, WindowBits: wbits}
			in := Inflater{Takeover: takeover}
			for i, m := range msgs {
				c, err := d.Deflate(m)
				if err != nil {
					t.Fatal(err)
				}
				if wbits < 15 && len(c) > storedSize(len(m)) {
					t.Errorf("bits=%d message %d: %d bytes grew to %d", wbits, i, len(m), len(c))
				}
				out, err := in.Inflate(c, 1<<20)
				if err != nil || !bytes.Equal(out, m) {
					t.Fatalf("bits=%d takeover=%v message %d (%d bytes): %d bytes back, %v", wbits, takeover, i, len(m), len(out), err)
				}
			}
		}
	}
}

// A Huffman-only compress/flate stream refers to nothing: it serves every
// window, so Level -2 keeps compress/flate.
func TestDeflaterHuffmanOnlyAnyWindow(t *testing.T) {
	d := Deflater{WindowBits: 9, Level: flate.HuffmanOnly, Takeover: true}
	msg := []byte(strings.Repeat("huffman ", 50))
	c, err := d.Deflate(msg)
	if err != nil || d.win != nil || d.fw == nil {
		t.Fatalf("err %v, windowed %v", err, d.win != nil)
	}
	var in Inflater
	if out, err := in.Inflate(c, 1<<20); err != nil || !bytes.Equal(out, msg) {
		t.Fatalf("%q %v", out, err)
	}
}

type zlibCase struct {
	Name     string    `json:"name"`
	Bits     int       `json:"bits"`
	Takeover bool      `json:"takeover"`
	Msgs     []zlibMsg `json:"msgs"`
}

type zlibMsg struct {
	Z    string `json:"z"`
	Want string `json:"want"`
}

// runZlib returns the verdict of Python's zlib, given exactly the window,
// on each case, one line each; e2e/python/inflate.py says how.
func runZlib(t *testing.T, cases []zlibCase) []string {
	t.Helper()
	const python = "/usr/bin/python3" // Debian's, as the e2e peers use
	if _, err := os.Stat(python); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed to check deflate windows with zlib: %v", python, err)
		}
		t.Skipf("%s not found: the window bound is not checked with zlib", python)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		enc.Encode(c)
	}
	cmd := exec.Command(python, "../e2e/python/inflate.py")
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func zlibCaseOf(name string, wbits int, takeover bool, msgs [][]byte, deflate func([]byte) []byte) zlibCase {
	c := zlibCase{Name: name, Bits: wbits, Takeover: takeover}
	for _, m := range msgs {
		c.Msgs = append(c.Msgs, zlibMsg{Z: base64.StdEncoding.EncodeToString(deflate(m)), Want: base64.StdEncoding.EncodeToString(m)})
	}
	return c
}

// TestDeflaterWindowZlib checks the window bound with an independent
// decoder: zlib refuses a distance beyond the window it was given.
func TestDeflaterWindowZlib(t *testing.T) {
	t.Parallel()
	msgs := windowMessages()
	var cases []zlibCase
	for _, wbits := range windowSizes {
		for _, takeover := range []bool{true, false} {
			d := &Deflater{Takeover: takeover, WindowBits: wbits}
			cases = append(cases, zlibCaseOf(fmt.Sprintf("bits=%d/takeover=%v", wbits, takeover), wbits, takeover, msgs, func(m []byte) []byte {
				z, err := d.Deflate(m)
				if err != nil {
					t.Fatal(err)
				}
				return z
			}))
		}
	}
	// The control: compress/flate's 32 KiB window read through a 1 KiB
	// one must fail, or the check above proves nothing.
	fw, _ := flate.NewWriter(nil, flate.DefaultCompression)
	control := zlibCaseOf("control", 10, false, msgs[4:5], func(m []byte) []byte {
		var b bytes.Buffer
		fw.Reset(&b)
		fw.Write(m)
		fw.Flush()
		return bytes.TrimSuffix(b.Bytes(), deflateTail[:4])
	})
	got := runZlib(t, append(cases, control))
	if len(got) != len(cases)+1 {
		t.Fatalf("python answered %d lines for %d cases:\n%s", len(got), len(cases)+1, strings.Join(got, "\n"))
	}
	for i, c := range cases {
		if got[i] != c.Name+" ok" {
			t.Errorf("zlib: %s", got[i])
		}
	}
	if last := got[len(got)-1]; !strings.Contains(last, "invalid distance too far back") {
		t.Errorf("the control was not refused: %s", last)
	}
}

// FuzzDeflaterWindow: whatever the messages and the window, what the
// windowed encoder writes inflates to them.
func FuzzDeflaterWindow(f *testing.F) {
	f.Add([]byte("hello hello hello hello"), uint8(8), uint16(5), true)
	f.Add(bytes.Repeat([]byte("abcdefgh"), 600), uint8(10), uint16(3000), false)
	f.Fuzz(func(t *testing.T, data []byte, wbits uint8, split uint16, takeover bool) {
		wb := 8 + int(wbits%7)
		d := Deflater{Takeover: takeover, WindowBits: wb}
		in := Inflater{Takeover: takeover}
		cut := min(int(split), len(data))
		for i, m := range [][]byte{data[:cut], data[cut:], data} {
			z, err := d.Deflate(m)
			if err != nil {
				t.Fatal(err)
			}
			out, err := in.Inflate(z, 1<<20)
			if err != nil || !bytes.Equal(out, m) {
				t.Fatalf("bits=%d message %d (%d bytes): %d bytes back, %v", wb, i, len(m), len(out), err)
			}
		}
	})
}

func benchText(n int) []byte {
	return []byte(strings.Repeat(`{"id":12345,"name":"wscope","tags":["a","bb","ccc"],"ok":true} `, n/60+1)[:n])
}

// BenchmarkDeflate: the 15-bit path is compress/flate's and must not
// allocate per message; the 10-bit one is the windowed encoder.
func BenchmarkDeflate(b *testing.B) {
	for _, wbits := range []int{15, 10} {
		for _, size := range []int{32, 4 << 10, 64 << 10} {
			for _, takeover := range []bool{true, false} {
				b.Run(fmt.Sprintf("%dbits/%d/takeover=%v", wbits, size, takeover), func(b *testing.B) {
					p := benchText(size)
					d := &Deflater{Takeover: takeover, WindowBits: wbits}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := d.Deflate(p); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
