package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// What a user feeds replay: --ignore and --capture paths, the markers of
// an expected message, the recording itself. None may panic; each either
// works or says why in one line.

var pathSeeds = []string{
	"$", "$.id", "$.data.items[0].ts", `$["odd key"]`, "$['it''s']", "$.items[*].id", "$.items[-1]", "$..ts",
	"$..[0]", "$..*", "$[*][*]", `$["a\"b"]`, "$.a.", "$[", "$[x]", "$['open", "id", "$..", "$[ 2 ]", "$[99999999999999999999]",
}

var docSeeds = []string{
	`{"id":1,"data":{"items":[{"ts":1},{"ts":2,"x":[1,2,3]}]},"odd key":true}`,
	`[[1,[2,[3]]],{"ts":"#ignore"}]`, `"just a string"`, `12.5e3`, `null`, `{"a":{"a":{"a":{"ts":0}}}}`,
}

func FuzzParsePath(f *testing.F) {
	for i, p := range pathSeeds {
		f.Add(p, []byte(docSeeds[i%len(docSeeds)]))
	}
	f.Fuzz(func(t *testing.T, src string, doc []byte) {
		p, err := ParsePath(src)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		if p.String() != src {
			t.Fatalf("path %q prints as %q", src, p.String())
		}
		v, ok := parseJSON(doc)
		if !ok {
			return
		}
		p.first(v)
		out, _ := removePaths(v, []*Path{p})
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("removing %s left a tree that is not JSON: %v", src, err)
		}
	})
}

func FuzzCapture(f *testing.F) {
	for _, s := range []struct{ capture, received, send string }{
		{"$.token=tok", `{"token":"abc"}`, `{"auth":"{{tok}}"}`},
		{"$.n=n", `{"n":[1,{"x":2}]}`, `{"v":"{{n}}","w":"{{ n }}"}`},
		{"$.q=q", `{"q":"he said \"hi\"\n"}`, `["{{q}}", "\\"{{q}}"]`},
		{"$..id=id", `[{"id":1},{"id":2}]`, `plain {{id}} text`},
		{"$.x=x", `not json`, `{{x}}`},
		{"$.x=bad name", `{}`, ``},
		{"$.a=b=c", `{"a":1}`, `{{b=c}}`},
		{"=", ``, ``},
		{"@data$.x=x", `{"x":"v"}`, `{"a":"{{x}}"}`},
		{"@raw=r", `any text`, `{{r}}`},
	} {
		f.Add(s.capture, []byte(s.received), []byte(s.send))
	}
	f.Fuzz(func(t *testing.T, spec string, received, send []byte) {
		c, err := ParseCapture(spec)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		// A decoder that reads the message as one unit: its text in
		// "raw", and in "data" as JSON when it is.
		decode := func(op inspect.OpCode, p []byte) []inspect.Decoded {
			u := inspect.Decoded{Fields: []inspect.DecodedField{{Key: "raw", Value: string(p)}, {Key: "data", Value: string(p), JSON: json.Valid(p)}}}
			return []inspect.Decoded{u}
		}
		set, err := newCaptureSet([]Capture{c}, decode)
		if err != nil {
			t.Fatalf("%s parsed, but its set: %v", spec, err)
		}
		set.observe(inspect.OpText, received)
		out, err := set.expand(send)
		if err != nil {
			return // used before it was set: the replay stops, naming it
		}
		// A value lands inside a JSON string escaped for it: a JSON
		// document stays one.
		trimmed := bytes.TrimSpace(send)
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(send) && !json.Valid(out) {
			t.Fatalf("%s: %s expanded to %s, not JSON", spec, send, out)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range []struct{ want, got string }{
		{`{"id":"#uuid","n":"#number"}`, `{"id":"123e4567-e89b-12d3-a456-426614174000","n":1}`},
		{`#regex ^ready after \d+ms$`, `ready after 12ms`},
		{`{"ts":"#ignore","a":[1,2]}`, `{"a":[1,2,3]}`},
		{`{"s":"#regex [a-z]+","b":"#boolean","o":"#object","x":"#array","z":"#null","p":"#present"}`, `{"s":"abc","b":true,"o":{},"x":[],"z":null,"p":0}`},
		{`#number`, `42`},
		{`#regex (`, `x`},
		{`{"a":1.0}`, `{"a":1}`},
		{`plain text`, `plain text!`},
		{`{"deep":[[[[[[[[[[1]]]]]]]]]]}`, `{"deep":[[[[[[[[[[2]]]]]]]]]]}`},
	} {
		f.Add([]byte(s.want), []byte(s.got), false, "$.ts")
		f.Add([]byte(s.want), []byte(s.got), true, "")
	}
	f.Fuzz(func(t *testing.T, want, got []byte, asJSON bool, ignore string) {
		opts := MatchOptions{JSON: asJSON}
		if ignore != "" {
			opts.Ignore = []string{ignore}
		}
		m, err := NewMatcher(opts)
		if err != nil {
			return
		}
		ok, diff := m.Match(inspect.OpText, want, inspect.OpText, got)
		if ok != (len(diff) == 0) {
			t.Fatalf("match %v with %d lines of difference", ok, len(diff))
		}
		if len(diff) > maxDiffLines+2 {
			t.Fatalf("%d lines of difference, want at most about %d", len(diff), maxDiffLines)
		}
		for _, l := range diff {
			if strings.Contains(l, "\n") {
				t.Fatalf("a difference on more than one line: %q", l)
			}
		}
		// Without markers, a message matches itself.
		if !bytes.Contains(want, []byte("#")) {
			if ok, diff := m.Match(inspect.OpText, want, inspect.OpText, want); !ok {
				t.Fatalf("%q does not match itself: %q", want, diff)
			}
		}
	})
}

// FuzzScript builds replay scripts from recordings: the testdata ones,
// then whatever the recording reader accepts.
func FuzzScript(f *testing.F) {
	names, _ := filepath.Glob("testdata/*.wsrec.jsonl")
	if len(names) == 0 {
		f.Fatal("no recordings in testdata/")
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
		f.Add(data, uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, conn uint8) {
		r, err := record.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		r.SetMaxLineSize(1 << 16)
		var events []*inspect.Event
		for len(events) < 10000 {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var le *record.LineError
				if !errors.As(err, &le) {
					return
				}
				continue
			}
			events = append(events, record.CloneEvent(e))
		}
		s, err := NewScript(events, int(conn))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		for _, d := range []inspect.Direction{inspect.ClientToServer, inspect.ServerToClient} {
			for _, m := range s.Messages(d) {
				m.describe()
			}
		}
	})
}
