// Package graphql decodes GraphQL over WebSocket in its two dialects:
// graphql-transport-ws, the protocol of the graphql-ws library
// (github.com/enisdenjo/graphql-ws, PROTOCOL.md), and the legacy
// graphql-ws protocol of subscriptions-transport-ws
// (github.com/apollographql/subscriptions-transport-ws, PROTOCOL.md).
// Every message is a JSON object with a "type"; operations are named by
// the "id" the client chose, and every result is paired with the
// subscribe (start) of its id until complete, error or stop ends it.
//
// The subprotocol names the dialect; when there is none (chosen from the
// URL, the content or --decode), the message types tell them apart.
package graphql

import (
	"encoding/json"
	"strings"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "gql"

// The subprotocols of the two dialects.
const (
	TransportWS = "graphql-transport-ws"
	LegacyWS    = "graphql-ws"
)

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:         "graphql",
	Title:        "GraphQL over WebSocket (graphql-transport-ws, legacy graphql-ws)",
	Subprotocols: []string{TransportWS, LegacyWS},
	URL:          appproto.PathEnds("/graphql"),
	Sniff: func(m *inspect.Message) string {
		if m.Dir != inspect.ClientToServer || !appproto.IsJSONText(m, '{') {
			return ""
		}
		var e envelope
		if json.Unmarshal(m.Payload, &e) == nil && e.Type == "connection_init" {
			return `a "connection_init" message from the client`
		}
		return ""
	},
	New: func(sub string) appproto.Decoder { return &Decoder{dialect: sub} },
}

type envelope struct {
	Type    string          `json:"type"`
	ID      *string         `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

type request struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// Decoder remembers each open operation's name by id.
type Decoder struct {
	dialect string // TransportWS, LegacyWS, or "" until a message says
	ops     appproto.Pending
}

// dialectOf returns the dialect only one of the two has this type in.
func dialectOf(t string) string {
	switch t {
	case "subscribe", "next", "ping", "pong":
		return TransportWS
	case "start", "data", "stop", "ka", "connection_error", "connection_terminate":
		return LegacyWS
	}
	return ""
}

// known lists the types each dialect has.
var known = map[string][]string{
	TransportWS: {"connection_init", "connection_ack", "ping", "pong", "subscribe", "next", "error", "complete"},
	LegacyWS:    {"connection_init", "connection_ack", "connection_error", "connection_terminate", "ka", "start", "data", "error", "complete", "stop"},
}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op != inspect.OpText {
		return []inspect.Decoded{appproto.Failed(label, "binary message: GraphQL over WebSocket sends JSON text")}
	}
	var e envelope
	if err := json.Unmarshal(m.Payload, &e); err != nil {
		return []inspect.Decoded{appproto.Failed(label, "not a JSON object: "+err.Error())}
	}
	if e.Type == "" {
		return []inspect.Decoded{appproto.Failed(label, `no "type"`)}
	}
	if d.dialect == "" {
		d.dialect = dialectOf(e.Type)
	}
	u := inspect.Decoded{Protocol: label, Type: e.Type, Fields: []inspect.DecodedField{appproto.Str("type", e.Type)}}
	if d.dialect != "" && !has(known[d.dialect], e.Type) {
		u.Err = "no message type " + `"` + e.Type + `"` + " in " + d.dialect
	}
	id := ""
	if e.ID != nil {
		id = *e.ID
		u.Fields = append(u.Fields, appproto.Str("id", id))
		u.Corr = "op " + id
	}
	switch e.Type {
	case "subscribe", "start":
		var r request
		if err := json.Unmarshal(e.Payload, &r); (err != nil || r.Query == "") && u.Err == "" {
			u.Err = "payload is not a request with a query"
		}
		u.Op = r.OperationName
		if u.Op == "" {
			u.Op = operationName(r.Query)
		}
		kind := operationKind(r.Query)
		u.Fields = append(u.Fields, appproto.Str("operationName", u.Op), appproto.Str("kind", kind), appproto.Str("query", r.Query))
		if len(r.Variables) > 0 && string(r.Variables) != "null" {
			u.Fields = append(u.Fields, appproto.JSON("variables", r.Variables))
		}
		if len(r.Extensions) > 0 && string(r.Extensions) != "null" {
			u.Fields = append(u.Fields, appproto.JSON("extensions", r.Extensions))
		}
		u.CorrRole = inspect.CorrRequest
		if id != "" {
			d.ops.Put(id, u.Op)
		}
		u.Summary = appproto.Summary(label, e.Type, "id="+id, appproto.KV("op", u.Op), kind, varsWord(r.Variables))
	case "next", "data":
		u.Op = d.ops.Get(id)
		u.CorrRole = inspect.CorrPart
		u.Fields = appendPayload(u.Fields, e.Payload)
		words := []string{e.Type, "id=" + id, appproto.KV("op", u.Op)}
		var res struct {
			Data   json.RawMessage   `json:"data"`
			Errors []json.RawMessage `json:"errors"`
		}
		if json.Unmarshal(e.Payload, &res) == nil {
			if len(res.Errors) > 0 {
				words = append(words, "errors="+itoa(len(res.Errors)))
			}
			words = append(words, appproto.PreviewJSON(res.Data))
		}
		u.Summary = appproto.Summary(label, words...)
	case "error":
		u.Op = d.ops.Take(id)
		u.CorrRole = inspect.CorrAnswer
		u.Fields = appendPayload(u.Fields, e.Payload)
		u.Summary = appproto.Summary(label, "error", "id="+id, appproto.KV("op", u.Op), firstMessage(e.Payload))
	case "complete", "stop":
		u.Op = d.ops.Take(id)
		u.CorrRole = inspect.CorrAnswer
		u.Summary = appproto.Summary(label, e.Type, "id="+id, appproto.KV("op", u.Op))
	default:
		// connection_init/ack/error, ping, pong, ka, terminate
		u.Fields = appendPayload(u.Fields, e.Payload)
		u.Corr = ""
		switch e.Type {
		case "connection_init", "ping":
			u.Corr, u.CorrRole = e.Type, inspect.CorrRequest
		case "connection_ack", "connection_error":
			u.Corr, u.CorrRole = "connection_init", inspect.CorrAnswer
		case "pong":
			u.Corr, u.CorrRole = "ping", inspect.CorrAnswer
		}
		u.Summary = appproto.Summary(label, e.Type, appproto.PreviewJSON(nonNull(e.Payload)))
	}
	if u.Corr != "" && u.CorrRole == inspect.CorrNone {
		u.Corr = ""
	}
	if u.Err != "" {
		u.Summary += " ?? " + u.Err
	}
	return []inspect.Decoded{u}
}

func appendPayload(fs []inspect.DecodedField, p json.RawMessage) []inspect.DecodedField {
	if len(p) == 0 || string(p) == "null" {
		return fs
	}
	return append(fs, appproto.JSON("payload", p))
}

func nonNull(p json.RawMessage) json.RawMessage {
	if string(p) == "null" {
		return nil
	}
	return p
}

// firstMessage returns the first error's message of an error payload: an
// array of GraphQL errors (graphql-transport-ws) or one (legacy).
func firstMessage(p json.RawMessage) string {
	var one struct {
		Message string `json:"message"`
	}
	var list []struct {
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(p, &list) == nil && len(list) > 0:
		one.Message = list[0].Message
	case json.Unmarshal(p, &one) == nil:
	}
	if one.Message == "" {
		return appproto.PreviewJSON(p)
	}
	return `"` + appproto.Preview(one.Message) + `"`
}

// operationKind and operationName read the first operation of a query
// document: "subscription OnMessage($room: ID!) {...}".
func operationKind(q string) string {
	k, _ := firstOperation(q)
	return k
}

func operationName(q string) string {
	_, n := firstOperation(q)
	return n
}

func firstOperation(q string) (kind, name string) {
	q = strings.TrimSpace(skipComments(q))
	if strings.HasPrefix(q, "{") {
		return "query", ""
	}
	for _, k := range []string{"query", "mutation", "subscription"} {
		if rest, ok := strings.CutPrefix(q, k); ok && (rest == "" || !isNameChar(rest[0])) {
			rest = strings.TrimLeft(rest, " \t\r\n,")
			i := 0
			for i < len(rest) && isNameChar(rest[i]) {
				i++
			}
			return k, rest[:i]
		}
	}
	return "", ""
}

func skipComments(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n,")
		if !strings.HasPrefix(q, "#") {
			return q
		}
		i := strings.IndexByte(q, '\n')
		if i < 0 {
			return ""
		}
		q = q[i+1:]
	}
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func varsWord(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" || string(v) == "{}" {
		return ""
	}
	return "vars=" + appproto.PreviewJSON(v)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
