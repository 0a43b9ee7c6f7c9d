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
type Capture struct {
	Path string
	Name string
}

// String returns the capture as the command line spells it: PATH=NAME.
func (c Capture) String() string { return c.Path + "=" + c.Name }

var captureName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// ParseCapture reads a --capture value, PATH=NAME (e.g. $.token=tok).
func ParseCapture(s string) (Capture, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return Capture{}, fmt.Errorf("invalid capture %q: want PATH=NAME, e.g. '$.token=tok'", s)
	}
	c := Capture{Path: strings.TrimSpace(s[:i]), Name: strings.TrimSpace(s[i+1:])}
	if _, err := c.compile(); err != nil {
		return Capture{}, err
	}
	return c, nil
}

func (c Capture) compile() (*Path, error) {
	if !captureName.MatchString(c.Name) {
		return nil, fmt.Errorf("invalid capture name %q: letters, digits, '_', '.' and '-', starting with a letter or '_'", c.Name)
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
	defs []captureDef
	vals map[string]string
}

type captureDef struct {
	name string
	path *Path
}

func newCaptureSet(cs []Capture) (*captureSet, error) {
	set := &captureSet{vals: map[string]string{}}
	seen := map[string]bool{}
	for _, c := range cs {
		p, err := c.compile()
		if err != nil {
			return nil, err
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("capture %s is declared twice", c.Name)
		}
		seen[c.Name] = true
		set.defs = append(set.defs, captureDef{c.Name, p})
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
	Name string
	Path *Path
}

func (e *UnsetCaptureError) Error() string {
	return fmt.Sprintf("capture %s is used before any received message had a value at %s", e.Name, e.Path)
}

// holds reports whether the text message p has a value for capture d.
func (d captureDef) holds(op inspect.OpCode, p []byte) bool {
	if op != inspect.OpText {
		return false
	}
	v, ok := parseJSON(p)
	if !ok {
		return false
	}
	_, ok = d.path.first(v)
	return ok
}

// observe stores the values a received message holds.
func (cs *captureSet) observe(op inspect.OpCode, p []byte) {
	if len(cs.defs) == 0 || op != inspect.OpText {
		return
	}
	v, ok := parseJSON(p)
	if !ok {
		return
	}
	for _, d := range cs.defs {
		got, ok := d.path.first(v)
		if !ok {
			continue
		}
		if s, isStr := got.(string); isStr {
			cs.vals[d.name] = s
		} else {
			cs.vals[d.name] = jsonText(got)
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
						return nil, &UnsetCaptureError{Name: name, Path: d.path}
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
