package inspect

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
