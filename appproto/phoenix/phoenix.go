// Package phoenix decodes Phoenix Channels over WebSocket as the phoenix
// JS client's serializer (phoenix/assets/js/phoenix/serializer.js) and
// Phoenix.Socket.V2.JSONSerializer write them: v2 text messages are the
// array [join_ref, ref, topic, event, payload]; v2 binary messages are
// pushes (kind 0), replies (kind 1) and broadcasts (kind 2) with a
// binary payload; v1 (vsn=1.0.0) messages are the object {topic, event,
// payload, ref}. A push with a ref is paired with the phx_reply of the
// same ref.
package phoenix

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "phx"

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:  "phoenix",
	Title: "Phoenix Channels (v2 and v1 serializers)",
	URL: func(u *url.URL) string {
		if v := u.Query().Get("vsn"); v != "" && strings.HasSuffix(u.Path, "/websocket") {
			return "path " + u.Path + " with vsn=" + v
		}
		return ""
	},
	Sniff: func(m *inspect.Message) string {
		if m.Dir != inspect.ClientToServer || !appproto.IsJSONText(m, '[') {
			return ""
		}
		var a []json.RawMessage
		var event string
		if json.Unmarshal(m.Payload, &a) == nil && len(a) == 5 && json.Unmarshal(a[3], &event) == nil && (event == "phx_join" || event == "heartbeat") {
			return "a v2 " + event + " from the client"
		}
		return ""
	},
	New: func(string) appproto.Decoder { return &Decoder{} },
}

// Decoder remembers each pending push's event by ref.
type Decoder struct {
	events appproto.Pending
}

type v1 struct {
	Topic   *string         `json:"topic"`
	Event   *string         `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Ref     *string         `json:"ref"`
	JoinRef *string         `json:"join_ref"`
}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op == inspect.OpBinary {
		return []inspect.Decoded{d.binary(m.Payload)}
	}
	var joinRef, ref, topic, event *string
	var payload json.RawMessage
	switch {
	case appproto.IsJSONText(m, '['):
		var a []json.RawMessage
		if err := json.Unmarshal(m.Payload, &a); err != nil || len(a) != 5 {
			return []inspect.Decoded{appproto.Failed(label, "not the v2 array [join_ref, ref, topic, event, payload]")}
		}
		var f [4]*string
		for i := range f {
			if err := json.Unmarshal(a[i], &f[i]); err != nil {
				return []inspect.Decoded{appproto.Failed(label, "element "+strconv.Itoa(i+1)+" of the v2 array is not a string or null")}
			}
		}
		joinRef, ref, topic, event, payload = f[0], f[1], f[2], f[3], a[4]
	case appproto.IsJSONText(m, '{'):
		var o v1
		if err := json.Unmarshal(m.Payload, &o); err != nil {
			return []inspect.Decoded{appproto.Failed(label, "not a v1 message object: "+err.Error())}
		}
		joinRef, ref, topic, event, payload = o.JoinRef, o.Ref, o.Topic, o.Event, o.Payload
	default:
		return []inspect.Decoded{appproto.Failed(label, "not a Phoenix message (a JSON array or object)")}
	}
	if topic == nil || event == nil {
		return []inspect.Decoded{appproto.Failed(label, "no topic or event")}
	}
	return []inspect.Decoded{d.unit(str(joinRef), str(ref), *topic, *event, payload, "")}
}

func (d *Decoder) unit(joinRef, ref, topic, event string, payload json.RawMessage, binary string) inspect.Decoded {
	u := inspect.Decoded{Protocol: label, Type: event, Op: topic + " " + event,
		Fields: []inspect.DecodedField{appproto.Str("join_ref", joinRef), appproto.Str("ref", ref), appproto.Str("topic", topic), appproto.Str("event", event)}}
	if payload != nil {
		u.Fields = append(u.Fields, appproto.JSON("payload", payload))
	}
	words := []string{event, topic, appproto.KV("ref", ref), appproto.KV("join_ref", joinRef)}
	if event == "phx_reply" {
		var r struct {
			Status   string          `json:"status"`
			Response json.RawMessage `json:"response"`
		}
		if json.Unmarshal(payload, &r) == nil && r.Status != "" {
			u.Fields = append(u.Fields, appproto.Str("status", r.Status))
			words = []string{"reply", r.Status, topic, appproto.KV("ref", ref), appproto.PreviewJSON(r.Response)}
		}
		if ref != "" {
			u.Corr, u.CorrRole = "ref "+ref, inspect.CorrAnswer
			u.Op = d.events.Take(u.Corr)
		}
	} else {
		words = append(words, appproto.PreviewJSON(payload))
		if ref != "" {
			u.Corr, u.CorrRole = "ref "+ref, inspect.CorrRequest
			d.events.Put(u.Corr, u.Op)
		}
	}
	if binary != "" {
		words = append(words, binary)
	}
	u.Summary = appproto.Summary(label, words...)
	return u
}

// binary decodes the v2 binary serializer's frames: a kind byte, the
// sizes of the strings that follow, the strings, and the payload.
func (d *Decoder) binary(p []byte) inspect.Decoded {
	if len(p) == 0 {
		return appproto.Failed(label, "empty binary message")
	}
	kind := p[0]
	var nsizes int
	switch kind {
	case 0, 1: // push: join_ref, ref, topic, event; reply: join_ref, ref, topic, status
		nsizes = 4
	case 2: // broadcast: topic, event
		nsizes = 2
	default:
		return appproto.Failed(label, "unknown binary message kind "+strconv.Itoa(int(kind)))
	}
	if len(p) < 1+nsizes {
		return appproto.Failed(label, "binary message shorter than its header")
	}
	rest := p[1+nsizes:]
	s := make([]string, nsizes)
	for i := range s {
		n := int(p[1+i])
		if len(rest) < n {
			return appproto.Failed(label, "binary message shorter than its header says")
		}
		s[i], rest = string(rest[:n]), rest[n:]
	}
	size := "binary " + appproto.Size(len(rest))
	switch kind {
	case 0:
		return d.unit(s[0], s[1], s[2], s[3], nil, size)
	case 1:
		u := d.unit(s[0], s[1], s[2], "phx_reply", nil, size)
		u.Fields = append(u.Fields, appproto.Str("status", s[3]))
		u.Summary = appproto.Summary(label, "reply", s[3], s[2], appproto.KV("ref", s[1]), size)
		return u
	}
	return d.unit("", "", s[0], s[1], nil, size)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
