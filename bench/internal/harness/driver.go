package harness

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Driver is a benchmark driver's name as it signs what it prints on
// stderr: "bench/proxy: echo server at ...".
type Driver string

// Logf prints a line on stderr.
func (d Driver) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, string(d)+": "+format+"\n", args...)
}

// Fatalf prints a line on stderr and exits with status 1.
func (d Driver) Fatalf(format string, args ...any) {
	d.Logf(format, args...)
	os.Exit(1)
}

// Run finds the repository (FindRoot) and runs body with its root and a
// context that Ctrl-C and SIGTERM cancel. If they did, it says
// "interrupted" and exits with status 130; if body failed, it exits with
// its error and status 1.
func (d Driver) Run(body func(ctx context.Context, root string) error) {
	root, err := FindRoot()
	if err != nil {
		d.Fatalf("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = body(ctx, root)
	interrupted := ctx.Err() != nil // before stop(), which cancels ctx too
	stop()
	if interrupted {
		d.Logf("interrupted")
		os.Exit(130)
	}
	if err != nil {
		d.Fatalf("%v", err)
	}
}

// QuickDefaults gives the flags named in defaults the values --quick
// stands for, unless the command line set them. Call it after flag.Parse.
func QuickDefaults(defaults map[string]string) {
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range defaults {
		if !given[name] {
			if err := flag.Set(name, v); err != nil {
				panic(fmt.Sprintf("harness.QuickDefaults: -%s %s: %v", name, v, err))
			}
		}
	}
}

// Docs is the section of a documentation file that a driver rewrites with
// its results: the text between two marker lines.
type Docs struct {
	Path       string // absolute (see Abs)
	Begin, End string // the markers
	Heading    string // written before the markers in a file without them
}

// Abs makes a path relative to the repository root absolute.
func Abs(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// Publish prints md on stdout and writes it to bench/results/NAME.md under
// the repository at root, with v as indented JSON in NAME.json beside it
// (a failure there is only logged). With update it then rewrites the
// section of docs with md; without, it says why not.
func (d Driver) Publish(root, name, md string, v any, docs Docs, update, quick bool) error {
	fmt.Print(md)
	if err := writeResults(filepath.Join(root, "bench", "results"), name, md, v); err != nil {
		d.Logf("writing bench/results: %v", err)
	}
	switch {
	case update:
		if err := UpdateDocs(docs.Path, md, docs.Begin, docs.End, docs.Heading); err != nil {
			return fmt.Errorf("updating %s: %w", docs.Path, err)
		}
		d.Logf("results written to %s", docs.Path)
	case quick:
		d.Logf("%s not rewritten (quick run; pass -update-docs to force)", docs.Path)
	default:
		d.Logf("%s not rewritten (-update-docs=false)", docs.Path)
	}
	return nil
}

func writeResults(dir, name, md string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(md), 0o644); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644)
}

// Settle lets the machine calm down before a measurement: dirty pages of
// earlier output files are written back now rather than during it.
func Settle(d time.Duration) {
	syscall.Sync()
	time.Sleep(d)
}

// Counts reads a flag's comma-separated list of positive integers; the
// error names the flag and what each number counts.
func Counts(flagName, what, list string) ([]int, error) {
	var ns []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-%s: %q is not a %s", flagName, f, what)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// WscopeBin returns bin, or when it is "" a wscope it builds from the
// tree at root into bench/.bin.
func (d Driver) WscopeBin(root, bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(root, "bench", ".bin", "wscope")
	d.Logf("building %s", bin)
	if out, err := GoBuild(root, bin, "."); err != nil {
		return "", fmt.Errorf("building wscope: %v\n%s", err, out)
	}
	return bin, nil
}
