package record

import (
	"slices"

	"github.com/wscope/wscope/inspect"
)

// CloneEvent returns a deep copy of e that shares no memory with it: what
// to keep of an event returned by Reader.Next past the next call.
func CloneEvent(e *inspect.Event) *inspect.Event {
	if e == nil {
		return nil
	}
	c := *e
	c.Open = e.Open.Clone()
	if f := e.Frame; f != nil {
		fc := *f
		fc.Raw = slices.Clone(f.Raw)
		fc.Payload = slices.Clone(f.Payload)
		if f.Close != nil {
			cl := *f.Close
			fc.Close = &cl
		}
		fc.Violations = slices.Clone(f.Violations)
		c.Frame = &fc
	}
	if m := e.Msg; m != nil {
		mc := *m
		mc.Frames = slices.Clone(m.Frames)
		mc.Payload = slices.Clone(m.Payload)
		mc.Violations = slices.Clone(m.Violations)
		c.Msg = &mc
	}
	if en := e.End; en != nil {
		ec := *en
		c.End = &ec
	}
	return &c
}
