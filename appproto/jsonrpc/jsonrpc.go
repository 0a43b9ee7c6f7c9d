// Package jsonrpc decodes JSON-RPC 2.0 over WebSocket, one JSON text per
// message, as the JSON-RPC 2.0 Specification (2010-03-26, updated
// 2013-01-04) defines it: requests, notifications (no id), responses
// (result or error), and batches (section 6), each element one unit.
// Either side may call the other; an answer is paired with the request of
// the same id sent the other way.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/inspect"
)

const label = "rpc"

// Protocol describes the decoder.
var Protocol = appproto.Protocol{
	Name:  "jsonrpc",
	Title: "JSON-RPC 2.0",
	Sniff: sniff,
	New:   func(string) appproto.Decoder { return &Decoder{} },
}

func sniff(m *inspect.Message) string {
	if !appproto.IsJSONText(m, '{') && !appproto.IsJSONText(m, '[') {
		return ""
	}
	// A single object or the first of a batch naming the version.
	var one struct {
		JSONRPC string `json:"jsonrpc"`
	}
	p := bytes.TrimSpace(m.Payload)
	if p[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(p, &batch) != nil || len(batch) == 0 {
			return ""
		}
		p = batch[0]
	}
	if json.Unmarshal(p, &one) == nil && one.JSONRPC == "2.0" {
		return `"jsonrpc":"2.0" in a ` + m.Dir.String() + " message"
	}
	return ""
}

// Decoder pairs each answer with the method of its request.
type Decoder struct {
	methods appproto.Pending // dir of the request + " " + id -> method
}

type object struct {
	JSONRPC *string          `json:"jsonrpc"`
	Method  *string          `json:"method"`
	Params  json.RawMessage  `json:"params"`
	ID      json.RawMessage  `json:"id"`
	Result  json.RawMessage  `json:"result"`
	Error   *json.RawMessage `json:"error"`
}

type rpcError struct {
	Code    *int64          `json:"code"`
	Message *string         `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// Decode implements appproto.Decoder.
func (d *Decoder) Decode(m *inspect.Message) []inspect.Decoded {
	if m.Op != inspect.OpText {
		return []inspect.Decoded{appproto.Failed(label, "binary message: JSON-RPC is JSON text")}
	}
	p := bytes.TrimSpace(m.Payload)
	if len(p) > 0 && p[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(p, &batch); err != nil {
			return []inspect.Decoded{appproto.Failed(label, "not JSON: "+err.Error())}
		}
		if len(batch) == 0 {
			return []inspect.Decoded{appproto.Failed(label, "empty batch (section 6)")}
		}
		out := make([]inspect.Decoded, 0, len(batch))
		for i, el := range batch {
			u := d.one(m.Dir, el)
			u.Fields = append(u.Fields, appproto.Str("batch", strconv.Itoa(i+1)+"/"+strconv.Itoa(len(batch))))
			u.Summary += " [batch " + strconv.Itoa(i+1) + "/" + strconv.Itoa(len(batch)) + "]"
			out = append(out, u)
		}
		return out
	}
	return []inspect.Decoded{d.one(m.Dir, p)}
}

func (d *Decoder) one(dir inspect.Direction, p []byte) inspect.Decoded {
	var o object
	if err := json.Unmarshal(p, &o); err != nil {
		return appproto.Failed(label, "not a JSON-RPC object: "+err.Error())
	}
	if o.JSONRPC == nil || *o.JSONRPC != "2.0" {
		return appproto.Failed(label, `no "jsonrpc":"2.0" member (section 4)`)
	}
	id := string(o.ID)
	switch {
	case o.Method != nil:
		u := inspect.Decoded{Protocol: label, Op: *o.Method, Fields: []inspect.DecodedField{appproto.Str("method", *o.Method)}}
		if len(o.Params) > 0 {
			u.Fields = append(u.Fields, appproto.JSON("params", o.Params))
		}
		if o.ID == nil {
			u.Type = "notification"
			u.Summary = appproto.Summary(label, "notify", *o.Method, preview(o.Params))
			return u
		}
		u.Type = "request"
		u.Fields = append(u.Fields, appproto.JSON("id", o.ID))
		u.Corr, u.CorrRole = dir.String()+" "+id, inspect.CorrRequest
		d.methods.Put(u.Corr, *o.Method)
		u.Summary = appproto.Summary(label, "call", *o.Method, "id="+id, preview(o.Params))
		return u
	case o.Error != nil || o.Result != nil:
		u := inspect.Decoded{Protocol: label, Fields: []inspect.DecodedField{appproto.JSON("id", orNull(o.ID))}}
		// id null answers a request whose id could not be read (section
		// 5): it pairs with nothing.
		if id != "" && id != "null" {
			u.Corr = appproto.Peer(dir).String() + " " + id
			u.CorrRole, u.Op = inspect.CorrAnswer, d.methods.Take(u.Corr)
		}
		if o.Error != nil {
			u.Type = "error"
			var e rpcError
			if err := json.Unmarshal(*o.Error, &e); err != nil || e.Code == nil || e.Message == nil {
				u.Err = "error member is not an object with code and message (section 5.1)"
				u.Summary = appproto.Summary(label, "error", "id="+id, "??", preview(*o.Error))
				return u
			}
			u.Fields = append(u.Fields, appproto.Int("code", *e.Code), appproto.Str("message", *e.Message))
			if len(e.Data) > 0 {
				u.Fields = append(u.Fields, appproto.JSON("data", e.Data))
			}
			u.Summary = appproto.Summary(label, "error", "id="+id, strconv.FormatInt(*e.Code, 10), strconv.Quote(appproto.Preview(*e.Message)))
			return u
		}
		u.Type = "result"
		u.Fields = append(u.Fields, appproto.JSON("result", o.Result))
		u.Summary = appproto.Summary(label, "result", "id="+id, appproto.KV("method", u.Op), preview(o.Result))
		return u
	}
	return appproto.Failed(label, "neither a request (method) nor a response (result or error)")
}

func orNull(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("null")
	}
	return raw
}

func preview(raw json.RawMessage) string { return appproto.PreviewJSON(raw) }
