// Command gendocs writes wscope's man pages (section 1, one per command)
// and shell completion scripts, made from the command tree, for the release
// archives and packages:
//
//	go run ./internal/gendocs -out build -version 1.2.0 -gzip
//
// writes build/man/wscope.1.gz, build/man/wscope-connect.1.gz, ... and
// build/completions/{wscope.bash,_wscope,wscope.fish,wscope.ps1}. The
// pages' date is -date (seconds since 1970; the release build passes the
// commit's time), else SOURCE_DATE_EPOCH, else today. Commands added to the
// tree get their page without a change here.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/wscope/wscope/cmd"
)

// options say what to write where.
type options struct {
	Out     string    // holds man/ and completions/, both replaced
	Version string    // in each page's footer; empty for none
	Date    time.Time // in each page's footer
	Gzip    bool      // man pages as NAME.1.gz, as distributions install them
}

// completionFiles are the scripts `wscope completion SHELL` prints, under
// the names each shell looks for (bash-completion looks for the command's
// name; the packages install wscope.bash as .../completions/wscope).
var completionFiles = []struct{ shell, file string }{
	{"bash", "wscope.bash"},
	{"zsh", "_wscope"},
	{"fish", "wscope.fish"},
	{"powershell", "wscope.ps1"},
}

func main() {
	var opts options
	flag.StringVar(&opts.Out, "out", "build", "write man/ and completions/ into `DIR` (both are replaced)")
	flag.StringVar(&opts.Version, "version", "", "wscope `VERSION` for the man pages' footer")
	flag.BoolVar(&opts.Gzip, "gzip", false, "gzip the man pages")
	epoch := flag.String("date", os.Getenv("SOURCE_DATE_EPOCH"), "date the man pages `SECONDS` after 1970 (default $SOURCE_DATE_EPOCH, else now)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gendocs: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	date, err := sourceDate(*epoch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(2)
	}
	opts.Date = date
	if err := generate(opts); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

// sourceDate reads seconds since 1970, as in SOURCE_DATE_EPOCH
// (reproducible-builds.org); empty means now.
func sourceDate(epoch string) (time.Time, error) {
	if epoch == "" {
		return time.Now().UTC(), nil
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: not a number of seconds since 1970", epoch)
	}
	return time.Unix(secs, 0).UTC(), nil
}

// rootCmd is wscope's command tree as the binary builds it, with the
// --version flag that cobra otherwise adds only when it runs.
func rootCmd() *cobra.Command {
	ios := &cmd.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	root := cmd.NewRootCmd(ios)
	root.InitDefaultVersionFlag()
	return root
}

func generate(opts options) error {
	manDir := filepath.Join(opts.Out, "man")
	compDir := filepath.Join(opts.Out, "completions")
	for _, dir := range []string{manDir, compDir} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := writeManPages(rootCmd(), manDir, opts); err != nil {
		return err
	}
	return writeCompletions(compDir)
}

// writeManPages writes one page per available command, named after its
// path (wscope-completion-bash.1).
func writeManPages(root *cobra.Command, dir string, opts options) error {
	source := "wscope"
	if opts.Version != "" {
		source += " " + opts.Version
	}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
			return nil
		}
		// The "HISTORY: auto generated" trailer would carry the
		// generation day; the header's date is enough.
		c.DisableAutoGenTag = true
		date := opts.Date
		header := &doc.GenManHeader{Section: "1", Date: &date, Source: source, Manual: "wscope manual"}
		var page bytes.Buffer
		if err := doc.GenMan(c, header, &page); err != nil {
			return fmt.Errorf("man page of %s: %w", c.CommandPath(), err)
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		if err := writeFile(filepath.Join(dir, name), page.Bytes(), opts.Gzip); err != nil {
			return err
		}
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

// writeCompletions runs `wscope completion SHELL` for each shell, so the
// files are what a user would get from the binary.
func writeCompletions(dir string) error {
	for _, cf := range completionFiles {
		var out, errOut bytes.Buffer
		ios := &cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		if code := cmd.Run(context.Background(), ios, []string{"completion", cf.shell}); code != cmd.ExitOK || out.Len() == 0 {
			return fmt.Errorf("wscope completion %s: exit %d, %d bytes: %s", cf.shell, code, out.Len(), errOut.String())
		}
		if err := writeFile(filepath.Join(dir, cf.file), out.Bytes(), false); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes b to path, or gzipped to path.gz. The gzip header
// carries neither a name nor a time, so the bytes depend on b alone.
func writeFile(path string, b []byte, gz bool) error {
	if gz {
		var z bytes.Buffer
		w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		path, b = path+".gz", z.Bytes()
	}
	return os.WriteFile(path, b, 0o644)
}
