package inspect

import (
	"strconv"
	"strings"
)

// Decoded is one unit of an application protocol that a decoder (the
// packages under appproto) read in a data message: a Socket.IO packet, an
// MQTT control packet, a STOMP frame, a JSON-RPC call. A message may hold
// several (MQTT, STOMP, SignalR, a JSON-RPC batch), or none yet (the first
// part of an MQTT packet that spans messages).
type Decoded struct {
	// Protocol is the decoder's short label: "sio", "eio", "gql", "mqtt",
	// "stomp", "rpc", "signalr", "phx", "cable".
	Protocol string
	// Type is the packet or message type in the protocol's own spelling:
	// "event", "PUBLISH", "next", "SEND".
	Type string
	// Summary is the one line the views show, starting with Protocol.
	Summary string
	// Fields hold what was read, in order, keys unique within one Decoded.
	Fields []DecodedField
	// Op names what stats group by: the event, method, operation, topic or
	// destination; on an answer, the one of its request when known.
	Op string
	// Corr pairs a request with its answers: the same string on both
	// ("" when the unit takes part in no pair), and CorrRole says which
	// side this unit is.
	Corr     string
	CorrRole CorrRole
	// Err says why the bytes are not what the protocol allows; "" when
	// they are. Summary still says what could be read.
	Err string
}

// DecodedField is one key and value of a Decoded. When JSON is set, Value
// is a JSON text and recordings carry it as JSON, not as a string.
type DecodedField struct {
	Key, Value string
	JSON       bool
}

// CorrRole is the part a Decoded plays in a request/answer pair.
type CorrRole uint8

// The parts of a pair: the request opens it, parts come between (a
// GraphQL next, an MQTT PUBREC), the answer closes it.
const (
	CorrNone CorrRole = iota
	CorrRequest
	CorrPart
	CorrAnswer
)

var corrRoleNames = [...]string{"", "request", "part", "answer"}

func (r CorrRole) String() string {
	if int(r) < len(corrRoleNames) {
		return corrRoleNames[r]
	}
	return ""
}

// ParseCorrRole reads a CorrRole's String back; CorrNone when unknown.
func ParseCorrRole(s string) CorrRole {
	for i, n := range corrRoleNames {
		if n == s && s != "" {
			return CorrRole(i)
		}
	}
	return CorrNone
}

// Field returns the value of the field named key, and whether it is there.
func (d *Decoded) Field(key string) (string, bool) {
	for _, f := range d.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// AppendDecodedJSON appends the "decoded" key of a msg event: an array
// of the units read, each {"proto","type","summary","fields":{...}, and
// "op", "corr", "role", "err" when set}. Nothing for none.
func AppendDecodedJSON(b []byte, ds []Decoded) []byte {
	if len(ds) == 0 {
		return b
	}
	b = append(b, `,"decoded":[`...)
	for i := range ds {
		d := &ds[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"proto":`...)
		b = AppendJSONString(b, d.Protocol)
		b = append(b, `,"type":`...)
		b = AppendJSONString(b, d.Type)
		b = append(b, `,"summary":`...)
		b = AppendJSONString(b, d.Summary)
		b = append(b, `,"fields":{`...)
		for j, f := range d.Fields {
			if j > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, f.Key)
			b = append(b, ':')
			if f.JSON && !strings.ContainsAny(f.Value, "\n\r") {
				b = append(b, f.Value...) // the decoders hand compact JSON
			} else {
				b = AppendJSONString(b, f.Value)
			}
		}
		b = append(b, '}')
		for _, kv := range [...][2]string{{"op", d.Op}, {"corr", d.Corr}, {"role", d.CorrRole.String()}, {"err", d.Err}} {
			if kv[1] != "" {
				b = append(b, `,"`...)
				b = append(b, kv[0]...)
				b = append(b, `":`...)
				b = AppendJSONString(b, kv[1])
			}
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// AppendDecoderJSON appends the "decoder" key of an open event,
// {"name","why"}, when a decoder was considered.
func AppendDecoderJSON(b []byte, o *Open) []byte {
	if o.Decoder == "" && o.DecoderWhy == "" {
		return b
	}
	b = append(b, `,"decoder":{"name":`...)
	b = AppendJSONString(b, o.Decoder)
	b = append(b, `,"why":`...)
	b = AppendJSONString(b, o.DecoderWhy)
	return append(b, '}')
}

// AppendDecodedLine appends the line `-o frames` shows for one unit a
// decoder read in message event e:
//
//	0.000512 c2s app    sio event "chat" ns=/ ack=12
func AppendDecodedLine(b []byte, e *Event, d *Decoded, o LineOptions) []byte {
	b = appendTime(b, e.T)
	if o.ShowConn {
		b = append(b, " #"...)
		b = strconv.AppendInt(b, int64(e.Conn), 10)
	}
	b = append(b, ' ')
	b = append(b, e.Msg.Dir.String()...)
	b = append(b, " app    "...)
	return AppendSummary(b, d.Summary)
}

// AppendSummary appends a decoded summary with the control characters a
// peer may have put in it (a topic, a header) shown as spaces: a line
// stays one line and no escape reaches the terminal.
func AppendSummary(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}
