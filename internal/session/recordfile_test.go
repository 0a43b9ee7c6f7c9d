package session

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// The TUI's /save writes with the session's redaction (--redact,
// --record-secrets) and never over a file, even with --force.
func TestSaveFuncRedactsAsTheSessionAndNeverOverwrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	events := []*inspect.Event{{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{
		URL:     "ws://h/?token=tok-1",
		Request: inspect.Request{Target: "/?token=tok-1", Headers: []inspect.HeaderField{{Name: "X-Tenant", Value: "tok-2"}, {Name: "Authorization", Value: "tok-3"}}},
	}}}
	o := Options{Redact: []string{"X-Tenant"}, RecordForce: true}
	path := filepath.Join(dir, "s.jsonl")
	if err := saveFunc(o.recordOptions())(path, events); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if _, evs, _ := strings.Cut(string(b), "\n"); strings.Contains(evs, "tok-") || !strings.Contains(string(b), `"?X-Tenant"`) {
		t.Errorf("saved:\n%s", b)
	}
	if err := saveFunc(o.recordOptions())(path, events); !errors.Is(err, fs.ErrExist) {
		t.Errorf("saved over a file: %v", err)
	}
	o.RecordSecrets = true
	kept := filepath.Join(dir, "kept.jsonl")
	if err := saveFunc(o.recordOptions())(kept, events); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kept); strings.Count(string(b), "tok-") != 4 {
		t.Errorf("--record-secrets: saved\n%s", b)
	}
	var ee *record.ExistsError
	if err := saveFunc(o.recordOptions())(kept, events); !errors.As(err, &ee) {
		t.Errorf("err %v", err)
	}
}
