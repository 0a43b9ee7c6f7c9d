package tui

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// TestFeedConcurrent adds from several goroutines while the TUI side
// reads: every event arrives once, each producer's in order.
func TestFeedConcurrent(t *testing.T) {
	const producers, each = 4, 5000
	f := NewFeed(0)
	var wg sync.WaitGroup
	for p := 1; p <= producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fr := &inspect.Frame{Dir: s2c, Header: inspect.Header{Fin: true, Op: inspect.OpText}}
			e := &inspect.Event{Kind: inspect.KindFrame, Conn: p, Frame: fr}
			for i := range each {
				// Reused between calls, as wire does.
				fr.Seq = uint64(i)
				fr.Payload = append(fr.Payload[:0], "payload"...)
				f.Add(e)
			}
		}()
	}
	go func() { wg.Wait(); f.Close() }()
	next := map[int]uint64{}
	batches := 0
	for b := range f.Events() {
		batches++
		for _, e := range b {
			if e.Frame.Seq != next[e.Conn] {
				t.Fatalf("conn %d: seq %d, want %d", e.Conn, e.Frame.Seq, next[e.Conn])
			}
			next[e.Conn]++
			if string(e.Frame.Payload) != "payload" {
				t.Fatalf("payload %q", e.Frame.Payload)
			}
		}
	}
	for p := 1; p <= producers; p++ {
		if next[p] != each {
			t.Errorf("conn %d: %d events, want %d", p, next[p], each)
		}
	}
	t.Logf("%d events in %d batches", producers*each, batches)
	f.Add(&inspect.Event{Kind: inspect.KindNote}) // after Close: ignored, no panic
}

// TestFeedCopies: what Add keeps shares nothing with the caller's event.
func TestFeedCopies(t *testing.T) {
	f := NewFeed(0)
	s := demo()
	for _, e := range s.events {
		f.Add(e)
	}
	f.Close()
	var got []*inspect.Event
	for b := range f.Events() {
		got = append(got, b...)
	}
	want := make([]string, len(s.events))
	for i, e := range s.events {
		want[i] = string(record.AppendEvent(nil, e))
	}
	// Scribble over every byte the source events hold.
	for _, e := range s.events {
		if e.Frame != nil {
			clear(e.Frame.Payload)
			clear(e.Frame.Raw)
			e.Frame.Violations = e.Frame.Violations[:0]
		}
		if e.Msg != nil {
			clear(e.Msg.Payload)
			clear(e.Msg.Frames)
		}
		if e.Open != nil {
			e.Open.Request.Headers[0].Value = "changed"
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if g := string(record.AppendEvent(nil, e)); g != want[i] {
			t.Errorf("event %d changed with its source:\n got %s\nwant %s", i, g, want[i])
		}
	}
	// A message of one plain frame shares that frame's copy.
	if &got[1].Frame.Payload[0] != &got[2].Msg.Payload[0] {
		t.Error("the message of one frame has its own copy of the payload")
	}
}

// TestFeedSheds: when nobody reads, old frames go, the rest stays, and a
// note says how many went.
func TestFeedSheds(t *testing.T) {
	f := NewFeed(100)
	s := newSession(1).open("ws://x", "", false)
	for range 1000 {
		s.text(s2c, "x")
	}
	s.end(inspect.CloseNormal, "server")
	// Hold the feed's goroutine: take the first batch only after every Add.
	for _, e := range s.events {
		f.Add(e)
	}
	f.Close()
	var got []*inspect.Event
	deadline := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case b, ok := <-f.Events():
			got = append(got, b...)
			done = !ok
		case <-deadline:
			t.Fatal("feed did not close")
		}
	}
	kinds := map[inspect.Kind]int{}
	dropped := 0
	for _, e := range got {
		kinds[e.Kind]++
		if e.Kind == inspect.KindNote {
			n, err := strconv.Atoi(strings.Fields(strings.TrimPrefix(e.Text, "the screen fell behind: "))[0])
			if err != nil {
				t.Fatalf("note %q", e.Text)
			}
			dropped += n
		}
	}
	if kinds[inspect.KindOpen] != 1 || kinds[inspect.KindEnd] != 1 {
		t.Errorf("open and end must survive: %v", kinds)
	}
	if kinds[inspect.KindFrame]+kinds[inspect.KindMsg]+dropped != 2000 {
		t.Errorf("%d frames, %d msgs, %d dropped: want 2000 in all", kinds[inspect.KindFrame], kinds[inspect.KindMsg], dropped)
	}
	if dropped == 0 || len(got) > 2*100+10 {
		t.Errorf("%d events delivered, %d shed: the limit is 100", len(got), dropped)
	}
}
