// Package signalr decodes ASP.NET Core SignalR's JSON Hub Protocol over
// WebSocket, as github.com/dotnet/aspnetcore's
// src/SignalR/docs/specs/HubProtocol.md defines it: JSON records each
// ended by the record separator 0x1E, several to a message or one across
// messages; the first record each way is the handshake
// ({"protocol":"json","version":1} and {} or {"error":...}); then
// messages by "type": 1 Invocation, 2 StreamItem, 3 Completion, 4
// StreamInvocation, 5 CancelInvocation, 6 Ping, 7 Close, 8 Ack, 9
// Sequence. Answers are paired with their invocation by invocationId.
// The MessagePack hub protocol (binary) is not decoded.
package signalr

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "signalr"

// RecordSeparator ends every record.
const RecordSeparator = 0x1e

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:  "signalr",
	Title: "SignalR JSON hub protocol",
	URL: func(u *url.URL) string {
		for _, seg := range strings.Split(strings.ToLower(u.Path), "/") {
			if seg == "signalr" || seg == "hubs" {
				return "path " + u.Path
			}
		}
		return ""
	},
	Sniff: func(m *inspect.Message) string {
		p := m.Payload
		if m.Dir != inspect.ClientToServer || m.Op != inspect.OpText || len(p) == 0 || p[len(p)-1] != RecordSeparator {
			return ""
		}
		var h handshake
		if json.Unmarshal(p[:bytes.IndexByte(p, RecordSeparator)], &h) == nil && h.Protocol != "" && h.Version != nil {
			return "a hub protocol handshake from the client"
		}
		return ""
	},
	New: func(string) appproto.Decoder { return &Decoder{} },
}

type handshake struct {
	Protocol string  `json:"protocol"`
	Version  *int    `json:"version"`
	Error    *string `json:"error"`
}

type message struct {
	Type           *int              `json:"type"`
	InvocationID   *string           `json:"invocationId"`
	Target         string            `json:"target"`
	Arguments      []json.RawMessage `json:"arguments"`
	StreamIDs      []string          `json:"streamIds"`
	Item           json.RawMessage   `json:"item"`
	Result         json.RawMessage   `json:"result"`
	Error          *string           `json:"error"`
	AllowReconnect *bool             `json:"allowReconnect"`
	SequenceID     *int64            `json:"sequenceId"`
	Headers        map[string]string `json:"headers"`
}

var typeNames = [...]string{"", "invocation", "stream-item", "completion", "stream-invocation", "cancel-invocation", "ping", "close", "ack", "sequence"}

// Decoder holds each direction's record still incomplete and whether its
// handshake went by.
type Decoder struct {
	buf       appproto.Partial
	handshake [3]bool
	targets   appproto.Pending
}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op != inspect.OpText {
		return []inspect.Decoded{appproto.Failed(label, "binary message: the MessagePack hub protocol is not decoded")}
	}
	slot, b := d.buf.Join(m)
	var out []inspect.Decoded
	for len(b) > 0 {
		i := bytes.IndexByte(b, RecordSeparator)
		if i < 0 {
			if len(b) > appproto.MaxBuffer {
				out = append(out, appproto.Failed(label, "record longer than "+strconv.Itoa(appproto.MaxBuffer)+" bytes without its 0x1E"))
				break
			}
			d.buf.Hold(slot, b)
			if len(out) == 0 {
				out = append(out, inspect.Decoded{Protocol: label, Type: "partial", Summary: label + " (partial record, " + appproto.Size(len(b)) + " so far)"})
			}
			break
		}
		out = append(out, d.record(m.Dir, slot, b[:i]))
		b = b[i+1:]
	}
	return out
}

func (d *Decoder) record(dir inspect.Direction, slot int, rec []byte) inspect.Decoded {
	if !d.handshake[slot] {
		var h handshake
		if json.Unmarshal(rec, &h) == nil && (h.Protocol != "" || h.Error != nil || (bytes.Equal(bytes.TrimSpace(rec), []byte("{}")))) {
			d.handshake[slot] = true
			u := inspect.Decoded{Protocol: label, Type: "handshake", Corr: "handshake"}
			if dir == inspect.ClientToServer {
				u.CorrRole = inspect.CorrRequest
				u.Fields = []inspect.DecodedField{appproto.Str("protocol", h.Protocol), appproto.Int("version", int64(deref(h.Version)))}
				u.Summary = appproto.Summary(label, "handshake", "protocol="+h.Protocol, "version="+strconv.Itoa(deref(h.Version)))
			} else {
				u.CorrRole = inspect.CorrAnswer
				u.Summary = appproto.Summary(label, "handshake", "ok")
				if h.Error != nil {
					u.Fields = []inspect.DecodedField{appproto.Str("error", *h.Error)}
					u.Summary = appproto.Summary(label, "handshake", "error="+strconv.Quote(appproto.Preview(*h.Error)))
				}
			}
			return u
		}
		d.handshake[slot] = true // a capture begun after it
	}
	var msg message
	if err := json.Unmarshal(rec, &msg); err != nil {
		return appproto.Failed(label, "record is not a JSON object: "+err.Error())
	}
	if msg.Type == nil {
		return appproto.Failed(label, `record without "type"`)
	}
	t := *msg.Type
	if t <= 0 || t >= len(typeNames) {
		return appproto.Failed(label, "unknown message type "+strconv.Itoa(t), appproto.Int("type", int64(t)))
	}
	u := inspect.Decoded{Protocol: label, Type: typeNames[t], Fields: []inspect.DecodedField{appproto.Int("type", int64(t))}}
	id := ""
	if msg.InvocationID != nil {
		id = *msg.InvocationID
		u.Fields = append(u.Fields, appproto.Str("invocationId", id))
		u.Corr = "invocation " + appproto.Peer(dir).String() + " " + id
	}
	words := []string{u.Type}
	switch t {
	case 1, 4:
		u.Op = msg.Target
		u.Fields = append(u.Fields, appproto.Str("target", msg.Target), appproto.JSON("arguments", mustJSON(msg.Arguments)))
		if len(msg.StreamIDs) > 0 {
			u.Fields = append(u.Fields, appproto.Str("streamIds", strings.Join(msg.StreamIDs, ",")))
		}
		words = append(words, strconv.Quote(msg.Target), appproto.KV("id", id), appproto.PreviewJSON(mustJSON(msg.Arguments)))
		if id != "" {
			u.Corr, u.CorrRole = "invocation "+dir.String()+" "+id, inspect.CorrRequest
			d.targets.Put(u.Corr, msg.Target)
		}
		if msg.Target == "" {
			u.Err = "invocation without a target"
		}
	case 2:
		u.CorrRole, u.Op = inspect.CorrPart, d.targets.Get(u.Corr)
		u.Fields = append(u.Fields, appproto.JSON("item", orNull(msg.Item)))
		words = append(words, "id="+id, appproto.KV("target", u.Op), appproto.PreviewJSON(msg.Item))
	case 3:
		u.CorrRole, u.Op = inspect.CorrAnswer, d.targets.Take(u.Corr)
		words = append(words, "id="+id, appproto.KV("target", u.Op))
		switch {
		case msg.Error != nil:
			u.Fields = append(u.Fields, appproto.Str("error", *msg.Error))
			words = append(words, "error="+strconv.Quote(appproto.Preview(*msg.Error)))
		case msg.Result != nil:
			u.Fields = append(u.Fields, appproto.JSON("result", msg.Result))
			words = append(words, appproto.PreviewJSON(msg.Result))
		}
	case 5:
		u.CorrRole, u.Op = inspect.CorrAnswer, d.targets.Take(u.Corr)
		u.Corr = "invocation " + dir.String() + " " + id // the canceller invoked it
		words = append(words, "id="+id)
	case 7:
		if msg.Error != nil {
			u.Fields = append(u.Fields, appproto.Str("error", *msg.Error))
			words = append(words, "error="+strconv.Quote(appproto.Preview(*msg.Error)))
		}
		if msg.AllowReconnect != nil {
			u.Fields = append(u.Fields, appproto.Str("allowReconnect", strconv.FormatBool(*msg.AllowReconnect)))
			words = append(words, "allowReconnect="+strconv.FormatBool(*msg.AllowReconnect))
		}
	case 8, 9:
		if msg.SequenceID != nil {
			u.Fields = append(u.Fields, appproto.Int("sequenceId", *msg.SequenceID))
			words = append(words, "seq="+strconv.FormatInt(*msg.SequenceID, 10))
		}
	}
	if u.CorrRole == inspect.CorrNone {
		u.Corr = ""
	}
	u.Summary = appproto.Summary(label, words...)
	if u.Err != "" {
		u.Summary += " ?? " + u.Err
	}
	return u
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func orNull(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("null")
	}
	return raw
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
