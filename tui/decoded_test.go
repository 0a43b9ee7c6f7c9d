package tui

import (
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// A message a decoder read shows its summary in the message list (the
// protocol first) and a decoded section in the detail pane; the open
// event's detail names the decoder and why.
func TestDecodedMessage(t *testing.T) {
	s := newSession(1).open("ws://h/socket.io/?EIO=4", "", false).text(inspect.ClientToServer, `4212["chat",{"text":"hi"}]`)
	s.events[0].Open.Decoder, s.events[0].Open.DecoderWhy = "socketio", "URL path /socket.io/ with EIO=4"
	last := s.events[len(s.events)-1]
	last.Msg.Decoded = []inspect.Decoded{{Protocol: "sio", Type: "event", Summary: `sio event "chat" ns=/ ack=12 [{"text":"hi"}]`,
		Fields: []inspect.DecodedField{{Key: "event", Value: "chat"}, {Key: "ack", Value: "12"}}, Corr: "ack c2s / 12", CorrRole: inspect.CorrRequest}}
	m := newModel(t, Options{}, 120, 30, s.events)
	press(m, "m", "end")
	v := m.Screen()
	for _, want := range []string{`sio event "chat" ns=/ ack=12`, `decoded  sio event "chat"`, "request of ack c2s / 12", "event: chat"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q on the screen:\n%s", want, v)
		}
	}
	if got := describeOpen(s.events[0].Open); !strings.Contains(strings.Join(got, "\n"), "decoder  socketio (URL path /socket.io/ with EIO=4)") {
		t.Errorf("open detail: %q", got)
	}
}

// The filter's regexp matches what a decoder read, not only the payload.
func TestFilterMatchesDecoded(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false).text(inspect.ClientToServer, `4212["chat",{}]`).text(inspect.ClientToServer, `other`)
	s.events[len(s.events)-3].Msg.Decoded = []inspect.Decoded{{Protocol: "sio", Summary: `sio event "chat" ns=/ ack=12`}}
	m := newModel(t, Options{}, 120, 30, s.events)
	press(m, "m", "/")
	typeText(m, "ack=12")
	press(m, "enter")
	v := m.Screen()
	if !strings.Contains(v, `sio event "chat"`) || strings.Contains(v, "other") {
		t.Errorf("filter on a decoded summary:\n%s", v)
	}
}
