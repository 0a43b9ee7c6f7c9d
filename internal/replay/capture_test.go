package replay

import (
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
	if _, err := newCaptureSet([]Capture{{"$.a", "x"}, {"$.b", "x"}}); err == nil {
		t.Error("a name declared twice: no error")
	}
}

func TestCaptureExpand(t *testing.T) {
	cs, err := newCaptureSet([]Capture{{"$.token", "tok"}, {"$.user", "user"}, {"$.n", "n"}, {"$.q", "q"}})
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
