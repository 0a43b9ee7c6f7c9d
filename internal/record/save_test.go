package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// TestWriteFile: /save writes through the Writer, so credentials are
// redacted unless secrets are kept, and it never replaces a file or
// writes through a symlink.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	open := &inspect.Event{Kind: inspect.KindOpen, Conn: 1, Open: &inspect.Open{URL: "ws://h/", Role: inspect.RoleClient,
		Request: inspect.Request{Method: "GET", Headers: []inspect.HeaderField{{Name: "Authorization", Value: "Bearer s3cret"}}}}}
	mark := &inspect.Event{Kind: inspect.KindMark, Conn: 1, Text: "here"}
	for _, secrets := range []bool{false, true} {
		path := filepath.Join(dir, map[bool]string{false: "redacted", true: "secrets"}[secrets])
		if err := WriteFile(path, inspect.RecordingHeader{}, WriterOptions{Secrets: secrets}, []*inspect.Event{open, mark}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(data), "s3cret"); got != secrets {
			t.Errorf("secrets %v: credential in the file %v:\n%s", secrets, got, data)
		}
		if n := strings.Count(string(data), "\n"); n != 3 {
			t.Errorf("secrets %v: %d lines, want header and 2 events", secrets, n)
		}
		if err := WriteFile(path, inspect.RecordingHeader{}, WriterOptions{}, nil); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("saving over %s: %v", path, err)
		}
	}
	if open.Open.Request.Headers[0].Value != "Bearer s3cret" {
		t.Error("WriteFile modified the event")
	}
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := WriteFile(link, inspect.RecordingHeader{}, WriterOptions{}, []*inspect.Event{mark}); err == nil {
		t.Error("saved through a dangling symlink")
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the symlink's target was created")
	}
}
