package replay

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wscope/wscope/appproto/socketio"
	"github.com/wscope/wscope/inspect"
)

func TestMatchExact(t *testing.T) {
	m, _ := NewMatcher(MatchOptions{})
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"hello", "hello", true},
		{"hello", "hellO", false},
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`, true},
		// Exact by default: key order and whitespace matter.
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, false},
		{`{"a":1}`, `{ "a": 1 }`, false},
		{"", "", true},
	}
	for _, tt := range tests {
		ok, diff := m.Match(inspect.OpText, []byte(tt.want), inspect.OpText, []byte(tt.got))
		if ok != tt.ok {
			t.Errorf("Match(%q, %q) = %v, want %v (diff %q)", tt.want, tt.got, ok, tt.ok, diff)
		}
		if !ok && len(diff) == 0 {
			t.Errorf("Match(%q, %q): no diff", tt.want, tt.got)
		}
	}
	ok, diff := m.Match(inspect.OpText, []byte("a"), inspect.OpBinary, []byte("a"))
	if ok || diff[0] != "opcode: expected text, got binary" {
		t.Errorf("text vs binary: %v %q", ok, diff)
	}
	if ok, _ := m.Match(inspect.OpBinary, []byte{1, 2}, inspect.OpBinary, []byte{1, 2}); !ok {
		t.Error("equal binary messages do not match")
	}
}

func TestMatchJSON(t *testing.T) {
	m, _ := NewMatcher(MatchOptions{JSON: true})
	tests := []struct {
		want, got string
		diff      []string // nil: match
	}{
		{`{"a":1,"b":[1,2]}`, "{ \"b\" : [1, 2],\n \"a\": 1.0 }", nil},
		{`{"n":100}`, `{"n":1e2}`, nil},
		{`{"id":12345678901234567}`, `{"id":12345678901234568}`, []string{"$.id: expected 12345678901234567, got 12345678901234568"}},
		{`{"user":{"name":"ann"}}`, `{"user":{"name":"bob"}}`, []string{`$.user.name: expected "ann", got "bob"`}},
		{`{"items":[1,2,3]}`, `{"items":[1,2]}`, []string{"$.items[2]: missing (expected 3)"}},
		{`{"a":1}`, `{"a":1,"extra":{"x":true}}`, []string{`$.extra: unexpected (got {"x":true})`}},
		{`{"a":"1"}`, `{"a":1}`, []string{`$.a: expected "1", got 1`}},
		{`{"a":null}`, `{}`, []string{"$.a: missing (expected null)"}},
		{`{"odd key":1}`, `{"odd key":2}`, []string{`$["odd key"]: expected 1, got 2`}},
		{`[{"a":1}]`, `{"a":1}`, []string{`$: expected [{"a":1}], got {"a":1}`}},
		// Not JSON on the expected side: exact comparison.
		{`hello`, `hello`, nil},
	}
	for _, tt := range tests {
		ok, diff := m.Match(inspect.OpText, []byte(tt.want), inspect.OpText, []byte(tt.got))
		if ok != (tt.diff == nil) || strings.Join(diff, "\n") != strings.Join(tt.diff, "\n") {
			t.Errorf("Match(%s, %s) = %v\n%s\nwant\n%s", tt.want, tt.got, ok, strings.Join(diff, "\n"), strings.Join(tt.diff, "\n"))
		}
	}
	ok, diff := m.Match(inspect.OpText, []byte(`{"a":1}`), inspect.OpText, []byte(`{"a":1`))
	if ok || diff[0] != "expected JSON, got a message that is not JSON:" {
		t.Errorf("broken JSON: %v %q", ok, diff)
	}
}

func TestMatchIgnore(t *testing.T) {
	m, err := NewMatcher(MatchOptions{Ignore: []string{"$.id", "$..ts", "$.items[*].seq"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		want, got string
		ok        bool
	}{
		{`{"id":1,"v":"x"}`, `{"v":"x","id":2}`, true},
		{`{"id":1,"v":"x"}`, `{"v":"x"}`, true}, // absent on one side
		{`{"id":1,"v":"x"}`, `{"v":"y","id":1}`, false},
		{`{"a":{"ts":1,"b":{"ts":2}}}`, `{"a":{"ts":9,"b":{"ts":8}}}`, true},
		{`{"items":[{"seq":1,"n":"a"},{"seq":2,"n":"b"}]}`, `{"items":[{"seq":7,"n":"a"},{"seq":8,"n":"b"}]}`, true},
		{`{"items":[{"seq":1,"n":"a"}]}`, `{"items":[{"seq":1,"n":"z"}]}`, false},
	}
	for _, tt := range tests {
		ok, diff := m.Match(inspect.OpText, []byte(tt.want), inspect.OpText, []byte(tt.got))
		if ok != tt.ok {
			t.Errorf("Match(%s, %s) = %v, want %v: %q", tt.want, tt.got, ok, tt.ok, diff)
		}
	}
	if _, err := NewMatcher(MatchOptions{Ignore: []string{"id"}}); err == nil || !strings.Contains(err.Error(), "must start with $") {
		t.Errorf("bad path: %v", err)
	}
}

func TestMarkers(t *testing.T) {
	m, _ := NewMatcher(MatchOptions{}) // markers work without JSON: true
	tests := []struct {
		marker string
		yes    []string // received values (JSON) that match
		no     []string
	}{
		{"#ignore", []string{`1`, `"x"`, `null`, `{}`, `[]`, `false`}, nil},
		{"#present", []string{`1`, `null`, `"x"`}, nil},
		{"#string", []string{`""`, `"x"`}, []string{`1`, `null`, `["x"]`}},
		{"#number", []string{`0`, `-1.5e3`, `12345678901234567890`}, []string{`"1"`, `null`, `true`}},
		{"#boolean", []string{`true`, `false`}, []string{`"true"`, `0`, `null`}},
		{"#array", []string{`[]`, `[1,"a"]`}, []string{`{}`, `"[]"`}},
		{"#object", []string{`{}`, `{"a":1}`}, []string{`[]`, `null`}},
		{"#null", []string{`null`}, []string{`0`, `""`, `"null"`}},
		{"#uuid", []string{`"123e4567-e89b-12d3-a456-426614174000"`, `"123E4567-E89B-12D3-A456-426614174000"`},
			[]string{`"123e4567e89b12d3a456426614174000"`, `"123e4567-e89b-12d3-a456-42661417400"`, `"g23e4567-e89b-12d3-a456-426614174000"`, `1`}},
		{`#regex ^tok-\\d+$`, []string{`"tok-12"`}, []string{`"tok-"`, `"xtok-1"`, `1`}},
		{`#regex tok-\\d+`, []string{`"tok-12"`}, []string{`"a tok-12"`}}, // whole-string match
		{`#regex \\d{3}`, []string{`123`}, []string{`1234`, `"12"`}},      // JSON text of a number
		{`#regex \\{\"a\":1\\}`, []string{`{"a":1}`}, []string{`{"a":2}`}},
	}
	for _, tt := range tests {
		want := `{"v":"` + tt.marker + `","k":1}`
		for _, g := range tt.yes {
			got := `{"k":1,"v":` + g + `}`
			if ok, diff := m.Match(inspect.OpText, []byte(want), inspect.OpText, []byte(got)); !ok {
				t.Errorf("%s vs %s: no match: %q", tt.marker, g, diff)
			}
		}
		for _, g := range tt.no {
			got := `{"k":1,"v":` + g + `}`
			ok, diff := m.Match(inspect.OpText, []byte(want), inspect.OpText, []byte(got))
			if ok {
				t.Errorf("%s vs %s: match, want none", tt.marker, g)
				continue
			}
			if len(diff) != 1 || !strings.HasPrefix(diff[0], "$.v: expected #") {
				t.Errorf("%s vs %s: diff %q", tt.marker, g, diff)
			}
		}
		// A marker matches a present member only.
		if ok, _ := m.Match(inspect.OpText, []byte(want), inspect.OpText, []byte(`{"k":1}`)); ok {
			t.Errorf("%s matched a missing member", tt.marker)
		}
		// The rest of the message is still compared.
		if ok, _ := m.Match(inspect.OpText, []byte(want), inspect.OpText, []byte(`{"k":2,"v":null}`)); ok {
			t.Errorf("%s: k=2 matched k=1", tt.marker)
		}
	}
	// Markers in arrays; strings starting with # that are not markers.
	for _, tt := range []struct {
		want, got string
		ok        bool
	}{
		{`["#number","#string"]`, `[1,"a"]`, true},
		{`["#number","#string"]`, `[1,2]`, false},
		{`{"tag":"#general","n":"#number"}`, `{"tag":"#general","n":1}`, true},
		{`{"tag":"#general","n":"#number"}`, `{"tag":"#random","n":1}`, false},
		{`{"id":"#uuid"}`, `{"id":"123e4567-e89b-12d3-a456-426614174000","x":1}`, false},
	} {
		if ok, diff := m.Match(inspect.OpText, []byte(tt.want), inspect.OpText, []byte(tt.got)); ok != tt.ok {
			t.Errorf("Match(%s, %s) = %v, want %v: %q", tt.want, tt.got, ok, tt.ok, diff)
		}
	}
}

func TestWholePayloadMarkers(t *testing.T) {
	m, _ := NewMatcher(MatchOptions{})
	tests := []struct {
		want, got string
		ok        bool
	}{
		{`#regex ^ready after \d+ms$`, "ready after 12ms", true},
		{`#regex ^ready after \d+ms$`, "ready after 12 ms", false},
		{`#regex ready`, "ready!", false},
		{`#regex \{.*\}`, `{"a": 1}`, true}, // the raw text, not re-encoded JSON
		{`#ignore`, "anything at all", true},
		{`#number`, "42", true},
		{`#number`, "forty-two", false},
		{`#string`, "plain text", true},
		{`#uuid`, "123e4567-e89b-12d3-a456-426614174000", true},
		{`#uuid`, "nope", false},
		{`#object`, `{"a":1}`, true},
		{`#hashtag`, `#hashtag`, true}, // not a marker: literal
		{`#hashtag`, `#other`, false},
	}
	for _, tt := range tests {
		ok, diff := m.Match(inspect.OpText, []byte(tt.want), inspect.OpText, []byte(tt.got))
		if ok != tt.ok {
			t.Errorf("Match(%q, %q) = %v, want %v: %q", tt.want, tt.got, ok, tt.ok, diff)
		}
	}
}

func TestCheckMarkers(t *testing.T) {
	for _, tt := range []struct {
		p  string
		ok bool
	}{
		{`{"a":"#regex ^\\d+$"}`, true},
		{`{"a":["#regex (unclosed"]}`, false},
		{`#regex [z-a]`, false},
		{`#regex ok`, true},
		{`not json #regex (`, true},
	} {
		err := checkMarkers(inspect.OpText, []byte(tt.p))
		if (err == nil) != tt.ok {
			t.Errorf("checkMarkers(%s) = %v", tt.p, err)
		}
	}
}

func TestJSONDiffLimits(t *testing.T) {
	m, _ := NewMatcher(MatchOptions{JSON: true})
	var w, g []string
	for i := range 30 {
		w = append(w, fmt.Sprintf(`"k%02d":%d`, i, i))
		g = append(g, fmt.Sprintf(`"k%02d":%d`, i, i+1))
	}
	_, diff := m.Match(inspect.OpText, []byte("{"+strings.Join(w, ",")+"}"), inspect.OpText, []byte("{"+strings.Join(g, ",")+"}"))
	if len(diff) != maxDiffLines+1 || diff[maxDiffLines] != "… and 10 more differences" {
		t.Errorf("diff of %d lines, last %q", len(diff), diff[len(diff)-1])
	}
	long := strings.Repeat("é", 100)
	_, diff = m.Match(inspect.OpText, []byte(`{"s":"`+long+`"}`), inspect.OpText, []byte(`{"s":"x"}`))
	if len(diff) != 1 || !strings.HasPrefix(diff[0], `$.s: expected "éé`) || !strings.Contains(diff[0], `…, got "x"`) || !utf8.ValidString(diff[0]) {
		t.Errorf("long value: %q", diff)
	}
}

// With a decoder, messages compare by what it reads: a Socket.IO ack id
// that changes between runs is ignored, a changed argument is not.
func TestMatchDecodedFields(t *testing.T) {
	m, err := NewMatcher(MatchOptions{IgnoreFields: []string{"ack"}, Decode: func(dir inspect.Direction, op inspect.OpCode, p []byte) []inspect.Decoded {
		return socketio.Protocol.New("").Decode(&inspect.Message{Dir: dir, Op: op, Payload: p})
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		want, got string
		ok        bool
		diff      string
	}{
		{`4212["chat",{"a":1, "b":2}]`, `4213["chat",{"b":2,"a":1}]`, true, ""},
		{`4212["chat",{"a":1}]`, `4213["chat",{"a":2}]`, false, "unit 1.data[1].a: expected 1, got 2"},
		{`4312["ok"]`, `42["ok"]`, false, "unit 1: expected sio ack, got sio event"},
		{`not socket.io`, `not socket.io`, true, ""},
	} {
		ok, diff := m.MatchFrom(inspect.ServerToClient, inspect.OpText, []byte(c.want), inspect.OpText, []byte(c.got))
		if ok != c.ok || (c.diff != "" && strings.Join(diff, "\n") != c.diff) {
			t.Errorf("%s vs %s: %v %q", c.want, c.got, ok, diff)
		}
	}
	if _, err := NewMatcher(MatchOptions{IgnoreFields: []string{"ack"}}); err == nil {
		t.Error("ignored fields without a decoder")
	}
}
