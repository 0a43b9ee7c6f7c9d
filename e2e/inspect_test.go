package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under e2e/testdata")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from its golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// stable masks what changes between runs: the creation time and version
// in a recording header.
var headerVolatile = regexp.MustCompile(`"created":"[^"]*","tool":\{"name":"wscope","version":"[^"]*"\}`)

func stable(s string) string {
	return headerVolatile.ReplaceAllString(s, `"created":"X","tool":{"name":"wscope","version":"X"}`)
}

func TestInspectGolden(t *testing.T) {
	t.Parallel()
	const (
		rec   = "../testdata/connect-echo.wsrec.jsonl"
		srv   = "../testdata/listen-echo.wsrec.jsonl"
		bad   = "../testdata/violations.wsrec.jsonl"
		har   = "../internal/record/testdata/chrome.har"
		ffhar = "../internal/record/testdata/firefox.har"
		pcapD = "../internal/pcap/testdata/deflate.pcapng"
		pcapP = "../internal/pcap/testdata/plain.pcap"
	)
	cases := []struct {
		name string
		code int
		args []string
	}{
		{"connect-frames.txt", 0, []string{rec}},
		{"connect-json.jsonl", 0, []string{rec, "-o", "json"}},
		{"connect-text.txt", 0, []string{rec, "-o", "text"}},
		{"connect-stats.txt", 0, []string{rec, "--stats"}},
		{"connect-stats.json", 0, []string{rec, "--stats", "-o", "json"}},
		{"listen-frames.txt", 0, []string{srv}},
		{"filter-server-text.txt", 0, []string{rec, "--from", "server", "--op", "text", "-o", "text"}},
		{"filter-grep.txt", 0, []string{rec, "--grep", "subscribe|split"}},
		{"filter-control.txt", 0, []string{rec, "--op", "control"}},
		{"violations-check.txt", 5, []string{bad, "--check"}},
		{"violations-frames.txt", 0, []string{bad}},
		{"clean-check.txt", 0, []string{rec, "--check"}},
		{"chrome-har-frames.txt", 0, []string{har}},
		{"chrome-har-json.jsonl", 0, []string{har, "-o", "json"}},
		{"firefox-har-text.txt", 0, []string{ffhar, "-o", "text"}},
		{"pcap-deflate-frames.txt", 0, []string{pcapD}},
		{"pcap-deflate-json.jsonl", 0, []string{pcapD, "-o", "json"}},
		{"pcap-deflate-stats.txt", 0, []string{pcapD, "--stats"}},
		{"pcap-plain-check.txt", 0, []string{pcapP, "--check"}},
		{"hex.txt", 0, []string{"--hex", "81 fe 00 05 37 fa 21 3d 7f 9f 4d 51 58 88 02 03 e8"}},
		// A 64-bit length with its top bit set: the rule, not a usage error.
		{"hex-length-top-bit.txt", 0, []string{"--hex", "82 7f 80 00 00 00 00 00 00 05 01 02 03 04 05"}},
		{"hex-length-top-bit-check.txt", 5, []string{"--hex", "82 7f 80 00 00 00 00 00 00 05 01 02 03 04 05", "--check"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", append([]string{"inspect"}, c.args...)...)
			r.expectCode(t, c.code)
			golden(t, "inspect/"+c.name, stable(r.Stdout))
		})
	}
}

func TestInspectStdin(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("../testdata/connect-echo.wsrec.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, string(in), "inspect", "-", "-o", "text", "--from", "server")
	r.expectCode(t, 0)
	if !strings.HasPrefix(r.Stdout, "[1] s2c hello\n") {
		t.Errorf("stdout %q", r.Stdout)
	}
}

func TestInspectBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, _ := os.ReadFile("../testdata/connect-echo.wsrec.jsonl")
	lines := strings.SplitAfter(string(good), "\n")
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	// A truncated last line is a warning: everything before it is shown.
	truncated := write("truncated.jsonl", strings.Join(lines[:6], "")+lines[6][:20])
	r := run(t, "", "inspect", truncated, "-o", "text")
	r.expectCode(t, 0)
	if !strings.Contains(r.Stderr, "warning") || !strings.Contains(r.Stderr, "line 7") {
		t.Errorf("truncated: stderr %q", r.Stderr)
	}
	// Garbage in the middle names the file and the line.
	garbage := write("garbage.jsonl", strings.Join(lines[:4], "")+"{not json\n"+strings.Join(lines[4:], ""))
	r = run(t, "", "inspect", garbage)
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, "garbage.jsonl: line 5") {
		t.Errorf("garbage: stderr %q", r.Stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "missing.jsonl")}, "no such file"},
		{[]string{write("text.txt", "hello\n")}, "not a wscope recording, HAR or pcap/pcapng capture"},
		{[]string{write("empty", "")}, "empty file"},
		{[]string{write("future.jsonl", `{"wsrec":2,"created":"2030-01-01T00:00:00Z"}`+"\n")}, "version 2"},
		{[]string{"--hex", "zz"}, "--hex"},
		{[]string{"--hex", "81 05 48"}, "frame 1"},
		{[]string{}, "needs a FILE"},
		{[]string{"x", "--from", "both"}, "--from"},
		{[]string{"x", "--grep", "("}, "--grep"},
		{[]string{"x", "--op", "texty"}, "--op"},
	} {
		r := run(t, "", append([]string{"inspect"}, c.args...)...)
		r.expectCode(t, 2)
		if !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
			t.Errorf("inspect %v: stderr %q, want one line with %q", c.args, r.Stderr, c.want)
		}
	}
}

// Small things a user hits: a directory is said to be one, a port out of
// range is a usage error (2), not a failed connection (3).
func TestBadPathsAndPorts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := run(t, "", "inspect", dir)
	if r.Code != 2 || !strings.Contains(r.Stderr, "is a directory") {
		t.Errorf("inspect DIR: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = run(t, "", "replay", dir)
	if r.Code != 2 || !strings.Contains(r.Stderr, "is a directory") {
		t.Errorf("replay DIR: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = run(t, "", "connect", "ws://127.0.0.1:99999/")
	if r.Code != 2 || !strings.Contains(r.Stderr, "port 99999") {
		t.Errorf("port 99999: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// A line longer than the limit (tied to --max-message-size) is skipped
// with a warning naming it, and nothing else is lost: inspect shows what
// it shows without that line. replay, which needs every line, refuses.
func TestInspectSkipsALineOverTheLimit(t *testing.T) {
	t.Parallel()
	good, _ := os.ReadFile("../testdata/connect-echo.wsrec.jsonl")
	lines := strings.SplitAfter(string(good), "\n")
	long := `{"t":0.5,"ev":"note","conn":1,"text":"` + strings.Repeat("x", 3<<20) + `"}` + "\n"
	path := filepath.Join(t.TempDir(), "long.jsonl")
	os.WriteFile(path, []byte(strings.Join(lines[:4], "")+long+strings.Join(lines[4:], "")), 0o644)

	want := run(t, "", "inspect", "../testdata/connect-echo.wsrec.jsonl", "-o", "frames")
	want.expectCode(t, 0)
	r := run(t, "", "inspect", path, "-o", "frames", "--max-message-size", "1KiB")
	r.expectCode(t, 0)
	if r.Stdout != want.Stdout {
		t.Errorf("stdout (%d bytes) differs from the file's without the long line (%d bytes): %s", len(r.Stdout), len(want.Stdout), bounded(r.Stdout))
	}
	if !strings.HasPrefix(r.Stderr, "wscope: warning: "+path+": line 5: longer than 1050624 bytes (1.0 MiB): skipped") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("stderr %q", bounded(r.Stderr))
	}
	// Under the default limit the line reads: a note.
	r = run(t, "", "inspect", path, "-o", "json")
	r.expectCode(t, 0)
	if len(filter(parseEvents(t, r.Stdout), "note", "")) != 1 || r.Stderr != "" {
		t.Errorf("default limit: stderr %q", bounded(r.Stderr))
	}
	r = run(t, "", "replay", path, "--max-message-size", "1KiB", "--url", "ws://127.0.0.1:1/")
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, "line 5: longer than") {
		t.Errorf("replay: stderr %q", bounded(r.Stderr))
	}
}
