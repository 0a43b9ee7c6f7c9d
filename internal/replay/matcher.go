package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wscope/wscope/inspect"
)

// MarkerHelp describes the markers an expected message may contain. The
// command help quotes it.
//
// Markers are written in the recording, where the user edits an expected
// message. Inside JSON they are string values:
//
//	{"id": "#uuid", "user": {"name": "#string", "age": "#number"}, "ts": "#ignore"}
//
//	#ignore        any value; the member must be present (use --ignore to
//	               allow it to be missing)
//	#present       the same as #ignore: the member is there, with any value
//	#string        a JSON string
//	#number        a JSON number
//	#boolean       true or false
//	#array         a JSON array
//	#object        a JSON object
//	#null          null
//	#uuid          a string in the RFC 4122 form
//	               xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex, any case)
//	#regex RE      a string that RE (Go syntax) matches as a whole; for any
//	               other value, its compact JSON text must match
//
// An expected message that holds a marker is compared as JSON even without
// --json. A text message that is not JSON may be a marker as a whole:
// "#regex ^ready after \d+ms$" matches the whole received text, and the
// other markers judge the received text parsed as JSON (or taken as a
// string when it is not JSON). A string that starts with # but is none of
// these is compared literally.
const MarkerHelp = `Markers, written in an expected message of the recording:
  #ignore      any value (the member must be present; --ignore allows it
               to be missing)
  #present     the same as #ignore: the member is there, with any value
  #string      a JSON string          #number   a JSON number
  #boolean     true or false          #null     null
  #array       a JSON array           #object   a JSON object
  #uuid        a string in the RFC 4122 form
               xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
  #regex RE    a string RE matches as a whole (Go syntax); other values:
               their compact JSON text
Inside JSON they are string values: {"id": "#uuid", "ts": "#ignore"}; a message
holding one is compared as JSON. A whole text message may be one marker,
e.g. #regex ^ready after \d+ms$.`

// MatchOptions choose how a received message is compared with the
// expected one. The zero value compares exactly: same opcode, same bytes
// (markers excepted, see MarkerHelp).
type MatchOptions struct {
	// JSON compares messages that are both JSON semantically: key order
	// and whitespace do not matter, numbers are compared as numbers.
	JSON bool
	// Ignore lists paths (see Path) removed from both sides before
	// comparing; it implies JSON comparison for JSON messages.
	Ignore []string
	// Decode, when set with IgnoreFields, compares messages by what an
	// application protocol decoder reads in them (each message decoded on
	// its own): the same units, of the same types, with the same fields
	// but those named in IgnoreFields (a Socket.IO "ack", a GraphQL
	// "id"); JSON fields are compared as JSON. A message that does not
	// decode cleanly on both sides is compared as without.
	Decode       func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded
	IgnoreFields []string
}

// Matcher compares messages. It is safe for concurrent use.
type Matcher struct {
	json         bool
	ignore       []*Path
	decode       func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded
	ignoreFields map[string]bool
}

// NewMatcher checks the options and returns the matcher.
func NewMatcher(o MatchOptions) (*Matcher, error) {
	m := &Matcher{json: o.JSON}
	if len(o.IgnoreFields) > 0 {
		if o.Decode == nil {
			return nil, fmt.Errorf("ignoring decoded fields needs a decoder")
		}
		m.decode, m.ignoreFields = o.Decode, map[string]bool{}
		for _, f := range o.IgnoreFields {
			m.ignoreFields[f] = true
		}
	}
	for _, s := range o.Ignore {
		p, err := ParsePath(s)
		if err != nil {
			return nil, err
		}
		m.ignore = append(m.ignore, p)
	}
	return m, nil
}

// maxDiffLines bounds the differences listed for one message.
const maxDiffLines = 20

// Match compares a received message (gotOp, got) with the expected one.
// It reports whether they match and, when they do not, the differences,
// one line each.
func (m *Matcher) Match(wantOp inspect.OpCode, want []byte, gotOp inspect.OpCode, got []byte) (ok bool, diff []string) {
	if wantOp != gotOp {
		return false, []string{fmt.Sprintf("opcode: expected %s, got %s", wantOp, gotOp)}
	}
	if wantOp != inspect.OpText {
		if bytes.Equal(want, got) {
			return true, nil
		}
		return false, binaryDiff(want, got)
	}
	return m.matchText(want, got)
}

// MatchFrom is Match for a message that dir sent: with a decoder, what it
// reads is compared (see MatchOptions.Decode).
func (m *Matcher) MatchFrom(dir inspect.Direction, wantOp inspect.OpCode, want []byte, gotOp inspect.OpCode, got []byte) (bool, []string) {
	if m.decode != nil && wantOp == gotOp && !wantOp.IsControl() {
		if ok, diff, decoded := m.matchDecoded(dir, wantOp, want, got); decoded {
			return ok, diff
		}
	}
	return m.Match(wantOp, want, gotOp, got)
}

// matchDecoded compares the units decoded from want and got; decoded is
// false when either does not decode cleanly.
func (m *Matcher) matchDecoded(dir inspect.Direction, op inspect.OpCode, want, got []byte) (ok bool, diff []string, decoded bool) {
	wu, gu := m.decode(dir, op, want), m.decode(dir, op, got)
	if len(wu) == 0 || len(gu) == 0 || !clean(wu) || !clean(gu) {
		return false, nil, false
	}
	if len(wu) != len(gu) {
		return false, []string{fmt.Sprintf("decoded: expected %d units, got %d", len(wu), len(gu))}, true
	}
	var d jsonDiff
	for i := range wu {
		w, g := &wu[i], &gu[i]
		at := fmt.Sprintf("unit %d", i+1)
		if w.Protocol != g.Protocol || w.Type != g.Type {
			d.lines = append(d.lines, fmt.Sprintf("%s: expected %s %s, got %s %s", at, w.Protocol, w.Type, g.Protocol, g.Type))
			continue
		}
		wv, gv := m.fieldValues(w), m.fieldValues(g)
		d.compare(at, wv, gv)
	}
	return len(d.lines) == 0, d.result(), true
}

func clean(us []inspect.Decoded) bool {
	for i := range us {
		if us[i].Err != "" {
			return false
		}
	}
	return true
}

// fieldValues are a unit's fields but the ignored ones, as a JSON object
// would decode: JSON fields as their values, others as strings.
func (m *Matcher) fieldValues(u *inspect.Decoded) map[string]any {
	out := map[string]any{}
	for _, f := range u.Fields {
		if m.ignoreFields[f.Key] {
			continue
		}
		var v any = f.Value
		if f.JSON {
			if jv, ok := parseJSON([]byte(f.Value)); ok {
				v = jv
			}
		}
		out[f.Key] = v
	}
	return out
}

func (m *Matcher) matchText(want, got []byte) (bool, []string) {
	if mk, ok := wholeMarker(want); ok {
		if mk.kind == "regex" {
			if mk.re.Match(got) {
				return true, nil
			}
			return false, []string{fmt.Sprintf("text: expected %s, got %s", mk.src, quoteShort(string(got)))}
		}
		gv, isJSON := parseJSON(got)
		if !isJSON {
			gv = string(got)
		}
		if mk.check(gv) {
			return true, nil
		}
		return false, []string{fmt.Sprintf("$: expected %s, got %s", mk.src, jsonShort(gv))}
	}
	wv, wantJSON := parseJSON(want)
	if wantJSON && (m.json || len(m.ignore) > 0 || hasMarkers(wv)) {
		gv, gotJSON := parseJSON(got)
		if !gotJSON {
			return false, append([]string{"expected JSON, got a message that is not JSON:"}, textDiff(want, got)...)
		}
		wv, wok := removePaths(wv, m.ignore)
		gv, gok := removePaths(gv, m.ignore)
		if !wok || !gok {
			return true, nil
		}
		var d jsonDiff
		d.compare("$", wv, gv)
		return len(d.lines) == 0, d.result()
	}
	if bytes.Equal(want, got) {
		return true, nil
	}
	return false, textDiff(want, got)
}

// parseJSON decodes b when it holds exactly one JSON value, numbers kept
// as json.Number.
func parseJSON(b []byte) (any, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// marker is a parsed #marker.
type marker struct {
	kind string
	src  string
	re   *regexp.Regexp
}

var markerKinds = []string{"ignore", "present", "string", "number", "boolean", "array", "object", "null", "uuid"}

var regexCache sync.Map // pattern -> regexResult

type regexResult struct {
	re  *regexp.Regexp
	err error
}

func compileWhole(pat string) (*regexp.Regexp, error) {
	if r, ok := regexCache.Load(pat); ok {
		rr := r.(regexResult)
		return rr.re, rr.err
	}
	re, err := regexp.Compile(`^(?:` + pat + `)$`)
	if err != nil {
		// Report the user's pattern, not the anchored one.
		if _, err2 := regexp.Compile(pat); err2 != nil {
			err = err2
		}
	}
	regexCache.Store(pat, regexResult{re, err})
	return re, err
}

// parseMarker reads s as a marker. isMarker is false for strings that are
// not markers (they compare literally); err is set for a #regex whose
// pattern does not compile.
func parseMarker(s string) (mk marker, isMarker bool, err error) {
	if len(s) < 2 || s[0] != '#' {
		return mk, false, nil
	}
	if rest, ok := strings.CutPrefix(s, "#regex"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		pat := strings.TrimLeft(rest, " \t")
		re, err := compileWhole(pat)
		if err != nil {
			return mk, true, fmt.Errorf("%s: %v", s, err)
		}
		return marker{kind: "regex", src: s, re: re}, true, nil
	}
	if k := s[1:]; slices.Contains(markerKinds, k) {
		return marker{kind: k, src: s}, true, nil
	}
	return mk, false, nil
}

// wholeMarker reports whether a text message is, as a whole, a marker.
func wholeMarker(b []byte) (marker, bool) {
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "#") || !utf8.ValidString(s) {
		return marker{}, false
	}
	mk, ok, err := parseMarker(s)
	if !ok || err != nil {
		return marker{}, false
	}
	return mk, true
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// check reports whether the received value v satisfies the marker.
func (mk marker) check(v any) bool {
	switch mk.kind {
	case "ignore", "present":
		return true
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "null":
		return v == nil
	case "uuid":
		s, ok := v.(string)
		return ok && uuidRE.MatchString(s)
	case "regex":
		if s, ok := v.(string); ok {
			return mk.re.MatchString(s)
		}
		return mk.re.MatchString(jsonText(v))
	}
	return false
}

// hasMarkers reports whether a decoded expected message holds a marker.
func hasMarkers(v any) bool {
	switch t := v.(type) {
	case string:
		_, ok, _ := parseMarker(t)
		return ok
	case map[string]any:
		for _, c := range t {
			if hasMarkers(c) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if hasMarkers(c) {
				return true
			}
		}
	}
	return false
}

// checkMarkers returns the first #regex in an expected message whose
// pattern does not compile.
func checkMarkers(op inspect.OpCode, p []byte) error {
	if op != inspect.OpText || !bytes.Contains(p, []byte("#regex")) {
		return nil
	}
	s := strings.TrimSpace(string(p))
	if strings.HasPrefix(s, "#regex") {
		_, _, err := parseMarker(s)
		return err
	}
	v, ok := parseJSON(p)
	if !ok {
		return nil
	}
	var walk func(any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case string:
			_, _, err := parseMarker(t)
			return err
		case map[string]any:
			for _, c := range t {
				if err := walk(c); err != nil {
					return err
				}
			}
		case []any:
			for _, c := range t {
				if err := walk(c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v)
}

// jsonDiff collects the differences between two decoded JSON values.
type jsonDiff struct {
	lines []string
	more  int
}

func (d *jsonDiff) add(format string, a ...any) {
	if len(d.lines) >= maxDiffLines {
		d.more++
		return
	}
	d.lines = append(d.lines, fmt.Sprintf(format, a...))
}

func (d *jsonDiff) result() []string {
	if d.more > 0 {
		return append(d.lines, fmt.Sprintf("… and %d more differences", d.more))
	}
	return d.lines
}

func (d *jsonDiff) compare(path string, want, got any) {
	if s, ok := want.(string); ok {
		if mk, isMarker, _ := parseMarker(s); isMarker && mk.kind != "" {
			if !mk.check(got) {
				d.add("%s: expected %s, got %s", path, mk.src, jsonShort(got))
			}
			return
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		for _, k := range sortedKeys(w) {
			p := memberPath(path, k)
			if gv, ok := g[k]; ok {
				d.compare(p, w[k], gv)
			} else {
				d.add("%s: missing (expected %s)", p, jsonShort(w[k]))
			}
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				d.add("%s: unexpected (got %s)", memberPath(path, k), jsonShort(g[k]))
			}
		}
		return
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := range max(len(w), len(g)) {
			p := indexPath(path, i)
			switch {
			case i >= len(g):
				d.add("%s: missing (expected %s)", p, jsonShort(w[i]))
			case i >= len(w):
				d.add("%s: unexpected (got %s)", p, jsonShort(g[i]))
			default:
				d.compare(p, w[i], g[i])
			}
		}
		return
	case json.Number:
		if g, ok := got.(json.Number); ok && numEqual(w, g) {
			return
		}
	default: // string, bool, nil
		if want == got {
			return
		}
	}
	d.add("%s: expected %s, got %s", path, jsonShort(want), jsonShort(got))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// numEqual compares two JSON numbers exactly: 1, 1.0 and 1e0 are equal,
// and 64-bit ids do not lose digits to float64.
func numEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	if !ok1 || !ok2 {
		return false
	}
	return x.Cmp(y) == 0
}

// jsonText returns v as compact JSON (object keys sorted).
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// maxValueText bounds a value shown in a diff line.
const maxValueText = 80

func jsonShort(v any) string { return truncate(jsonText(v), maxValueText) }

func quoteShort(s string) string {
	return truncate(string(inspect.AppendJSONString(nil, s)), maxValueText)
}

// truncate shortens s to about n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
