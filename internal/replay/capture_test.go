package replay

import (
	"errors"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

func TestParseCapture(t *testing.T) {
	c, err := ParseCapture("$.token=tok")
	if err != nil || c != (Capture{Path: "$.token", Name: "tok"}) {
		t.Errorf("ParseCapture = %+v, %v", c, err)
	}
	c, err = ParseCapture(`$["a=b"].id = id_1`)
	if err != nil || c.Path != `$["a=b"].id` || c.Name != "id_1" {
		t.Errorf("ParseCapture with = in the path = %+v, %v", c, err)
	}
	for _, s := range []string{"$.token", "token=tok", "$.token=", "$.token=1x", "$.t=a b"} {
		if _, err := ParseCapture(s); err == nil {
			t.Errorf("ParseCapture(%q): no error", s)
		}
	}
	if _, err := newCaptureSet([]Capture{{Path: "$.a", Name: "x"}, {Path: "$.b", Name: "x"}}, nil); err == nil {
		t.Error("a name declared twice: no error")
	}
}

func TestCaptureExpand(t *testing.T) {
	cs, err := newCaptureSet([]Capture{{Path: "$.token", Name: "tok"}, {Path: "$.user", Name: "user"}, {Path: "$.n", Name: "n"}, {Path: "$.q", Name: "q"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.expand([]byte(`{"auth":"{{tok}}"}`)); err == nil || !strings.Contains(err.Error(), "capture tok") || !strings.Contains(err.Error(), "$.token") {
		t.Errorf("unset capture: %v", err)
	}
	cs.observe(inspect.OpText, []byte(`{"token":"abc","user":{"id":7,"name":"ann"},"n":12.50,"q":"say \"hi\"\\"}`))
	cs.observe(inspect.OpText, []byte(`not json`))
	cs.observe(inspect.OpBinary, []byte(`{"token":"binary"}`))
	cs.observe(inspect.OpText, []byte(`{"other":1}`)) // keeps the values
	tests := []struct{ in, out string }{
		{`{"auth":"{{tok}}","n":{{n}}}`, `{"auth":"abc","n":12.50}`},
		{`{"who":{{user}}}`, `{"who":{"id":7,"name":"ann"}}`},
		{`{"who":"{{ user }}"}`, `{"who":"{\"id\":7,\"name\":\"ann\"}"}`}, // escaped inside a JSON string
		{`{"q":"{{q}}"}`, `{"q":"say \"hi\"\\"}`},
		{`say {{q}}`, `say say "hi"\`}, // not JSON: as it is
		{`{"s":"a \" {{tok}}"}`, `{"s":"a \" abc"}`},
		{`{{undeclared}} {{tok}`, `{{undeclared}} {{tok}`},
		{`{{tok}}{{tok}}`, `abcabc`},
	}
	for _, tt := range tests {
		got, err := cs.expand([]byte(tt.in))
		if err != nil || string(got) != tt.out {
			t.Errorf("expand(%s) = %s, %v; want %s", tt.in, got, err, tt.out)
		}
	}
}

func TestParseDecodedCapture(t *testing.T) {
	for s, want := range map[string]Capture{
		"@sid=sid":                {Field: "sid", Name: "sid"},
		" @data$[1].token = tok ": {Field: "data", Path: "$[1].token", Name: "tok"},
		`@data$["a=b"]=x`:         {Field: "data", Path: `$["a=b"]`, Name: "x"},
		"@message-id=mid":         {Field: "message-id", Name: "mid"},
	} {
		c, err := ParseCapture(s)
		if err != nil || c != want {
			t.Errorf("ParseCapture(%q) = %+v, %v; want %+v", s, c, err, want)
			continue
		}
		if back, err := ParseCapture(c.String()); err != nil || back != c {
			t.Errorf("%q: String %q reads back as %+v, %v", s, c.String(), back, err)
		}
	}
	for _, s := range []string{"@=x", "@$.a=x", "@da ta=x", "@data$[=x", "@data$.a=", "@@sid=x"} {
		if c, err := ParseCapture(s); err == nil {
			t.Errorf("ParseCapture(%q) = %+v: no error", s, c)
		}
	}
	if _, err := newCaptureSet([]Capture{{Field: "sid", Name: "sid"}}, nil); err == nil || !strings.Contains(err.Error(), "needs a decoder") {
		t.Errorf("a decoded field without a decoder: %v", err)
	}
}

// fieldsDecoder reads "KEY=VALUE;KEY=VALUE|..." as units of fields (| between
// units), a value starting with [ or { as JSON.
func fieldsDecoder(op inspect.OpCode, p []byte) []inspect.Decoded {
	var us []inspect.Decoded
	for _, unit := range strings.Split(string(p), "|") {
		var u inspect.Decoded
		for _, kv := range strings.Split(unit, ";") {
			k, v, _ := strings.Cut(kv, "=")
			u.Fields = append(u.Fields, inspect.DecodedField{Key: k, Value: v, JSON: strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{")})
		}
		us = append(us, u)
	}
	return us
}

func TestCaptureDecodedFields(t *testing.T) {
	cs, err := newCaptureSet([]Capture{
		{Field: "sid", Name: "sid"},
		{Field: "data", Path: "$[1].token", Name: "tok"},
		{Field: "data", Name: "data"},
		{Field: "data", Path: "$.n", Name: "n"},
		{Path: "$.plain", Name: "plain"},
	}, fieldsDecoder)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.expand([]byte(`{{tok}}`))
	var ue *UnsetCaptureError
	if !errors.As(err, &ue) || ue.Where != `$[1].token in decoded field "data"` || !strings.Contains(err.Error(), `capture tok is used before any received message had a value at $[1].token in decoded field "data"`) {
		t.Errorf("unset: %v", err)
	}
	if _, err = cs.expand([]byte(`{{sid}}`)); err == nil || !strings.Contains(err.Error(), `at decoded field "sid"`) {
		t.Errorf("unset: %v", err)
	}
	// The first unit with the field gives it; a path that is not there
	// looks on in the next units.
	cs.observe(inspect.OpText, []byte(`type=open;sid=S-1|sid=S-2`))
	cs.observe(inspect.OpBinary, []byte(`data={"x":1}|data=["hello",{"token":"T \"1\""}]`))
	cs.observe(inspect.OpText, []byte(`data={"n":12.50}`))
	cs.observe(inspect.OpPing, []byte(`sid=ping`)) // control frames hold none
	cs.observe(inspect.OpText, []byte(`{"plain":"p"}`))
	for in, out := range map[string]string{
		`{{sid}}`:                     `S-1`,
		`{"tok":"{{tok}}"}`:           `{"tok":"T \"1\""}`,
		`{{tok}}`:                     `T "1"`,
		`{{data}}`:                    `{"n":12.50}`, // the latest message's
		`{"n":{{n}},"p":"{{plain}}"}`: `{"n":12.50,"p":"p"}`,
	} {
		got, err := cs.expand([]byte(in))
		if err != nil || string(got) != out {
			t.Errorf("expand(%s) = %s, %v; want %s", in, got, err, out)
		}
	}
	if !cs.holds(cs.defs[1], inspect.OpText, []byte(`data=[0,{"token":"x"}]`)) || cs.holds(cs.defs[1], inspect.OpText, []byte(`data=[0,{}]`)) {
		t.Error("holds")
	}
}
