// Package actioncable decodes Rails Action Cable over WebSocket
// (subprotocol actioncable-v1-json), as Rails' ActionCable::Connection
// and the @rails/actioncable client speak it: the server sends
// {"type":"welcome"}, {"type":"ping","message":T},
// {"type":"confirm_subscription"|"reject_subscription","identifier":I},
// {"type":"disconnect","reason":R,"reconnect":B} and broadcasts
// {"identifier":I,"message":M}; the client sends {"command":"subscribe"|
// "unsubscribe"|"message","identifier":I,"data":D}. The identifier is a
// JSON text naming the channel and its parameters; data is a JSON text
// too, whose "action" names the channel method performed.
package actioncable

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "cable"

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:         "actioncable",
	Title:        "Rails Action Cable (actioncable-v1-json)",
	Subprotocols: []string{"actioncable-v1-json", "actioncable-v1-msgpack", "actioncable-unsupported"},
	URL:          appproto.PathEnds("/cable"),
	Sniff: func(m *inspect.Message) string {
		if m.Dir != inspect.ServerToClient || !appproto.IsJSONText(m, '{') {
			return ""
		}
		var s server
		if json.Unmarshal(m.Payload, &s) == nil && s.Type == "welcome" {
			return `a "welcome" from the server`
		}
		return ""
	},
	New: func(string) appproto.Decoder { return &Decoder{} },
}

type server struct {
	Type       string          `json:"type"`
	Identifier *string         `json:"identifier"`
	Message    json.RawMessage `json:"message"`
	Reason     string          `json:"reason"`
	Reconnect  *bool           `json:"reconnect"`
}

type client struct {
	Command    string  `json:"command"`
	Identifier *string `json:"identifier"`
	Data       *string `json:"data"`
}

// Decoder reads each message on its own.
type Decoder struct{}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if !appproto.IsJSONText(m, '{') {
		return []inspect.Decoded{appproto.Failed(label, "not a JSON object (actioncable-v1-json)")}
	}
	if m.Dir == inspect.ClientToServer {
		return []inspect.Decoded{fromClient(m.Payload)}
	}
	return []inspect.Decoded{fromServer(m.Payload)}
}

func fromClient(p []byte) inspect.Decoded {
	var c client
	if err := json.Unmarshal(p, &c); err != nil || c.Command == "" {
		return appproto.Failed(label, `not a command: no "command"`)
	}
	u := inspect.Decoded{Protocol: label, Type: c.Command, Fields: []inspect.DecodedField{appproto.Str("command", c.Command)}}
	words := []string{c.Command}
	if c.Identifier != nil {
		ch, params := channel(*c.Identifier)
		u.Op = ch
		u.Fields = append(u.Fields, appproto.Str("identifier", *c.Identifier), appproto.Str("channel", ch))
		words = append(words, ch, params)
		if c.Command == "subscribe" || c.Command == "unsubscribe" {
			u.Corr, u.CorrRole = "subscribe "+*c.Identifier, inspect.CorrRequest
		}
	}
	if c.Data != nil {
		u.Fields = append(u.Fields, appproto.Str("data", *c.Data))
		var data map[string]json.RawMessage
		var action string
		if json.Unmarshal([]byte(*c.Data), &data) == nil && json.Unmarshal(data["action"], &action) == nil {
			u.Fields = append(u.Fields, appproto.Str("action", action))
			u.Op += "#" + action
			words = append(words, "action="+action)
			delete(data, "action")
			b, _ := json.Marshal(data)
			words = append(words, appproto.PreviewJSON(b))
		} else {
			words = append(words, appproto.Preview(*c.Data))
		}
	}
	if c.Command == "unsubscribe" {
		u.Corr = ""
		u.CorrRole = inspect.CorrNone
	}
	u.Summary = appproto.Summary(label, words...)
	return u
}

func fromServer(p []byte) inspect.Decoded {
	var s server
	if err := json.Unmarshal(p, &s); err != nil {
		return appproto.Failed(label, "not a JSON object: "+err.Error())
	}
	t := s.Type
	if t == "" {
		t = "message" // a broadcast
	}
	u := inspect.Decoded{Protocol: label, Type: t}
	if s.Type != "" {
		u.Fields = append(u.Fields, appproto.Str("type", s.Type))
	}
	words := []string{t}
	if s.Identifier != nil {
		ch, params := channel(*s.Identifier)
		u.Op = ch
		u.Fields = append(u.Fields, appproto.Str("identifier", *s.Identifier), appproto.Str("channel", ch))
		words = append(words, ch, params)
	}
	switch t {
	case "ping":
		u.Fields = append(u.Fields, appproto.JSON("message", s.Message))
		words = append(words, appproto.PreviewJSON(s.Message))
	case "disconnect":
		u.Fields = append(u.Fields, appproto.Str("reason", s.Reason))
		words = append(words, appproto.KV("reason", s.Reason))
		if s.Reconnect != nil {
			words = append(words, "reconnect="+map[bool]string{true: "true", false: "false"}[*s.Reconnect])
		}
	case "confirm_subscription", "reject_subscription":
		if s.Identifier != nil {
			u.Corr, u.CorrRole = "subscribe "+*s.Identifier, inspect.CorrAnswer
		}
	case "message":
		if s.Message != nil {
			u.Fields = append(u.Fields, appproto.JSON("message", s.Message))
			words = append(words, appproto.PreviewJSON(s.Message))
		}
	case "welcome":
	default:
		u.Err = "unknown type " + `"` + s.Type + `"`
	}
	u.Summary = appproto.Summary(label, words...)
	if u.Err != "" {
		u.Summary += " ?? " + u.Err
	}
	return u
}

// channel reads an identifier: {"channel":"ChatChannel","room":"1"} is
// ChatChannel and "room=1".
func channel(id string) (name, params string) {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(id), &m) != nil {
		return appproto.Preview(id), ""
	}
	json.Unmarshal(m["channel"], &name)
	delete(m, "channel")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ps []string
	for _, k := range keys {
		v := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			v = s
		}
		ps = append(ps, k+"="+appproto.Preview(v))
	}
	return name, strings.Join(ps, " ")
}
