package replay

import (
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

func TestScriptEndings(t *testing.T) {
	// Close frames without an end event (a recording cut short).
	r := newRec("ws://x/", "").c("a")
	r.frame(s2c, inspect.OpClose, true, inspect.AppendClose(nil, 4001, "why"))
	sc := r.script(t)
	if e := sc.End; !e.Known || e.Closer != "server" || e.Code != 4001 || e.Reason != "why" || e.Answered {
		t.Errorf("close frame only: %+v", e)
	}
	// An empty close frame is 1005.
	r = newRec("ws://x/", "")
	r.frame(c2s, inspect.OpClose, true, nil)
	r.frame(s2c, inspect.OpClose, true, nil)
	if e := r.script(t).End; e.Closer != "client" || e.Code != inspect.CloseNoStatus || !e.Answered || e.AnswerCode != inspect.CloseNoStatus {
		t.Errorf("empty close: %+v", e)
	}
	// Nothing at all: not known.
	if e := newRec("ws://x/", "").c("a").script(t).End; e.Known {
		t.Errorf("no end: %+v", e)
	}
	// Dropped: by whom depends on the recorder's role and how TCP ended.
	for _, tt := range []struct {
		role inspect.Role
		tcp  string
		want string
	}{
		{inspect.RoleClient, "fin", "server"}, {inspect.RoleClient, "reset", "server"},
		{inspect.RoleClient, "local", "client"}, {inspect.RoleServer, "fin", "client"},
		{inspect.RoleServer, "timeout", "server"}, {inspect.RoleProxy, "fin", ""}, {inspect.RoleClient, "", ""},
	} {
		r := newRec("ws://x/", "")
		r.evs[0].Open.Role = tt.role
		r.evs = append(r.evs, &inspect.Event{Kind: inspect.KindEnd, Conn: 1, End: &inspect.End{Code: inspect.CloseAbnormal, TCP: tt.tcp}})
		if e := r.script(t).End; !e.Known || e.Closer != "" || e.Dropper != tt.want {
			t.Errorf("%s %q: %+v", tt.role, tt.tcp, e)
		}
	}
}

func TestScriptConnections(t *testing.T) {
	a := newRec("ws://x/a", "").c("one")
	b := newRec("ws://x/b", "").c("two").c("three")
	for _, e := range b.evs {
		e.Conn = 2
	}
	evs := append(append([]*inspect.Event{nil}, b.evs...), a.evs...)
	sc, err := NewScript(evs, 0) // the first connection found
	if err != nil || sc.Conn != 2 || sc.URL != "ws://x/b" || len(sc.Items) != 2 {
		t.Fatalf("conn 0: %+v %v", sc, err)
	}
	sc, err = NewScript(evs, 1)
	if err != nil || sc.URL != "ws://x/a" || len(sc.Items) != 1 || sc.Items[0].Index != 1 {
		t.Fatalf("conn 1: %+v %v", sc, err)
	}
	if _, err := NewScript(nil, 0); err == nil {
		t.Error("no events: no error")
	}
}

func TestScriptBadMarker(t *testing.T) {
	r := newRec("ws://x/", "").c("a").s(`{"id":"#regex ([a-z]"}`).s("#regex *")
	_, err := NewScript(r.evs, 1)
	if err == nil || !strings.Contains(err.Error(), "server message 1 (t=0.001s): #regex ([a-z]: error parsing regexp") ||
		!strings.Contains(err.Error(), "server message 2") {
		t.Errorf("err = %v", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	h := func(kv ...string) []inspect.HeaderField {
		var out []inspect.HeaderField
		for i := 0; i < len(kv); i += 2 {
			out = append(out, inspect.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	got := requestHeaders(
		h("host", "a", "UPGRADE", "websocket", "Origin", "o", "X-A", "1", "X-A", "2", "Cookie", "c=1", "X-Token", "[redacted]", "X-B", "b", "Sec-WebSocket-Protocol", "p"),
		h("x-b", "B", "X-C", "c"))
	want := h("Origin", "o", "X-A", "1", "X-A", "2", "x-b", "B", "X-C", "c")
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("header %d: %v, want %v", i, got[i], want[i])
		}
	}
}
