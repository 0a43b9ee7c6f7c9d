package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Set at build time, as the release build does:
//
//	go build -ldflags "-X github.com/wscope/wscope/cmd.Version=1.2.0
//	  -X github.com/wscope/wscope/cmd.Commit=$(git rev-parse HEAD)
//	  -X github.com/wscope/wscope/cmd.Date=2026-11-22T10:20:30Z"
//
// What is left empty comes from the build info that the go command embeds
// (the module version for `go install ...@v1.2.0`, vcs.revision and
// vcs.time for a build in a checkout); what is not there either is unknown.
var (
	// Version is the release version, e.g. "1.2.0".
	Version string
	// Commit is the full revision the binary was built from.
	Commit string
	// Date is the commit's time in RFC 3339 (the release build passes the
	// commit date rather than the clock's, so that rebuilding a tag gives
	// the same bytes).
	Date string
)

// develVersion is what a binary built without a version says.
const develVersion = "(devel)"

// buildInfo is what a binary knows about how it was built. Unknown fields
// are empty.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"` // with "-dirty" when built from a modified tree
	Date      string `json:"date"`
	GoVersion string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// currentBuild is this binary's build info.
func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuild(Version, Commit, Date, bi)
}

// resolveBuild fills in what the linker flags left empty from bi (nil when
// the binary has no build info).
func resolveBuild(version, commit, date string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{
		Version:   version,
		Commit:    commit,
		Date:      date,
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
	}
	if bi != nil {
		if b.Version == "" {
			b.Version = bi.Main.Version
		}
		var rev, vtime string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				vtime = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if b.Commit == "" && rev != "" {
			b.Commit = rev
			if modified {
				b.Commit += "-dirty"
			}
		}
		if b.Date == "" {
			b.Date = vtime
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
	}
	if b.Version == "" {
		b.Version = develVersion
	}
	return b
}

// oneLine is the one-line form, as --version prints it after "wscope " and
// recordings carry it as the tool's version: "1.2.0 (3f2a9c1b7d4e,
// 2026-11-22)", or "(devel)" alone when nothing more is known.
func (b buildInfo) oneLine() string {
	var extra []string
	if b.Commit != "" {
		extra = append(extra, shortCommit(b.Commit))
	}
	if b.Date != "" {
		extra = append(extra, dateOnly(b.Date))
	}
	if len(extra) == 0 {
		return b.Version
	}
	return b.Version + " (" + strings.Join(extra, ", ") + ")"
}

// shortCommit keeps the first 12 hex digits of a revision, and its
// "-dirty" mark.
func shortCommit(c string) string {
	rev, dirty := strings.CutSuffix(c, "-dirty")
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// dateOnly turns an RFC 3339 time into its UTC day; anything else is kept
// as it is.
func dateOnly(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.DateOnly)
}

// writeLong writes the form `wscope version` prints.
func (b buildInfo) writeLong(w io.Writer) error {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	_, err := fmt.Fprintf(w, "wscope %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s/%s\n",
		b.Version, orUnknown(b.Commit), orUnknown(b.Date), b.GoVersion, b.OS, b.Arch)
	return err
}

// versionString is the one-line version of this binary.
func versionString() string { return currentBuild().oneLine() }

// VersionOptions are the flags of `wscope version`.
type VersionOptions struct {
	IO *IOStreams
	// Build is the build info to print; currentBuild when nil.
	Build func() buildInfo
	JSON  bool
}

// NewCmdVersion prints how this binary was built.
func NewCmdVersion(ios *IOStreams, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: ios}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build details",
		Long: `Print wscope's version, the commit it was built from (marked -dirty when
the tree had uncommitted changes), that commit's date, the Go version and
the platform. A field the build did not record says unknown (is empty
with --json): a plain "go build" in a checkout records the commit unless
-buildvcs=false, and only release builds and "go install ...@VERSION"
record a version.

wscope --version prints the same in one line.`,
		Example: `  wscope version
  wscope --version

  # the commit alone, for a bug report
  wscope version --json | jq -r .commit`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return versionRun(opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object: version, commit, date, go, os, arch")
	return c
}

func versionRun(opts *VersionOptions) error {
	build := currentBuild
	if opts.Build != nil {
		build = opts.Build
	}
	b := build()
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		return enc.Encode(b)
	}
	return b.writeLong(opts.IO.Out)
}
