package appproto

import (
	"net/url"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// Decoder reads the data messages of one connection, both directions, in
// the order they crossed. It keeps what the protocol carries from one
// message to the next (packets spanning messages, binary attachments,
// request ids to pair answers with). Not safe for concurrent use.
type Decoder interface {
	// Decode returns what m holds: none, one or several units.
	Decode(m *inspect.Message) []inspect.Decoded
}

// Bounds on what a decoder keeps between messages.
const (
	// MaxBuffer is the most bytes a stream decoder (MQTT, STOMP, SignalR)
	// holds of a unit still incomplete; past it the buffer is dropped
	// with an error.
	MaxBuffer = 16 << 20
	// MaxPending is the most open requests a decoder remembers to name
	// their answers; past it the oldest are forgotten.
	MaxPending = 4096
)

// Protocol describes one decoder and when it applies.
type Protocol struct {
	// Name is what --decode takes: "socketio", "mqtt".
	Name string
	// Title names the protocol and its versions for help and errors.
	Title string
	// Subprotocols are the Sec-WebSocket-Protocol tokens that select it.
	Subprotocols []string
	// URL returns why the URL selects it ("" when it does not).
	URL func(u *url.URL) string
	// Sniff returns why a data message, among a connection's first,
	// shows this protocol beyond doubt ("" when it does not).
	Sniff func(m *inspect.Message) string
	// New returns a decoder for a connection that negotiated subprotocol.
	New func(subprotocol string) Decoder
}

// Pending remembers open requests by key, to name their answers: the
// method of a JSON-RPC call, the operation of a GraphQL subscription.
// It holds MaxPending keys at most, forgetting the oldest first.
type Pending struct {
	m     map[string]string
	order []string
}

// Put remembers value for key.
func (p *Pending) Put(key, value string) {
	if p.m == nil {
		p.m = map[string]string{}
	}
	if _, ok := p.m[key]; !ok {
		p.order = append(p.order, key)
	}
	p.m[key] = value
	for len(p.m) > MaxPending && len(p.order) > 0 {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
	if len(p.order) > 2*MaxPending { // keys already taken: compact
		keep := p.order[:0]
		for _, k := range p.order {
			if _, ok := p.m[k]; ok {
				keep = append(keep, k)
			}
		}
		p.order = keep
	}
}

// Get returns what key was remembered with.
func (p *Pending) Get(key string) string { return p.m[key] }

// Take returns what key was remembered with and forgets it.
func (p *Pending) Take(key string) string {
	v := p.m[key]
	delete(p.m, key)
	return v
}

// Len returns how many keys are remembered.
func (p *Pending) Len() int { return len(p.m) }

// Partial holds, for each direction, the start of a unit a message ended
// inside (a STOMP frame, a SignalR record) until the next message that way.
type Partial [3][]byte

// Join returns m's direction slot and m's payload behind what was held
// for that direction, which it gives up.
func (p *Partial) Join(m *inspect.Message) (slot int, b []byte) {
	if m.Dir <= inspect.ServerToClient {
		slot = int(m.Dir)
	}
	b = m.Payload
	if len(p[slot]) > 0 {
		b = append(p[slot], m.Payload...)
		p[slot] = nil
	}
	return slot, b
}

// Hold keeps a copy of b for slot: m.Payload is valid only during Decode.
func (p *Partial) Hold(slot int, b []byte) { p[slot] = append([]byte(nil), b...) }

// PathEnds returns a Protocol.URL that names a URL whose path ends in
// last ("/mqtt"), with or without a trailing slash.
func PathEnds(last string) func(u *url.URL) string {
	return func(u *url.URL) string {
		if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), last) {
			return "path " + u.Path
		}
		return ""
	}
}
