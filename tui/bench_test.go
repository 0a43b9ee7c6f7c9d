package tui

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// traffic makes the events of n single-frame text messages as a live
// connection reports them (a frame event, then its msg event), each with
// its own 40-byte payload, as a Feed delivers them.
type traffic struct {
	seq    uint64
	t      time.Duration
	noMsgs bool // frame events alone: one row per frame
	paired bool // each message a decoded request or answer, in pairs
}

func (g *traffic) next(n int) []*inspect.Event {
	out := make([]*inspect.Event, 0, 2*n)
	for range n {
		g.seq++
		g.t += 10 * time.Microsecond
		p := strconv.AppendUint([]byte(`{"type":"tick","price":64123.5,"n":`), g.seq, 10)
		p = append(p, '}')
		dir, h := inspect.ServerToClient, inspect.Header{Fin: true, Op: inspect.OpText, Length: uint64(len(p)), LenEnc: inspect.Len7}
		if g.seq%2 == 0 {
			dir, h.Masked, h.Mask = inspect.ClientToServer, true, testMask
		}
		f := &inspect.Frame{Seq: g.seq, Dir: dir, Header: h, Payload: p}
		msg := &inspect.Message{Dir: dir, Op: inspect.OpText, Frames: []uint64{g.seq}, WireLen: len(p), Payload: p}
		if g.paired {
			role := inspect.CorrRequest
			if g.seq%2 == 0 {
				role = inspect.CorrAnswer
			}
			msg.Decoded = []inspect.Decoded{{Protocol: "rpc", Summary: "rpc", Corr: "id " + strconv.FormatUint((g.seq+1)/2, 10), CorrRole: role}}
		}
		out = append(out, &inspect.Event{T: g.t, Kind: inspect.KindFrame, Conn: 1, Frame: f})
		if !g.noMsgs {
			out = append(out, &inspect.Event{T: g.t, Kind: inspect.KindMsg, Conn: 1, Msg: msg})
		}
	}
	return out
}

const benchBatch = 4096

// BenchmarkIngest takes 100k and 1M messages into a model that keeps
// them all, in the batches the program delivers, and reports the rate and
// the heap the rows hold: "msg" sends a frame event and a msg event per
// message, as a live connection does (two rows); "frame" sends the frame
// events alone (one row each); "paired" is "msg" with each message a
// decoded request or answer, which the correlation index keeps.
func BenchmarkIngest(b *testing.B) {
	for _, kind := range []string{"msg", "frame", "paired"} {
		for _, n := range []int{100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", kind, n/1000), func(b *testing.B) {
				rows := n
				if kind != "frame" {
					rows = 2 * n
				}
				b.ReportAllocs()
				var heap uint64
				for range b.N {
					b.StopTimer()
					runtime.GC()
					before := heapInUse()
					m := New(Options{Scrollback: rows, MaxBytes: 1 << 40}, nil)
					m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
					g := &traffic{noMsgs: kind == "frame", paired: kind == "paired"}
					b.StartTimer()
					for done := 0; done < n; done += benchBatch {
						b.StopTimer()
						evs := g.next(min(benchBatch, n-done))
						b.StartTimer()
						m.Update(batchMsg{events: evs})
					}
					b.StopTimer()
					runtime.GC()
					heap = heapInUse() - before
					if m.d.store.len() != rows {
						b.Fatalf("kept %d rows, want %d", m.d.store.len(), rows)
					}
					runtime.KeepAlive(m)
					b.StartTimer()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
				b.ReportMetric(float64(heap)/(1<<20), "MiB-kept")
				b.ReportMetric(float64(heap)/float64(rows), "B/row")
			})
		}
	}
}

// BenchmarkView draws one screen of a model holding 100k messages, as
// after each batch: only the rows in view are drawn.
func BenchmarkView(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			opts := liveOpts()
			m := New(opts, nil)
			m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			g := &traffic{}
			for range 100_000 / benchBatch {
				m.Update(batchMsg{events: g.next(benchBatch)})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_ = m.Screen()
			}
		})
	}
}

// BenchmarkLive is the full loop under load: a batch of 1024 messages in,
// the detail of the newest row made, a screen drawn. frames/s is what the
// TUI keeps up with while it redraws after every batch.
func BenchmarkLive(b *testing.B) {
	m := New(liveOpts(), nil)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	g := &traffic{}
	batches := make([][]*inspect.Event, 64)
	for i := range batches {
		batches[i] = g.next(1024)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.Update(batchMsg{events: batches[i%len(batches)]})
		_ = m.Screen()
	}
	b.ReportMetric(1024*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryBounded: with the default scrollback, memory stays flat
// however many frames arrive.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 300k messages")
	}
	m := New(Options{Scrollback: 20_000}, nil)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	g := &traffic{}
	var after [3]uint64
	for round := range after {
		for range 100_000 / benchBatch {
			m.Update(batchMsg{events: g.next(benchBatch)})
		}
		runtime.GC()
		after[round] = heapInUse()
	}
	if m.d.store.len() != 20_000 {
		t.Errorf("kept %d rows", m.d.store.len())
	}
	// The second and third 100k leave the heap where the first left it.
	if after[2] > after[0]+after[0]/4 {
		t.Errorf("heap grew from %d to %d bytes over 200k more messages", after[0], after[2])
	}
	t.Logf("heap after 100k, 200k, 300k messages: %d, %d, %d KiB", after[0]>>10, after[1]>>10, after[2]>>10)
}
