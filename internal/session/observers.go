package session

import (
	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// observers are what watches a connection's events, in order: the
// output and recording, the TUI's feed, the heartbeat, --echo. Each is
// called for every event; the event is valid only during the call.
type observers []func(*inspect.Event)

func (os observers) event(e *inspect.Event) {
	for _, o := range os {
		o(e)
	}
}

// echo sends every valid data message that arrives from dir straight
// back, with the same opcode, on the connection conn(id) returns. A
// message that breaks a rule (text that is not UTF-8) is not echoed:
// nothing acts on what the tracker refused.
func echo(from inspect.Direction, conn func(id int) *wire.Conn) func(*inspect.Event) {
	return func(e *inspect.Event) {
		if e.Kind != inspect.KindMsg || e.Msg.Dir != from || len(e.Msg.Violations) > 0 {
			return
		}
		if c := conn(e.Conn); c != nil {
			c.WriteMessage(e.Msg.Op, e.Msg.Payload)
		}
	}
}
