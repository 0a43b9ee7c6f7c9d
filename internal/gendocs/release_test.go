package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wscope/wscope/cmd"
)

// TestReleaseConfig holds .goreleaser.yaml to what this package and cmd
// provide, so that a rename on either side fails here and not in the
// release, which CI does not run (scripts/release-snapshot.sh does).
func TestReleaseConfig(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)

	// The variables the ldflags set exist, with these names.
	_ = []*string{&cmd.Version, &cmd.Commit, &cmd.Date}
	for _, x := range []string{
		"-X github.com/wscope/wscope/cmd.Version={{ .Version }}",
		"-X github.com/wscope/wscope/cmd.Commit={{ .FullCommit }}",
		"-X github.com/wscope/wscope/cmd.Date={{ .CommitDate }}",
	} {
		if !strings.Contains(cfg, x) {
			t.Errorf(".goreleaser.yaml lacks the ldflag %q", x)
		}
	}

	hook := regexp.MustCompile(`(?m)^\s+- go run \./internal/gendocs (.*)$`).FindStringSubmatch(cfg)
	if hook == nil {
		t.Fatal(".goreleaser.yaml has no before hook running ./internal/gendocs")
	}
	for _, arg := range []string{"-out build", "-gzip", "-version {{ .Version }}", "-date {{ .CommitTimestamp }}"} {
		if !strings.Contains(hook[1], arg) {
			t.Errorf("the gendocs hook %q lacks %q", hook[0], arg)
		}
	}

	// Archives and packages take the files where the hook writes them.
	for _, src := range []string{"src: build/man/*.1.gz"} {
		if strings.Count(cfg, src) != 2 {
			t.Errorf(".goreleaser.yaml should have %q twice (archives, packages)", src)
		}
	}
	if !strings.Contains(cfg, "src: build/completions/*") {
		t.Error("the archives do not take build/completions/*")
	}
	for _, cf := range completionFiles {
		if cf.shell != "powershell" && !strings.Contains(cfg, "src: build/completions/"+cf.file+"\n") {
			t.Errorf("the packages do not install build/completions/%s", cf.file)
		}
	}
}
