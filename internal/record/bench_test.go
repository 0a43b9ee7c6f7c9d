package record

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// benchRecording makes a recording of n messages of size bytes, half each
// way, each written as its frame (masked client to server) and its
// message event, as a live session records them.
func benchRecording(tb testing.TB, n, size int, binary bool) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, inspect.RecordingHeader{Created: testStart}, WriterOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	op := inspect.OpText
	if binary {
		op = inspect.OpBinary
	}
	payload := []byte(strings.Repeat(`{"id":12345,"name":"wscope","ok":true}`, size/38+1)[:size])
	if binary {
		for i := range payload {
			payload[i] = byte(i * 7)
		}
	}
	for i := 0; i < n; i++ {
		dir := inspect.ServerToClient
		h := inspect.Header{Fin: true, Op: op, Length: uint64(size), LenEnc: inspect.MinimalLengthEncoding(uint64(size))}
		if i%2 == 0 {
			dir = inspect.ClientToServer
			h.Masked, h.Mask = true, testKey
		}
		f := &inspect.Frame{Seq: uint64(i + 1), Dir: dir, Header: h, Payload: payload}
		f.Raw = inspect.AppendHeader(nil, h)
		t := time.Duration(i) * 37 * time.Microsecond
		w.Write(&inspect.Event{T: t, Kind: inspect.KindFrame, Conn: 1, Frame: f})
		w.Write(&inspect.Event{T: t, Kind: inspect.KindMsg, Conn: 1, Msg: &inspect.Message{Dir: dir, Op: op, Frames: []uint64{uint64(i + 1)}, WireLen: size, Payload: payload}})
	}
	return buf.Bytes()
}

var benchCases = []struct {
	name   string
	n      int
	size   int
	binary bool
}{
	{"32B", 100000, 32, false},
	{"64KiB-text", 200, 64 << 10, false},
	{"64KiB-binary", 200, 64 << 10, true},
}

// BenchmarkReader reads a whole recording per iteration; MB/s is of the
// recording's bytes.
func BenchmarkReader(b *testing.B) {
	for _, bc := range benchCases {
		data := benchRecording(b, bc.n, bc.size, bc.binary)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 2*bc.n {
					b.Fatalf("%d events", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*bc.n), "ns/event")
			// On a shared machine wall time lies; CPU time much less.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(data))*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
			}
		})
	}
}

// BenchmarkStdlibReader is the baseline the hand-written decoder is
// measured against: the same lines through encoding/json into a struct
// with every key of frame and msg events, no more.
func BenchmarkStdlibReader(b *testing.B) {
	type line struct {
		T          float64           `json:"t"`
		Ev         string            `json:"ev"`
		Conn       int               `json:"conn"`
		Seq        uint64            `json:"seq"`
		Dir        string            `json:"dir"`
		Fin        bool              `json:"fin"`
		Rsv1       bool              `json:"rsv1"`
		Rsv2       bool              `json:"rsv2"`
		Rsv3       bool              `json:"rsv3"`
		Op         string            `json:"op"`
		Masked     bool              `json:"masked"`
		Mask       string            `json:"mask"`
		Len        uint64            `json:"len"`
		LenEnc     int               `json:"len_enc"`
		Text       *string           `json:"text"`
		B64        []byte            `json:"b64"`
		Frames     []uint64          `json:"frames"`
		Deflated   bool              `json:"deflated"`
		WireLen    int               `json:"wire_len"`
		Violations []json.RawMessage `json:"violations"`
	}
	for _, bc := range benchCases {
		data := benchRecording(b, bc.n, bc.size, bc.binary)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			defer func() {
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(len(data))*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
				}
			}()
			for b.Loop() {
				rest := data
				_, rest, _ = bytes.Cut(rest, []byte("\n"))
				for len(rest) > 0 {
					var l []byte
					l, rest, _ = bytes.Cut(rest, []byte("\n"))
					var v line
					if err := json.Unmarshal(l, &v); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkWriter writes frame and msg events to io.Discard.
func BenchmarkWriter(b *testing.B) {
	for _, bc := range benchCases {
		data := benchRecording(b, 64, bc.size, bc.binary)
		_, evs := readAll(b, data)
		b.Run(bc.name, func(b *testing.B) {
			w, err := NewWriter(io.Discard, inspect.RecordingHeader{}, WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data) / len(evs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w.Write(evs[i%len(evs)])
				i++
			}
		})
	}
}

// BenchmarkWriterFile writes frame and msg events to a file, as --record
// does: one write per event (MaxDelay 0, what every recording did
// before) against batched (DefaultMaxDelay). Its MB/s is of the
// recording's bytes.
func BenchmarkWriterFile(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"32B", 32}, {"1MiB", 1 << 20}} {
		data := benchRecording(b, 64, bc.size, false)
		_, evs := readAll(b, data)
		for _, mode := range []struct {
			name  string
			delay time.Duration
		}{{"each", 0}, {"batched", DefaultMaxDelay}} {
			b.Run(bc.name+"/"+mode.name, func(b *testing.B) {
				w, err := Create(filepath.Join(b.TempDir(), "bench.wsrec.jsonl"), inspect.RecordingHeader{}, WriterOptions{MaxDelay: mode.delay})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data) / len(evs)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					w.Write(evs[i%len(evs)])
					i++
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// cycleReader repeats lines until n bytes have been produced.
type cycleReader struct {
	lines [][]byte
	i, n  int
	cur   []byte
}

func (c *cycleReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, io.EOF
	}
	if len(c.cur) == 0 {
		c.cur = c.lines[c.i%len(c.lines)]
		c.i++
	}
	k := copy(p, c.cur)
	c.cur = c.cur[k:]
	c.n -= k
	return k, nil
}

// Reading a recording costs the same memory whatever its length: the
// reader allocates its buffers once, not per event.
func TestReaderMemoryIsFlat(t *testing.T) {
	small := benchRecording(t, 8, 32, false)
	big := benchRecording(t, 2, 1<<20, true)
	_, smallBody, _ := bytes.Cut(small, []byte("\n"))
	hdrLine, bigBody, _ := bytes.Cut(big, []byte("\n"))
	var lines [][]byte
	for i := 0; i < 500; i++ {
		lines = append(lines, smallBody)
	}
	lines = append(lines, bigBody)
	for _, total := range []int{20 << 20, 200 << 20} {
		if testing.Short() && total > 20<<20 {
			continue
		}
		in := io.MultiReader(bytes.NewReader(append(hdrLine, '\n')), &cycleReader{lines: lines, n: total})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d MiB, %d events: %.1f MiB allocated in all, %d allocations", total>>20, n, float64(alloc)/(1<<20), after.Mallocs-before.Mallocs)
		if alloc > 16<<20 {
			t.Errorf("reading %d MiB allocated %d MiB", total>>20, alloc>>20)
		}
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAppendEventFrame(b *testing.B) {
	for _, bm := range []struct {
		name    string
		op      inspect.OpCode
		payload string
	}{
		{"text ascii", inspect.OpText, "hello world, this is a plain chat message of some length"},
		{"text json", inspect.OpText, `{"type":"update","id":42,"data":{"price":101.25,"qty":3,"side":"buy"}}`},
		{"text utf8", inspect.OpText, "héllo wörld — 世界 🎉 a message with some non-ASCII text in it"},
		{"binary", inspect.OpBinary, strings.Repeat("\x00\x01\x02\x03", 16)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			f := frameOf(b, 7, inspect.ClientToServer, client(true, bm.op, bm.payload))
			ev := &inspect.Event{T: 1234567 * time.Microsecond, Kind: inspect.KindFrame, Conn: 1, Frame: f}
			buf := AppendEvent(nil, ev)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendEvent(buf[:0], ev)
			}
		})
	}
}

func BenchmarkAppendEventMessage(b *testing.B) {
	m := &inspect.Message{Dir: inspect.ServerToClient, Op: inspect.OpText, Frames: []uint64{1, 2, 3}, WireLen: 70,
		Payload: []byte(`{"type":"update","id":42,"data":{"price":101.25,"qty":3,"side":"buy"}}`)}
	ev := &inspect.Event{T: time.Second, Kind: inspect.KindMsg, Conn: 1, Msg: m}
	buf := AppendEvent(nil, ev)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendEvent(buf[:0], ev)
	}
}
