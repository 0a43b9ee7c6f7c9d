package cmd

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// setBuildVars sets what -ldflags -X would, until the test ends. Tests
// that call it must not run in parallel: the variables are the package's.
func setBuildVars(t *testing.T, version, commit, date string) {
	t.Helper()
	saved := [3]string{Version, Commit, Date}
	Version, Commit, Date = version, commit, date
	t.Cleanup(func() { Version, Commit, Date = saved[0], saved[1], saved[2] })
}

const testRev = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345"

func vcsInfo(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wscope/wscope", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestResolveBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  buildInfo
		short                 string
	}{
		{
			name:    "release build: linker flags win over build info",
			version: "1.2.0", commit: testRev, date: "2026-11-22T10:20:30Z",
			bi:    vcsInfo("v0.0.0-20260101000000-aaaaaaaaaaaa", "vcs.revision", "ffff", "vcs.time", "2026-01-01T00:00:00Z", "vcs.modified", "true"),
			want:  buildInfo{Version: "1.2.0", Commit: testRev, Date: "2026-11-22T10:20:30Z", GoVersion: "go1.26.8"},
			short: "1.2.0 (3f2a9c1b7d4e, 2026-11-22)",
		},
		{
			name: "go install module@version: module version, no vcs",
			bi:   vcsInfo("v1.2.0"),
			want: buildInfo{Version: "v1.2.0", GoVersion: "go1.26.8"}, short: "v1.2.0",
		},
		{
			name:  "build in a checkout: vcs revision and time",
			bi:    vcsInfo("v1.2.1-0.20261122102030-3f2a9c1b7d4e", "vcs", "git", "vcs.revision", testRev, "vcs.time", "2026-11-22T10:20:30Z", "vcs.modified", "false"),
			want:  buildInfo{Version: "v1.2.1-0.20261122102030-3f2a9c1b7d4e", Commit: testRev, Date: "2026-11-22T10:20:30Z", GoVersion: "go1.26.8"},
			short: "v1.2.1-0.20261122102030-3f2a9c1b7d4e (3f2a9c1b7d4e, 2026-11-22)",
		},
		{
			name: "modified tree: commit marked dirty",
			bi:   vcsInfo("(devel)", "vcs.revision", testRev, "vcs.time", "2026-11-22T23:59:59-02:00", "vcs.modified", "true"),
			want: buildInfo{Version: "(devel)", Commit: testRev + "-dirty", Date: "2026-11-22T23:59:59-02:00", GoVersion: "go1.26.8"},
			// The day is the UTC one.
			short: "(devel) (3f2a9c1b7d4e-dirty, 2026-11-23)",
		},
		{
			name: "-buildvcs=false: devel and nothing else",
			bi:   vcsInfo("(devel)", "-buildmode", "exe", "CGO_ENABLED", "0"),
			want: buildInfo{Version: "(devel)", GoVersion: "go1.26.8"}, short: "(devel)",
		},
		{
			name: "no build info at all (go test binary, stripped)",
			want: buildInfo{Version: "(devel)", GoVersion: runtime.Version()}, short: "(devel)",
		},
		{
			name: "empty main version",
			bi:   vcsInfo(""),
			want: buildInfo{Version: "(devel)", GoVersion: "go1.26.8"}, short: "(devel)",
		},
		{
			name:    "only a version injected: the rest from the build info",
			version: "1.3.0-rc1",
			bi:      vcsInfo("(devel)", "vcs.revision", "abc", "vcs.time", "not a time"),
			want:    buildInfo{Version: "1.3.0-rc1", Commit: "abc", Date: "not a time", GoVersion: "go1.26.8"},
			short:   "1.3.0-rc1 (abc, not a time)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resolveBuild(tt.version, tt.commit, tt.date, tt.bi)
			tt.want.OS, tt.want.Arch = runtime.GOOS, runtime.GOARCH
			if got != tt.want {
				t.Errorf("resolveBuild = %+v\nwant            %+v", got, tt.want)
			}
			if s := got.oneLine(); s != tt.short {
				t.Errorf("oneLine = %q, want %q", s, tt.short)
			}
		})
	}
}

// TestRunVersionInjected runs the whole command line with the values a
// release build injects. Not parallel: it sets the package's variables.
func TestRunVersionInjected(t *testing.T) {
	setBuildVars(t, "1.2.0", testRev, "2026-11-22T10:20:30Z")

	code, stdout, stderr := runWscope(t, "", "--version")
	if code != ExitOK || stderr != "" {
		t.Fatalf("--version: exit %d, stderr %q", code, stderr)
	}
	if want := "wscope 1.2.0 (3f2a9c1b7d4e, 2026-11-22)\n"; stdout != want {
		t.Errorf("--version = %q, want %q", stdout, want)
	}

	code, stdout, stderr = runWscope(t, "", "version")
	if code != ExitOK || stderr != "" {
		t.Fatalf("version: exit %d, stderr %q", code, stderr)
	}
	want := "wscope 1.2.0\n" +
		"commit:   " + testRev + "\n" +
		"date:     2026-11-22T10:20:30Z\n" +
		"go:       " + runtime.Version() + "\n" +
		"platform: " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if stdout != want {
		t.Errorf("version =\n%s\nwant\n%s", stdout, want)
	}

	code, stdout, stderr = runWscope(t, "", "version", "--json")
	if code != ExitOK || stderr != "" {
		t.Fatalf("version --json: exit %d, stderr %q", code, stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("version --json = %q: want one JSON line (%v)", stdout, err)
	}
	wantJSON := map[string]string{
		"version": "1.2.0", "commit": testRev, "date": "2026-11-22T10:20:30Z",
		"go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH,
	}
	for k, v := range wantJSON {
		if got[k] != v {
			t.Errorf("version --json: %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(wantJSON) {
		t.Errorf("version --json has keys %v, want exactly %v", got, wantJSON)
	}
}

// TestRunVersionFallback runs a binary built with nothing injected: this
// test binary, whose build info has no version and no VCS stamp (CI and
// this machine build with -buildvcs=false).
func TestRunVersionFallback(t *testing.T) {
	setBuildVars(t, "", "", "")
	b := currentBuild()
	if b.Version == "" || b.GoVersion == "" || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH {
		t.Fatalf("currentBuild() = %+v: version, go and platform are always known", b)
	}

	code, stdout, stderr := runWscope(t, "", "--version")
	if code != ExitOK || stderr != "" {
		t.Fatalf("--version: exit %d, stderr %q", code, stderr)
	}
	if want := "wscope " + b.oneLine() + "\n"; stdout != want {
		t.Errorf("--version = %q, want %q", stdout, want)
	}

	code, stdout, stderr = runWscope(t, "", "version")
	if code != ExitOK || stderr != "" {
		t.Fatalf("version: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 5 || lines[0] != "wscope "+b.Version {
		t.Fatalf("version =\n%s\nwant five lines, the first %q", stdout, "wscope "+b.Version)
	}
	for i, prefix := range []string{"commit:   ", "date:     ", "go:       ", "platform: "} {
		if !strings.HasPrefix(lines[i+1], prefix) || len(lines[i+1]) == len(prefix) {
			t.Errorf("line %d = %q, want %q and a value", i+2, lines[i+1], prefix)
		}
	}
	if b.Commit == "" && lines[1] != "commit:   unknown" {
		t.Errorf("no commit recorded, but version says %q", lines[1])
	}
}

func TestNewCmdVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		json bool
	}{{nil, false}, {[]string{"--json"}, true}} {
		ios, _, _ := testIO("")
		got, err := parseCmd(t, ios, NewCmdVersion, tt.args...)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got.JSON != tt.json || got.IO != ios {
			t.Errorf("%v: options %+v, want JSON=%v on the given streams", tt.args, got, tt.json)
		}
	}
}

func TestVersionRunUnknownFields(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO("")
	opts := &VersionOptions{IO: ios, Build: func() buildInfo {
		return buildInfo{Version: develVersion, GoVersion: "go1.26.8", OS: "plan9", Arch: "arm"}
	}}
	if err := versionRun(opts); err != nil {
		t.Fatal(err)
	}
	want := "wscope (devel)\ncommit:   unknown\ndate:     unknown\ngo:       go1.26.8\nplatform: plan9/arm\n"
	if out.String() != want {
		t.Errorf("version =\n%s\nwant\n%s", out, want)
	}

	ios, out, _ = testIO("")
	opts.IO, opts.JSON = ios, true
	if err := versionRun(opts); err != nil {
		t.Fatal(err)
	}
	// Unknown fields are empty strings, not missing keys: scripts can
	// index them without a fallback.
	if want := `{"version":"(devel)","commit":"","date":"","go":"go1.26.8","os":"plan9","arch":"arm"}` + "\n"; out.String() != want {
		t.Errorf("version --json = %s, want %s", out, want)
	}
}
