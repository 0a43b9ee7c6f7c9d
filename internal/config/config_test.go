package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestLoadTarget(t *testing.T) {
	p := write(t, `
[targets.staging]
url = "wss://staging.example.com/ws"
headers = ["Authorization: Bearer ${TOKEN}", "X-Client: wscope"]
subprotocols = ["graphql-transport-ws"]
origin = "https://app.example.com"
ca = "/etc/ca.pem"
proxy = "http://proxy:3128"
compress = true
execute = ['{"type":"connection_init"}']
connect_timeout = "3s"

[targets.local]
url = "ws://127.0.0.1:8080/"
`)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"local", "staging"}) {
		t.Errorf("names %v", got)
	}
	tg, err := f.Target("staging", env(map[string]string{"TOKEN": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Target{URL: "wss://staging.example.com/ws", Headers: []string{"Authorization: Bearer s3cret", "X-Client: wscope"},
		Subprotocols: []string{"graphql-transport-ws"}, Origin: "https://app.example.com", CA: "/etc/ca.pem",
		Proxy: "http://proxy:3128", Compress: true, Execute: []string{`{"type":"connection_init"}`}, ConnectTimeout: Duration{3 * time.Second}}
	if !reflect.DeepEqual(tg, want) {
		t.Errorf("target\n got %+v\nwant %+v", tg, want)
	}
	if raw := f.Targets["staging"].Headers[0]; raw != "Authorization: Bearer ${TOKEN}" {
		t.Errorf("the file's own value was changed: %q", raw)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"[targets.a]\nurl = \"ws://h/\"\nheader = [\"X: 1\"]\n", "unknown keys targets.a.header"},
		{"[targets.a]\nheaders = [\"X: 1\"]\n", "target a has no url"},
		{"[targets.\"a b\"]\nurl = \"ws://h/\"\n", `target name "a b"`},
		{"[targets.a]\nurl = \"ws://h/\"\nconnect_timeout = \"soon\"\n", `invalid duration "soon"`},
		{"[targets.a\n", "config.toml"},
	} {
		if _, err := Load(write(t, c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml")); !errors.Is(err, ErrNoFile) {
		t.Errorf("missing file: %v", err)
	}
	f, err := Load(write(t, "[targets.a]\nurl = \"ws://h/${PORT}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Target("a", env(nil)); err == nil || !strings.Contains(err.Error(), "${PORT}") {
		t.Errorf("unset variable: %v", err)
	}
	if _, err := f.Target("b", env(nil)); err == nil || !strings.Contains(err.Error(), `no target "b" (it has: a)`) {
		t.Errorf("unknown target: %v", err)
	}
}
