package record

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
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
