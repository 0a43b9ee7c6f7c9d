package inspect

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRedactionHeaders(t *testing.T) {
	in := []HeaderField{
		{"Host", "example.com"},
		{"authorization", "Bearer secret"},
		{"Cookie", "a=1"},
		{"X-Cookie", "not a credential"},
		{"Set-Cookie", "b=2"},
		{"SET-COOKIE", "c=3"},
		{"Proxy-Authorization", "Basic xyz"},
		{"x-api-key", "k1"},
		{"X-Auth-Token", "t1"},
		{"X-Tenant", "acme"},
		{"Sec-WebSocket-Protocol", "v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklp,base64.channel.k8s.io"},
	}
	orig := slices.Clone(in)
	out, changed := NewRedaction([]string{"x-tenant"}).Headers(in)
	want := []HeaderField{
		{"Host", "example.com"},
		{"authorization", Redacted},
		{"Cookie", Redacted},
		{"X-Cookie", "not a credential"},
		{"Set-Cookie", Redacted},
		{"SET-COOKIE", Redacted},
		{"Proxy-Authorization", Redacted},
		{"x-api-key", Redacted},
		{"X-Auth-Token", Redacted},
		{"X-Tenant", Redacted},
		{"Sec-WebSocket-Protocol", "v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.[redacted],base64.channel.k8s.io"},
	}
	if !changed || !reflect.DeepEqual(out, want) {
		t.Errorf("out %v", out)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Errorf("input modified: %v", in)
	}
	clean := []HeaderField{{"Host", "h"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Protocol", "chat"}}
	out, changed = NewRedaction(nil).Headers(clean)
	if changed || &out[0] != &clean[0] {
		t.Errorf("nothing to redact: %v %v", out, changed)
	}
	if out, changed := NewRedaction(nil).Headers(nil); out != nil || changed {
		t.Errorf("nil: %v %v", out, changed)
	}
}

func TestRedactionQuery(t *testing.T) {
	r := NewRedaction([]string{"tenant"})
	for in, want := range map[string]string{
		"ws://h/p":                       "ws://h/p",
		"ws://h/p?v=2":                   "ws://h/p?v=2",
		"ws://h/p?token=abc":             "ws://h/p?token=[redacted]",
		"/p?v=2&Access_Token=abc&x=1":    "/p?v=2&Access_Token=[redacted]&x=1",
		"/p?api%5Fkey=abc&apikey=d+e":    "/p?api%5Fkey=[redacted]&apikey=[redacted]",
		"/p?key=&token&sig=x":            "/p?key=&token&sig=[redacted]",
		"/p?tokens=a&mytoken=b":          "/p?tokens=a&mytoken=b",
		"/p?tenant=acme&&jwt=e.y.j#frag": "/p?tenant=[redacted]&&jwt=[redacted]#frag",
		"/p?X-Amz-Signature=ab&X-Amz-Credential=cd&X-Amz-Date=1": "/p?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]&X-Amz-Date=1",
		"/p?password=a=b":  "/p?password=[redacted]",
		"/p?%zz=1&secret=": "/p?%zz=1&secret=",
	} {
		got, changed := r.Query(in)
		if got != want || changed != (in != want) {
			t.Errorf("Query(%q) = %q %v, want %q", in, got, changed, want)
		}
		// Redacting again changes nothing.
		if again, changed := r.Query(got); again != got || changed {
			t.Errorf("Query(%q) again = %q %v", got, again, changed)
		}
	}
}

func TestRedactionOpen(t *testing.T) {
	bearer := BearerSubprotocol + "c2VjcmV0"
	o := &Open{
		URL:         "wss://k8s:6443/api/v1/exec?command=sh&token=abc",
		Request:     Request{Method: "GET", Target: "/api/v1/exec?command=sh&token=abc", Headers: []HeaderField{{"Sec-WebSocket-Protocol", bearer + ", v4.channel.k8s.io"}}},
		Response:    Response{Status: 101, Headers: []HeaderField{{"Sec-WebSocket-Protocol", bearer}, {"Set-Cookie", "s=1"}}},
		Subprotocol: bearer,
	}
	orig := *o.Clone()
	c := NewRedaction(nil).Open(o)
	if c == o {
		t.Fatal("nothing redacted")
	}
	if !reflect.DeepEqual(*o, orig) {
		t.Errorf("input modified: %+v", o)
	}
	if c.URL != "wss://k8s:6443/api/v1/exec?command=sh&token=[redacted]" || c.Request.Target != "/api/v1/exec?command=sh&token=[redacted]" {
		t.Errorf("url %q target %q", c.URL, c.Request.Target)
	}
	red := BearerSubprotocol + Redacted
	if c.Subprotocol != red || c.Request.Headers[0].Value != red+", v4.channel.k8s.io" || c.Response.Headers[0].Value != red || c.Response.Headers[1].Value != Redacted {
		t.Errorf("redacted %+v", c)
	}
	if again := NewRedaction(nil).Open(c); again != c {
		t.Errorf("redacting again copied: %+v", again)
	}
	plain := &Open{URL: "ws://h/", Request: Request{Target: "/"}, Subprotocol: "chat"}
	if NewRedaction(nil).Open(plain) != plain {
		t.Error("an open event without secrets was copied")
	}
	var none *Redaction
	if none.Open(o) != o || none.Names() != nil {
		t.Error("a nil Redaction redacted")
	}
	e := &Event{Kind: KindOpen, Open: o}
	if got := NewRedaction(nil).Event(e); got == e || got.Open.Subprotocol != red || e.Open != o {
		t.Errorf("event %+v", got)
	}
	f := &Event{Kind: KindFrame, Frame: &Frame{}}
	if NewRedaction(nil).Event(f) != f {
		t.Error("a frame event was copied")
	}
}

func TestRedactionNames(t *testing.T) {
	names := NewRedaction([]string{"X-Tenant", "token"}).Names()
	joined := "," + strings.Join(names, ",") + ","
	for _, want := range []string{",Authorization,", ",X-Api-Key,", ",X-Tenant,", ",?token,", ",?api_key,", ",?X-Tenant,", "," + BearerSubprotocol + "*,"} {
		if !strings.Contains(joined, want) {
			t.Errorf("names %q lack %q", names, want)
		}
	}
	if strings.Count(joined, ",?token,") != 1 {
		t.Errorf("an extra name already in the defaults is listed twice: %q", names)
	}
	if names[0] != "Authorization" || names[3] != "Proxy-Authorization" {
		t.Errorf("the first names are the ones recordings always had: %q", names[:4])
	}
}

// A request target is what a peer sends listen and proxy: whatever it is,
// redaction does not panic, changes only values (the parameters and
// their names stay, in order), takes out every value of a listed
// parameter, and is done after one pass.
func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{"/", "/p?token=a", "/p?a=1&TOKEN=x&b=2#f", "/?%41pi_key=1", "/?=&&=x", "/?key==", "/?sig=%zz"} {
		f.Add(s)
	}
	r := NewRedaction([]string{"extra"})
	f.Fuzz(func(t *testing.T, in string) {
		out, changed := r.Query(in)
		if changed == (out == in) {
			t.Fatalf("Query(%q) = %q, changed %v", in, out, changed)
		}
		if again, ch := r.Query(out); ch || again != out {
			t.Fatalf("Query(%q) again = %q", out, again)
		}
		if strings.Count(out, "&") != strings.Count(in, "&") || !strings.HasPrefix(out, in[:strings.IndexByte(in+"?", '?')]) {
			t.Fatalf("Query(%q) = %q: the parameters changed", in, out)
		}
		q := strings.IndexByte(out, '?')
		if q < 0 {
			return
		}
		query, _, _ := strings.Cut(out[q+1:], "#")
		for _, p := range strings.Split(query, "&") {
			name, value, eq := strings.Cut(p, "=")
			if eq && value != "" && r.param(name) && value != Redacted {
				t.Fatalf("Query(%q) = %q: %s kept its value", in, out, name)
			}
		}
	})
}
