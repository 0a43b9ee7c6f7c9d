package record

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// Create refuses what exists unless forced, and never writes through a
// symbolic link, forced or not.
func TestCreateRefusesAnExistingFileAndNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	create := func(path string, force bool) error {
		w, err := Create(path, inspect.RecordingHeader{}, WriterOptions{Force: force})
		if err == nil {
			err = w.Close()
		}
		return err
	}
	isRecording := func(path string) bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.HasPrefix(string(b), `{"wsrec":1,`)
	}

	old := filepath.Join(dir, "old.jsonl")
	os.WriteFile(old, []byte("keep me\n"), 0o644)
	err := create(old, false)
	var ee *ExistsError
	if !errors.As(err, &ee) || ee.Link || !errors.Is(err, fs.ErrExist) || err.Error() != old+" exists" {
		t.Errorf("existing file: %v", err)
	}
	if b, _ := os.ReadFile(old); string(b) != "keep me\n" {
		t.Errorf("refused file changed: %q", b)
	}
	if err := create(old, true); err != nil || !isRecording(old) {
		t.Errorf("--force: %v", err)
	}

	// A link to a file, and a dangling link: refused, and with force the
	// link is replaced while its target stays as it was.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("target\n"), 0o644)
	for _, to := range []string{target, filepath.Join(dir, "nothing-here")} {
		link := filepath.Join(dir, "link-"+filepath.Base(to))
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
		err := create(link, false)
		if !errors.As(err, &ee) || !ee.Link || err.Error() != link+" is a symbolic link" {
			t.Errorf("link to %s: %v", to, err)
		}
		if err := create(link, true); err != nil {
			t.Fatalf("link to %s, forced: %v", to, err)
		}
		if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() || !isRecording(link) {
			t.Errorf("link to %s, forced: not replaced by a recording (%v)", to, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "target\n" {
		t.Errorf("written through the link: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nothing-here")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dangling link's target was created: %v", err)
	}

	// Never a directory, even forced; no temporary file left behind.
	if err := create(dir, true); err == nil || err.Error() != dir+" is a directory" {
		t.Errorf("directory: %v", err)
	}
	if err := create("/dev/null", true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/null: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
