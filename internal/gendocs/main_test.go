package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var testDate = time.Date(2026, 11, 22, 10, 20, 30, 0, time.UTC)

// generated runs the generator into a fresh directory.
func generated(t *testing.T, opts options) string {
	t.Helper()
	opts.Out = t.TempDir()
	if err := generate(opts); err != nil {
		t.Fatal(err)
	}
	return opts.Out
}

// commands lists the tree's documented commands, root first, as the pages
// must cover them: whatever the tree holds today.
func commands() []*cobra.Command {
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag() // as the page generator does
		all = append(all, c)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
	}
	walk(rootCmd())
	return all
}

func TestManPages(t *testing.T) {
	t.Parallel()
	dir := generated(t, options{Version: "1.2.0", Date: testDate})
	cmds := commands()

	var want []string
	for _, c := range cmds {
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
	}
	for _, name := range []string{"wscope.1", "wscope-connect.1", "wscope-listen.1", "wscope-inspect.1", "wscope-replay.1", "wscope-version.1", "wscope-completion.1", "wscope-completion-bash.1"} {
		if !slices.Contains(want, name) {
			t.Errorf("the command tree lacks %s", strings.TrimSuffix(name, ".1"))
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "man"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("man/ holds\n%q\nwant one page per command\n%q", got, want)
	}
	if slices.Contains(got, "wscope-help.1") {
		t.Error("help has a page of its own")
	}

	for _, c := range cmds {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "man", name+".1"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			for _, w := range []string{
				`.TH "` + strings.ToUpper(name) + `" "1" "Nov 2026" "wscope 1.2.0" "wscope manual"`,
				".SH NAME\n" + name + " - " + c.Short + "\n",
				".SH SYNOPSIS\n",
				".SH DESCRIPTION\n",
				".SH OPTIONS\n",
			} {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if !strings.Contains(page, `\fB`+c.UseLine()+`\fP`) {
				t.Errorf("synopsis lacks %q", c.UseLine())
			}
			c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
				if !f.Hidden && f.Deprecated == "" && !strings.Contains(page, `\fB--`+f.Name+`\fP`) {
					t.Errorf("OPTIONS lack --%s", f.Name)
				}
			})
			if c.HasParent() && !strings.Contains(page, ".SH SEE ALSO") {
				t.Error("page lacks SEE ALSO")
			}
			if strings.Contains(page, "Auto generated") {
				t.Error("page carries cobra's generation stamp")
			}
		})
	}

	root, err := os.ReadFile(filepath.Join(dir, "man", "wscope.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{`\fB--version\fP`, `\fB--help\fP`} {
		if !bytes.Contains(root, []byte(flag)) {
			t.Errorf("wscope.1 lacks %s", flag)
		}
	}
}

// TestManPagesRender feeds every page to man(1), when installed, and
// checks that it formats without a warning.
func TestManPagesRender(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("no man to render the pages with")
	}
	dir := generated(t, options{Date: testDate})
	pages, _ := filepath.Glob(filepath.Join(dir, "man", "*.1"))
	for _, p := range pages {
		c := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", p)
		c.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
		var stderr bytes.Buffer
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man %s: %v\n%s", filepath.Base(p), err, stderr.String())
		}
		if !bytes.Contains(out, []byte("NAME")) || !bytes.Contains(out, []byte("SYNOPSIS")) {
			t.Errorf("man %s rendered without NAME and SYNOPSIS:\n%s", filepath.Base(p), out)
		}
	}
}

func TestManPagesGzipAndReproducible(t *testing.T) {
	t.Parallel()
	plain := generated(t, options{Version: "1.2.0", Date: testDate})
	zipped := generated(t, options{Version: "1.2.0", Date: testDate, Gzip: true})
	again := generated(t, options{Version: "1.2.0", Date: testDate, Gzip: true})

	pages, _ := filepath.Glob(filepath.Join(plain, "man", "*.1"))
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
	for _, p := range pages {
		name := filepath.Base(p)
		want, _ := os.ReadFile(p)
		gz, err := os.ReadFile(filepath.Join(zipped, "man", name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		gz2, _ := os.ReadFile(filepath.Join(again, "man", name+".gz"))
		if !bytes.Equal(gz, gz2) {
			t.Errorf("%s.gz differs between two runs with the same date", name)
		}
		r, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("%s.gz: %v", name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s.gz does not hold %s (%v)", name, name, err)
		}
		if r.Name != "" || !r.ModTime.IsZero() {
			t.Errorf("%s.gz header has name %q and time %v, want neither", name, r.Name, r.ModTime)
		}
	}
	if plain, _ := filepath.Glob(filepath.Join(zipped, "man", "*.1")); len(plain) > 0 {
		t.Errorf("-gzip left uncompressed pages: %q", plain)
	}
}

func TestCompletions(t *testing.T) {
	t.Parallel()
	dir := generated(t, options{Date: testDate})
	entries, err := os.ReadDir(filepath.Join(dir, "completions"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"_wscope", "wscope.bash", "wscope.fish", "wscope.ps1"}; !slices.Equal(got, want) {
		t.Errorf("completions/ holds %q, want %q", got, want)
	}
	for file, marker := range map[string]string{
		"wscope.bash": "complete -o default -F __start_wscope wscope",
		"_wscope":     "#compdef wscope",
		"wscope.fish": "complete -c wscope ",
		"wscope.ps1":  "Register-ArgumentCompleter -CommandName 'wscope'",
	} {
		b, err := os.ReadFile(filepath.Join(dir, "completions", file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s lacks %q", file, marker)
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command("bash", "-n", filepath.Join(dir, "completions", "wscope.bash")).CombinedOutput(); err != nil {
			t.Errorf("bash -n wscope.bash: %v\n%s", err, out)
		}
	}
}

// TestGenerateReplaces checks that a page of a command that no longer
// exists does not survive a second run into the same directory.
func TestGenerateReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, "man", "wscope-gone.1")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate(options{Out: dir, Date: testDate}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale page survived: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file beside man/ and completions/ was removed: %v", err)
	}
}

func TestSourceDate(t *testing.T) {
	t.Parallel()
	if got, err := sourceDate("1795350030"); err != nil || !got.Equal(time.Unix(1795350030, 0)) || got.Location() != time.UTC {
		t.Errorf("sourceDate(1795350030) = %v, %v", got, err)
	}
	if _, err := sourceDate("yesterday"); err == nil {
		t.Error("sourceDate(yesterday): no error")
	}
	if got, err := sourceDate(""); err != nil || time.Since(got) > time.Minute {
		t.Errorf("sourceDate('') = %v, %v; want now", got, err)
	}
}
