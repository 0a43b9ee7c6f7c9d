// Package socketio decodes Socket.IO v4 (the Socket.IO protocol, revision
// 5) over Engine.IO v4 (protocol revision 4) on a WebSocket, as the
// specifications in github.com/socketio/socket.io-protocol (v5) and
// github.com/socketio/engine.io-protocol (v4) define them.
//
// Each text message is one Engine.IO packet: a type digit (0 open, 1
// close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop) and its data; a
// binary message is an Engine.IO message whose data is those bytes. An
// Engine.IO message carries a Socket.IO packet: a type digit (0 CONNECT,
// 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6
// BINARY_ACK), for the binary types the number of attachments and "-",
// the namespace and "," when not "/", the ack id, then a JSON payload.
// The attachments of a binary packet arrive as the next binary messages
// of the same direction; each is reported as one of them.
package socketio

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

// Labels of the two layers.
const (
	labelEIO = "eio"
	labelSIO = "sio"
)

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:  "socketio",
	Title: "Socket.IO v4 over Engine.IO v4",
	URL:   matchURL,
	Sniff: sniff,
	New:   func(string) appproto.Decoder { return &Decoder{} },
}

// matchURL: the Engine.IO endpoint is /socket.io/ by default, and the
// client always sends EIO= and transport=.
func matchURL(u *url.URL) string {
	q := u.Query()
	switch {
	case strings.Contains(u.Path, "/socket.io") && q.Has("EIO"):
		return "path " + u.Path + " with EIO=" + q.Get("EIO")
	case q.Get("EIO") != "" && q.Get("transport") == "websocket":
		return "query EIO=" + q.Get("EIO") + "&transport=websocket"
	}
	return ""
}

// sniff: the server's first message is an Engine.IO open packet.
func sniff(m *inspect.Message) string {
	if m.Dir != inspect.ServerToClient || m.Op != inspect.OpText || len(m.Payload) < 2 || m.Payload[0] != '0' {
		return ""
	}
	var o openPacket
	if json.Unmarshal(m.Payload[1:], &o) == nil && o.SID != "" && o.PingInterval > 0 {
		return "an Engine.IO open packet from the server"
	}
	return ""
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// MaxAttachments bounds the attachments a binary packet may announce.
const MaxAttachments = 1000

// Decoder follows the attachments still due in each direction and the
// events waiting for their ack.
type Decoder struct {
	due  [3]attachments // by direction
	acks appproto.Pending
}

type attachments struct {
	left, total int
	of          string // what they belong to: `event "upload"`
	corr        string
	role        inspect.CorrRole
	op          string
}

var eioTypes = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

var sioTypes = [...]string{"connect", "disconnect", "event", "ack", "connect_error", "binary_event", "binary_ack"}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op == inspect.OpBinary {
		return []inspect.Decoded{d.attachment(m)}
	}
	p := m.Payload
	if len(p) == 0 {
		return []inspect.Decoded{appproto.Failed(labelEIO, "empty message: no packet type")}
	}
	t := int(p[0] - '0')
	if t < 0 || t >= len(eioTypes) {
		return []inspect.Decoded{appproto.Failed(labelEIO, "unknown Engine.IO packet type "+strconv.QuoteRune(rune(p[0])))}
	}
	data := p[1:]
	u := inspect.Decoded{Protocol: labelEIO, Type: eioTypes[t]}
	switch t {
	case 0:
		var o openPacket
		if err := json.Unmarshal(data, &o); err != nil {
			u.Err = "open packet data is not the JSON handshake: " + err.Error()
			u.Summary = appproto.Summary(labelEIO, "open", "??")
			return []inspect.Decoded{u}
		}
		u.Fields = []inspect.DecodedField{appproto.Str("sid", o.SID), appproto.JSON("upgrades", mustJSON(o.Upgrades)),
			appproto.Int("pingInterval", o.PingInterval), appproto.Int("pingTimeout", o.PingTimeout), appproto.Int("maxPayload", o.MaxPayload)}
		u.Summary = appproto.Summary(labelEIO, "open", "sid="+o.SID, "ping="+strconv.FormatInt(o.PingInterval, 10)+"ms", "timeout="+strconv.FormatInt(o.PingTimeout, 10)+"ms")
	case 4:
		return []inspect.Decoded{d.socketIO(m.Dir, string(data))}
	default:
		// ping and pong may carry "probe" during an upgrade.
		if len(data) > 0 {
			u.Fields = []inspect.DecodedField{appproto.Str("data", string(data))}
		}
		u.Summary = appproto.Summary(labelEIO, eioTypes[t], appproto.Preview(string(data)))
		if t == 2 || t == 3 {
			u.Corr = "ping " + string(data)
			u.CorrRole = inspect.CorrRequest
			if t == 3 {
				u.CorrRole = inspect.CorrAnswer
			}
		}
	}
	return []inspect.Decoded{u}
}

// socketIO decodes the Socket.IO packet in an Engine.IO message.
func (d *Decoder) socketIO(dir inspect.Direction, s string) inspect.Decoded {
	if s == "" {
		return appproto.Failed(labelSIO, "empty Socket.IO packet")
	}
	t := int(s[0] - '0')
	if t < 0 || t >= len(sioTypes) {
		return appproto.Failed(labelSIO, "unknown Socket.IO packet type "+strconv.QuoteRune(rune(s[0])))
	}
	s = s[1:]
	u := inspect.Decoded{Protocol: labelSIO, Type: sioTypes[t]}
	n := -1
	if t == 5 || t == 6 {
		i := strings.IndexByte(s, '-')
		k, err := strconv.Atoi(s[:max(i, 0)])
		if i < 0 || err != nil || k < 0 || k > MaxAttachments {
			return appproto.Failed(labelSIO, sioTypes[t]+" without a valid attachment count")
		}
		n, s = k, s[i+1:]
	}
	ns := "/"
	if strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			ns, s = s, ""
		} else {
			ns, s = s[:i], s[i+1:]
		}
	}
	ack := ""
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	ack, s = s[:i], s[i:]
	u.Fields = append(u.Fields, appproto.Str("ns", ns))
	if ack != "" {
		u.Fields = append(u.Fields, appproto.Str("ack", ack))
	}
	var payload json.RawMessage
	if s != "" {
		if err := json.Unmarshal([]byte(s), &payload); err != nil {
			u.Err = "payload is not JSON: " + err.Error()
			u.Summary = appproto.Summary(labelSIO, u.Type, "ns="+ns, "??")
			return u
		}
		u.Fields = append(u.Fields, appproto.JSON("data", payload))
	}
	if n >= 0 {
		u.Fields = append(u.Fields, appproto.Int("attachments", int64(n)))
	}
	switch t {
	case 0, 1, 4:
		u.Summary = appproto.Summary(labelSIO, u.Type, "ns="+ns, appproto.PreviewJSON(payload))
		u.Corr = "connect " + ns
		switch {
		case t == 0 && dir == inspect.ClientToServer:
			u.CorrRole = inspect.CorrRequest
		case t == 0 || t == 4:
			u.CorrRole = inspect.CorrAnswer
		default:
			u.Corr = ""
		}
	case 2, 5:
		var args []json.RawMessage
		var name string
		if json.Unmarshal(payload, &args) != nil || len(args) == 0 || json.Unmarshal(args[0], &name) != nil {
			u.Err = "an event's payload is an array starting with its name"
			u.Summary = appproto.Summary(labelSIO, u.Type, "ns="+ns, "??", appproto.PreviewJSON(payload))
			return u
		}
		u.Op = name
		u.Fields = append(u.Fields[:1], append([]inspect.DecodedField{appproto.Str("event", name)}, u.Fields[1:]...)...)
		u.Summary = appproto.Summary(labelSIO, "event", strconv.Quote(name), "ns="+ns, appproto.KV("ack", ack), attachWords(n), appproto.PreviewJSON(joinArgs(args[1:])))
		if ack != "" {
			u.Corr, u.CorrRole = ackKey(dir, ns, ack), inspect.CorrRequest
			d.acks.Put(u.Corr, name)
		}
	case 3, 6:
		if ack == "" {
			u.Err = "an ack without its id"
		} else {
			u.Corr, u.CorrRole = ackKey(appproto.Peer(dir), ns, ack), inspect.CorrAnswer
			u.Op = d.acks.Take(u.Corr)
		}
		u.Summary = appproto.Summary(labelSIO, "ack", "id="+ack, "ns="+ns, appproto.KV("event", quoteIf(u.Op)), attachWords(n), appproto.PreviewJSON(payload))
	}
	if n > 0 {
		of := "ack id=" + ack
		if t == 5 {
			of = "event " + strconv.Quote(u.Op)
		}
		d.due[slot(dir)] = attachments{left: n, total: n, of: of, corr: u.Corr, role: partOf(u.Corr), op: u.Op}
	}
	return u
}

// attachment reports a binary message: the next attachment due, or an
// Engine.IO message of bare binary data.
func (d *Decoder) attachment(m *inspect.Message) inspect.Decoded {
	a := &d.due[slot(m.Dir)]
	if a.left == 0 {
		return inspect.Decoded{Protocol: labelEIO, Type: "message", Summary: appproto.Summary(labelEIO, "message binary", appproto.Size(len(m.Payload))),
			Fields: []inspect.DecodedField{appproto.Int("size", int64(len(m.Payload)))}}
	}
	k := a.total - a.left + 1
	a.left--
	return inspect.Decoded{Protocol: labelSIO, Type: "attachment", Op: a.op, Corr: a.corr, CorrRole: a.role,
		Summary: appproto.Summary(labelSIO, "attachment", strconv.Itoa(k)+"/"+strconv.Itoa(a.total), appproto.Size(len(m.Payload)), "of "+a.of),
		Fields:  []inspect.DecodedField{appproto.Int("num", int64(k-1)), appproto.Int("of", int64(a.total)), appproto.Int("size", int64(len(m.Payload)))}}
}

// ackKey pairs an event with its ack: the ids are the emitter's own, per
// namespace.
func ackKey(emitter inspect.Direction, ns, id string) string {
	return "ack " + emitter.String() + " " + ns + " " + id
}

func attachWords(n int) string {
	if n < 0 {
		return ""
	}
	return "attachments=" + strconv.Itoa(n)
}

func quoteIf(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func joinArgs(args []json.RawMessage) []byte {
	if len(args) == 0 {
		return nil
	}
	b, _ := json.Marshal(args)
	return b
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// slot is where a direction's attachments are kept.
func slot(d inspect.Direction) int {
	if d > inspect.ServerToClient {
		return 0
	}
	return int(d)
}

// partOf is the role of an attachment: part of its packet's pair, if any.
func partOf(corr string) inspect.CorrRole {
	if corr == "" {
		return inspect.CorrNone
	}
	return inspect.CorrPart
}

// Emit returns the Engine.IO message that emits event with args (JSON
// texts) on namespace ns ("" or "/" for the main one), without an ack
// id: 42["event",...] (Socket.IO protocol v5, EVENT).
func Emit(ns, event string, args ...json.RawMessage) ([]byte, error) {
	name, _ := json.Marshal(event)
	b := []byte("42")
	if ns != "" && ns != "/" {
		if !strings.HasPrefix(ns, "/") || strings.ContainsAny(ns, ",") {
			return nil, fmt.Errorf("namespace %q: want /name without a comma", ns)
		}
		b = append(append(b, ns...), ',')
	}
	b = append(append(b, '['), name...)
	for _, a := range args {
		if !json.Valid(a) {
			return nil, fmt.Errorf("argument is not JSON: %.40q", a)
		}
		b = append(append(b, ','), a...)
	}
	return append(b, ']'), nil
}

// ClientReply returns what a Socket.IO client sends back on the
// Engine.IO unit u from the server, and whether it sends anything: the
// main namespace's CONNECT ("40") after the open packet, a pong ("3",
// with the ping's data) after a ping. That is what keeps a session up
// (Engine.IO v4: the server closes one that misses a pong).
func ClientReply(u *inspect.Decoded) ([]byte, bool) {
	if u.Protocol != labelEIO {
		return nil, false
	}
	switch u.Type {
	case "open":
		return []byte("40"), true
	case "ping":
		data, _ := u.Field("data")
		return []byte("3" + data), true
	}
	return nil, false
}
