package pcap

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/wscope/wscope/inspect"
	wsrec "github.com/wscope/wscope/internal/record"
)

// record is a copy of an event, kept after Read's emit returns.
type record struct {
	ev   inspect.Event
	json string
}

// collect reads a capture from b and keeps a deep copy of every event.
func collect(t testing.TB, b []byte, opts Options) ([]record, error) {
	t.Helper()
	var out []record
	err := Read(bytes.NewReader(b), opts, func(e *inspect.Event) error {
		out = append(out, record{ev: copyEvent(e), json: string(wsrec.AppendEvent(nil, e))})
		return nil
	})
	return out, withoutNoWebSocket(err)
}

// withoutNoWebSocket is err, but nil for a capture without WebSocket
// traffic: most tests look at the events, not at that verdict.
func withoutNoWebSocket(err error) error {
	var nw *NoWebSocketError
	if errors.As(err, &nw) {
		return nil
	}
	return err
}

func collectFile(t testing.TB, path string) []record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := collect(t, b, Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func copyEvent(e *inspect.Event) inspect.Event {
	c := *e
	if e.Frame != nil {
		f := *e.Frame
		f.Raw = bytes.Clone(f.Raw)
		f.Payload = bytes.Clone(f.Payload)
		f.Violations = append([]inspect.Violation(nil), f.Violations...)
		if f.Close != nil {
			cl := *f.Close
			f.Close = &cl
		}
		c.Frame = &f
	}
	if e.Msg != nil {
		m := *e.Msg
		m.Payload = bytes.Clone(m.Payload)
		m.Frames = append([]uint64(nil), m.Frames...)
		m.Violations = append([]inspect.Violation(nil), m.Violations...)
		c.Msg = &m
	}
	if e.Open != nil {
		o := *e.Open
		c.Open = &o
	}
	if e.End != nil {
		en := *e.End
		c.End = &en
	}
	return c
}
