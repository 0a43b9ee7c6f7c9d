// Command autobahn runs Autobahn|Testsuite, the WebSocket conformance
// suite, against wscope in both roles, and summarises what the suite
// found. See docs/conformance.md.
//
// From the repository root:
//
//	WSTEST=../shared/autobahn/wstest go run ./conformance/autobahn                 # quick profile, --strict --compress, both roles
//	WSTEST=... go run ./conformance/autobahn -profile ci -modes all -doc docs/conformance.md
//	WSTEST=... go run ./conformance/autobahn -profile full -modes strict-deflate,strict -check
//
// WSTEST is the suite's wstest command, a shell command line: the packed
// suite of this machine, or the Docker image elsewhere (docs/conformance.md
// gives the form).
//
// The client role starts `wstest -m fuzzingserver` on a free loopback port
// and, for each case, runs `wscope connect
// ws://127.0.0.1:PORT/runCase?case=N&agent=wscope-MODE --echo [flags]` with
// its stdin a pipe held open until it exits, so that it runs until the suite
// closes; each case is bounded by -case-timeout, and wscope's exit status is
// recorded. The server role starts `wscope listen 127.0.0.1:0 --echo
// --no-tui [flags]` (output to /dev/null) and runs `wstest -m fuzzingclient`
// against it until the suite exits, stopping it when no new connection comes
// within -case-timeout. The suite's index.json then gives each case's
// behaviour.
//
// -check exits 1 when a --strict mode has a case FAILED, NON-STRICT,
// UNIMPLEMENTED or missing, or a run did not complete, and prints those
// cases with the key lines of their reports. -doc rewrites the profile's
// results section of the doc, between its marker comments.
//
// Exit status: 0, 1 (a check failed, or the suite could not run), 2
// (usage).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	root        string
	wstest      string
	wscope      string
	work        string
	profile     profile
	patterns    []string
	caseTimeout time.Duration
	verbose     bool
	log         io.Writer
}

func (c *config) logf(format string, a ...any) { fmt.Fprintf(c.log, format+"\n", a...) }

func (c *config) verbosef(format string, a ...any) {
	if c.verbose {
		c.logf(format, a...)
	}
}

// progress says every 50 cases how far a run is; total 0 is unknown.
func (c *config) progress(r string, m mode, done, total int, start time.Time) {
	if done%50 != 0 && done != total {
		return
	}
	of := ""
	if total > 0 {
		of = fmt.Sprintf("/%d", total)
	}
	c.logf("%s %s: %d%s cases (%s)", r, m.agent(), done, of, time.Since(start).Round(time.Second))
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("autobahn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		c                      = &config{log: stderr}
		profileName, casesFlag string
		rolesFlag, modesFlag   string
		doCheck                bool
		timeout                time.Duration
		docPath                string
		savePath, loadPaths    string
	)
	fs.StringVar(&profileName, "profile", "quick", "cases to run: quick (307), ci (quick plus 9.*: 361) or full (517)")
	fs.StringVar(&casesFlag, "cases", "", "comma-separated case patterns instead of the profile's, e.g. 6.4.*,13.3.1 (not with -doc)")
	fs.StringVar(&rolesFlag, "roles", "both", "client, server or both")
	fs.StringVar(&modesFlag, "modes", "strict-deflate", "comma-separated modes: strict-deflate (--strict --compress), strict, default-deflate (--compress), default; or all")
	fs.StringVar(&c.wscope, "wscope", "", "wscope binary to test (default: go build the repository into the work directory)")
	fs.StringVar(&c.work, "work", "", "directory for specs, logs and the suite's reports, kept (default: a temporary directory, removed)")
	fs.DurationVar(&c.caseTimeout, "case-timeout", 0, "bound on one case: a wscope connect still running is killed; as a server, no new connection for this long stops the suite (default: 1m, full profile 10m)")
	fs.DurationVar(&timeout, "timeout", 0, "bound on the whole run (0: none); cases not run by then are missing")
	fs.BoolVar(&doCheck, "check", false, "exit 1 if a --strict mode has a case FAILED, NON-STRICT, UNIMPLEMENTED or missing, printing those cases")
	fs.StringVar(&docPath, "doc", "", "rewrite this doc's results section of the profile (e.g. docs/conformance.md)")
	fs.StringVar(&savePath, "save", "", "write the results to this file (JSON), for -load")
	fs.StringVar(&loadPaths, "load", "", "comma-separated files from -save: summarise, -check and -doc their results instead of running the suite (runs made apart, e.g. the two roles side by side)")
	fs.BoolVar(&c.verbose, "v", false, "a line per case")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "autobahn: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	p, err := findProfile(profileName)
	if err != nil {
		return usage("%v", err)
	}
	c.profile, c.patterns = p, p.patterns
	if casesFlag != "" {
		if docPath != "" {
			return usage("-doc records a profile's results: not with -cases")
		}
		c.profile = profile{name: "custom", about: casesFlag, caseTimeout: time.Minute}
		c.patterns = strings.Split(casesFlag, ",")
	}
	if c.caseTimeout == 0 {
		c.caseTimeout = c.profile.caseTimeout
	}
	roles, err := parseRoles(rolesFlag)
	if err != nil {
		return usage("%v", err)
	}
	ms, err := parseModes(modesFlag)
	if err != nil {
		return usage("%v", err)
	}
	if doCheck && !hasStrict(ms) {
		return usage("-check gates the --strict modes, and -modes %s has none", modesFlag)
	}
	if loadPaths != "" {
		return report(c, strings.Split(loadPaths, ","), doCheck, docPath, stdout, stderr)
	}
	c.wstest = strings.TrimSpace(os.Getenv("WSTEST"))
	if c.wstest == "" {
		return usage("WSTEST is not set: it names the suite's wstest command, e.g. WSTEST=../shared/autobahn/wstest, or the Docker form in docs/conformance.md")
	}
	if c.root, err = findRoot(); err != nil {
		return usage("%v", err)
	}

	interrupted, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx := interrupted
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(interrupted, timeout, fmt.Errorf("stopped: -timeout %s reached", timeout))
		defer cancel()
	}
	status := 0
	if c.work == "" {
		if c.work, err = os.MkdirTemp("", "wscope-autobahn-"); err != nil {
			fmt.Fprintln(stderr, "autobahn:", err)
			return 1
		}
		defer func() {
			if status == 0 {
				os.RemoveAll(c.work)
			}
		}()
	} else if c.work, err = filepath.Abs(c.work); err == nil {
		err = os.MkdirAll(c.work, 0o755)
	}
	if err != nil {
		fmt.Fprintln(stderr, "autobahn:", err)
		return 1
	}
	if c.wscope == "" {
		c.wscope = filepath.Join(c.work, "wscope")
		build := exec.Command("go", "build", "-o", c.wscope, ".")
		build.Dir = c.root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(stderr, "autobahn: go build: %v\n%s", err, out)
			return 1
		}
	} else if c.wscope, err = filepath.Abs(c.wscope); err != nil {
		fmt.Fprintln(stderr, "autobahn:", err)
		return 1
	}

	// What the doc says about the runs, taken before them: the commit is
	// the one built.
	var info runInfo
	if docPath != "" || savePath != "" {
		info = describe(c, roles, modesFlag, docPath)
	}
	started := time.Now()
	var results []runResult
	for _, r := range roles {
		roleStart := time.Now()
		switch r {
		case clientRole:
			results = append(results, runClientRole(ctx, c, ms)...)
		case serverRole:
			results = append(results, runServerRole(ctx, c, ms)...)
		}
		c.logf("%s role: %s", r, time.Since(roleStart).Round(time.Second))
	}
	c.logf("all: %s", time.Since(started).Round(time.Second))

	if savePath != "" {
		if err := saveRuns(savePath, c.profile.name, info, results); err != nil {
			fmt.Fprintln(stderr, "autobahn:", err)
			status = 1
		}
	}
	if interrupted.Err() != nil {
		for _, r := range results {
			writeSummary(stdout, r)
		}
		status = 130
		return status
	}
	if st := finish(c, info, results, doCheck, docPath, stdout, stderr); st != 0 {
		status = st
	}
	if status != 0 {
		c.logf("the suite's reports (HTML and JSON) are kept under %s", c.work)
	}
	return status
}

// report is -load: the summary, -doc and -check of saved results.
func report(c *config, paths []string, doCheck bool, docPath string, stdout, stderr io.Writer) int {
	info, results, err := loadRuns(paths, c.profile.name)
	if err != nil {
		fmt.Fprintln(stderr, "autobahn:", err)
		return 1
	}
	info.Profile = c.profile
	roles, modes := map[role]bool{}, []string{}
	for _, r := range results {
		roles[r.Role] = true
		if !slices.Contains(modes, r.Mode.name) {
			modes = append(modes, r.Mode.name)
		}
	}
	rolesFlag := "both"
	if len(roles) == 1 {
		rolesFlag = string(results[0].Role)
	}
	// The section says how to make it again in one run.
	info.Command = fmt.Sprintf("go run ./conformance/autobahn -profile %s -roles %s -modes %s -doc %s", c.profile.name, rolesFlag, strings.Join(modes, ","), docPath)
	return finish(c, info, results, doCheck, docPath, stdout, stderr)
}

// finish writes the summary of every run, then the doc section (when every
// run completed) and the check; it returns the exit status.
func finish(c *config, info runInfo, results []runResult, doCheck bool, docPath string, stdout, stderr io.Writer) int {
	status := 0
	for _, r := range results {
		writeSummary(stdout, r)
		if r.Err != nil {
			status = 1
		}
	}
	if docPath != "" {
		if status != 0 {
			fmt.Fprintln(stderr, "autobahn: a run did not complete: the doc is left as it was")
		} else if err := updateDoc(docPath, c.profile.name, resultsMarkdown(info, results)); err != nil {
			fmt.Fprintln(stderr, "autobahn:", err)
			status = 1
		} else {
			c.logf("rewrote the %s results in %s", c.profile.name, docPath)
		}
	}
	if doCheck {
		fmt.Fprintln(stdout)
		if !check(stdout, results) {
			status = 1
		}
	}
	return status
}

func hasStrict(ms []mode) bool {
	for _, m := range ms {
		if m.strict {
			return true
		}
	}
	return false
}

// findRoot returns the directory of the wscope module's go.mod, looking up
// from the working directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/wscope/wscope\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this inside the wscope repository (no go.mod of github.com/wscope/wscope above the working directory)")
		}
		dir = parent
	}
}

// describe gathers what the doc says about the runs: date, commit, Go,
// the suite's version, the machine, and the command that regenerates them.
func describe(c *config, roles []role, modesFlag, docPath string) runInfo {
	info := runInfo{Date: time.Now(), Commit: "unknown", Go: runtime.Version(), Suite: "Autobahn|Testsuite (version unknown)", Profile: c.profile}
	out := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = c.root
		b, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if s := out("git", "rev-parse", "--short", "HEAD"); s != "" {
		info.Commit = s
		// The docs (this run's own output among them) do not change what
		// was built.
		if out("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs") != "" {
			info.Commit += " + uncommitted changes"
		}
	}
	if s := out("go", "env", "GOVERSION"); s != "" {
		info.Go = s
	}
	if s := out("sh", "-c", c.wstest+" -a"); s != "" {
		info.Suite = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", ", ")), " ")
	}
	info.Machine = fmt.Sprintf("%d × %s", runtime.NumCPU(), cpuModel())
	var r []string
	for _, x := range roles {
		r = append(r, string(x))
	}
	rolesFlag := "both"
	if len(r) == 1 {
		rolesFlag = r[0]
	}
	info.Command = fmt.Sprintf("go run ./conformance/autobahn -profile %s -roles %s -modes %s -doc %s", c.profile.name, rolesFlag, modesFlag, docPath)
	return info
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "CPU"
}
