package replay

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// Capture takes a value from the messages the peer sends, for the
// messages sent after it: with {Path: "$.token", Name: "tok"}, every
// received text message that is JSON and has a value at $.token stores it
// (the latest wins), and every later message sent has {{tok}} replaced by
// it. Strings are stored without their quotes, other values as their
// compact JSON text. Inside a JSON string of the message sent, the value
// is escaped as a JSON string's content. A {{name}} that no Capture
// declares is sent as it is; a declared one used before any message set
// it stops the replay with an error naming it.
//
// With Field set, the value is a field of what the decoder (Options.Decode)
// reads in a received message instead: the first unit that has the field
// gives it (Socket.IO's "sid", a JSON-RPC "result"), Path, when set, a
// value inside a field that holds JSON (@data$[1].token on a Socket.IO
// event's data). A JSON field's value is stored as a path's is: a string
// without its quotes, anything else as its compact JSON text.
type Capture struct {
	Path  string // "" with Field: the field's whole value
	Name  string
	Field string // a decoded field's key; "" for the message's JSON
}

// String returns the capture as the command line spells it: PATH=NAME,
// or @FIELD=NAME and @FIELDPATH=NAME for a decoded field.
func (c Capture) String() string {
	if c.Field != "" {
		return "@" + c.Field + c.Path + "=" + c.Name
	}
	return c.Path + "=" + c.Name
}

var captureName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// ParseCapture reads a --capture value: PATH=NAME (e.g. $.token=tok) for
// the received message's JSON, @FIELD=NAME (e.g. @sid=sid) for a decoded
// field, @FIELDPATH=NAME (e.g. @data$[1].token=tok) for a value in a
// decoded field that holds JSON.
func ParseCapture(s string) (Capture, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return Capture{}, fmt.Errorf("invalid capture %q: want PATH=NAME or @FIELD=NAME, e.g. '$.token=tok', '@sid=sid'", s)
	}
	c := Capture{Path: strings.TrimSpace(s[:i]), Name: strings.TrimSpace(s[i+1:])}
	if rest, ok := strings.CutPrefix(c.Path, "@"); ok {
		c.Field, c.Path = rest, ""
		if j := strings.IndexByte(rest, '$'); j >= 0 {
			c.Field, c.Path = rest[:j], rest[j:]
		}
		if c.Field == "" {
			return Capture{}, fmt.Errorf("capture %s: no decoded field after @: want @FIELD or @FIELD$PATH, e.g. @sid or @data$[1].token", c.Name)
		}
	}
	if _, err := c.compile(); err != nil {
		return Capture{}, err
	}
	return c, nil
}

// compile checks the capture and returns its path: nil for a decoded
// field's whole value.
func (c Capture) compile() (*Path, error) {
	if !captureName.MatchString(c.Name) {
		return nil, fmt.Errorf("invalid capture name %q: letters, digits, '_', '.' and '-', starting with a letter or '_'", c.Name)
	}
	if c.Field != "" {
		if strings.ContainsAny(c.Field, " \t@$") {
			return nil, fmt.Errorf("capture %s: invalid decoded field %q: want @FIELD or @FIELD$PATH, e.g. @sid or @data$[1].token", c.Name, c.Field)
		}
		if c.Path == "" {
			return nil, nil
		}
	}
	p, err := ParsePath(c.Path)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", c.Name, err)
	}
	return p, nil
}

// captureSet holds the declared captures and their values for one
// connection. It is used by one goroutine.
type captureSet struct {
	defs   []captureDef
	vals   map[string]string
	decode func(op inspect.OpCode, p []byte) []inspect.Decoded // the peer's messages; nil without a decoder
}

type captureDef struct {
	name  string
	field string // "" for the message's JSON
	path  *Path  // nil for a decoded field's whole value
}

// where says where the capture looks, for its errors.
func (d captureDef) where() string {
	switch {
	case d.field == "":
		return d.path.String()
	case d.path == nil:
		return fmt.Sprintf("decoded field %q", d.field)
	default:
		return fmt.Sprintf("%s in decoded field %q", d.path, d.field)
	}
}

// newCaptureSet checks the captures; decode reads the peer's messages
// for those of decoded fields, which need it.
func newCaptureSet(cs []Capture, decode func(op inspect.OpCode, p []byte) []inspect.Decoded) (*captureSet, error) {
	set := &captureSet{vals: map[string]string{}, decode: decode}
	seen := map[string]bool{}
	for _, c := range cs {
		p, err := c.compile()
		if err != nil {
			return nil, err
		}
		if c.Field != "" && decode == nil {
			return nil, fmt.Errorf("capture %s from a decoded field needs a decoder", c.Name)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("capture %s is declared twice", c.Name)
		}
		seen[c.Name] = true
		set.defs = append(set.defs, captureDef{c.Name, c.Field, p})
	}
	return set, nil
}

func (cs *captureSet) declared(name string) (captureDef, bool) {
	for _, d := range cs.defs {
		if d.name == name {
			return d, true
		}
	}
	return captureDef{}, false
}

// UnsetCaptureError is a placeholder used before any received message had
// a value for it.
type UnsetCaptureError struct {
	Name  string
	Where string // the path, or the decoded field (and path in it)
}

func (e *UnsetCaptureError) Error() string {
	return fmt.Sprintf("capture %s is used before any received message had a value at %s", e.Name, e.Where)
}

// capturedMessage is one message of the peer as the captures see it:
// its JSON and its decoded units, each read once, on first need.
type capturedMessage struct {
	cs      *captureSet
	op      inspect.OpCode
	p       []byte
	json    any
	isJSON  bool
	parsed  bool
	units   []inspect.Decoded
	decoded bool
}

// value is the message's value for capture d, as stored.

func (m *capturedMessage) value(d captureDef) (string, bool) {
	if d.field == "" {
		if m.op != inspect.OpText {
			return "", false
		}
		if !m.parsed {
			m.json, m.isJSON = parseJSON(m.p)
			m.parsed = true
		}
		if !m.isJSON {
			return "", false
		}
		got, ok := d.path.first(m.json)
		if !ok {
			return "", false
		}
		return capturedText(got), true
	}
	if !m.decoded {
		m.units, m.decoded = m.cs.decode(m.op, m.p), true
	}
	for i := range m.units {
		for _, f := range m.units[i].Fields {
			if f.Key != d.field {
				continue
			}
			if d.path == nil && !f.JSON {
				return f.Value, true
			}
			v, ok := parseJSON([]byte(f.Value))
			if !ok {
				if d.path == nil {
					return f.Value, true
				}
				continue
			}
			if d.path == nil {
				return capturedText(v), true
			}
			if got, ok := d.path.first(v); ok {
				return capturedText(got), true
			}
		}
	}
	return "", false
}

// capturedText is how a captured JSON value is stored: a string without
// its quotes, anything else as its compact JSON text.
func capturedText(v any) string {
	if s, isStr := v.(string); isStr {
		return s
	}
	return jsonText(v)
}

// holds reports whether the peer's message p has a value for capture d.
func (cs *captureSet) holds(d captureDef, op inspect.OpCode, p []byte) bool {
	m := capturedMessage{cs: cs, op: op, p: p}
	_, ok := m.value(d)
	return ok
}

// observe stores the values a received message holds.
func (cs *captureSet) observe(op inspect.OpCode, p []byte) {
	if len(cs.defs) == 0 || op.IsControl() {
		return
	}
	m := capturedMessage{cs: cs, op: op, p: p}
	for _, d := range cs.defs {
		if v, ok := m.value(d); ok {
			cs.vals[d.name] = v
		}
	}
}

// expand replaces every {{name}} of a declared capture in a message to
// send. A placeholder inside a JSON string gets the value escaped for it.
func (cs *captureSet) expand(p []byte) ([]byte, error) {
	if len(cs.defs) == 0 || !bytes.Contains(p, []byte("{{")) {
		return p, nil
	}
	trimmed := bytes.TrimSpace(p)
	isJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	var out []byte
	inString, escaped := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '{' && i+1 < len(p) && p[i+1] == '{' {
			if end := bytes.Index(p[i+2:], []byte("}}")); end >= 0 {
				name := strings.TrimSpace(string(p[i+2 : i+2+end]))
				if d, ok := cs.declared(name); ok {
					v, set := cs.vals[name]
					if !set {
						return nil, &UnsetCaptureError{Name: name, Where: d.where()}
					}
					if isJSON && inString {
						q := inspect.AppendJSONString(nil, v)
						out = append(out, q[1:len(q)-1]...)
					} else {
						out = append(out, v...)
					}
					i += 2 + end + 1
					continue
				}
			}
		}
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	return out, nil
}
