package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The completion command is cobra's own, added when the root command runs;
// these tests hold wscope to it: every shell gets a script that names
// wscope, the scripts parse, and what they ask (wscope __complete ...) is
// answered with wscope's commands and flags.

func TestRunCompletionScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shell string
		// want are lines or fragments that make the script this shell's
		// completion for wscope.
		want []string
		// check parses the script without running it, when the shell is
		// installed (bash always is where CI runs).
		check []string
	}{
		{"bash", []string{"# bash completion V2 for wscope", "__start_wscope()", "complete -o default -F __start_wscope wscope"}, []string{"bash", "-n"}},
		{"zsh", []string{"#compdef wscope", "compdef _wscope wscope", "__complete"}, []string{"zsh", "-n"}},
		{"fish", []string{"# fish completion for wscope", "complete -c wscope ", "__complete"}, []string{"fish", "--no-execute"}},
		{"powershell", []string{"# powershell completion for wscope", "Register-ArgumentCompleter -CommandName 'wscope'", "__complete"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runWscope(t, "", "completion", tt.shell)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if len(stdout) < 1000 || !strings.HasSuffix(stdout, "\n") {
				t.Fatalf("script of %d bytes, want a whole script:\n%s", len(stdout), stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("script lacks %q", w)
				}
			}
			if strings.Contains(stdout, "\r") {
				t.Error("script has carriage returns")
			}
			if tt.check == nil {
				return
			}
			if _, err := exec.LookPath(tt.check[0]); err != nil {
				t.Skipf("no %s to parse the script with", tt.check[0])
			}
			path := filepath.Join(t.TempDir(), "wscope."+tt.shell)
			if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tt.check[0], append(tt.check[1:], path)...).CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", strings.Join(tt.check, " "), err, out)
			}
		})
	}
}

func TestRunCompletionUsage(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runWscope(t, "", "completion", "--help")
	if code != ExitOK {
		t.Fatalf("completion --help: exit %d", code)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if !strings.Contains(stdout, "  "+shell+" ") {
			t.Errorf("completion --help does not list %s:\n%s", shell, stdout)
		}
	}
	if code, _, stderr := runWscope(t, "", "completion", "tcsh"); code != ExitUsage || !strings.Contains(stderr, `unknown command "tcsh"`) {
		t.Errorf("completion tcsh: exit %d, stderr %q; want a usage error", code, stderr)
	}
}

// complete asks what the completion scripts ask: the candidates for the
// last argument, one per line, then cobra's ":directive" line.
func complete(t *testing.T, args ...string) (candidates []string) {
	t.Helper()
	code, stdout, stderr := runWscope(t, "", append([]string{"__complete"}, args...)...)
	if code != ExitOK {
		t.Fatalf("__complete %q: exit %d, stderr %q", args, code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %q = %q, want candidates then a :directive line", args, stdout)
	}
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t") // the description follows a tab
		candidates = append(candidates, name)
	}
	return candidates
}

func TestCompleteCommands(t *testing.T) {
	t.Parallel()
	got := complete(t, "")
	// Every command of the tree, whatever it holds today.
	ios, _, _ := testIO("")
	for _, c := range NewRootCmd(ios).Commands() {
		if c.IsAvailableCommand() && !slices.Contains(got, c.Name()) {
			t.Errorf("__complete '' = %q: %s missing", got, c.Name())
		}
	}
	for _, name := range []string{"completion", "help"} {
		if !slices.Contains(got, name) {
			t.Errorf("__complete '' = %q: %s missing", got, name)
		}
	}
	if got := complete(t, "conn"); !slices.Equal(got, []string{"connect"}) {
		t.Errorf("__complete conn = %q, want [connect]", got)
	}
	if got := complete(t, "completion", ""); !slices.Equal(got, []string{"bash", "fish", "powershell", "zsh"}) {
		t.Errorf("__complete completion '' = %q, want the four shells", got)
	}
}

func TestCompleteFlags(t *testing.T) {
	t.Parallel()
	got := complete(t, "connect", "--")
	for _, flag := range []string{"--header", "--subprotocol", "--output", "--insecure", "--max-message-size", "--help"} {
		if !slices.Contains(got, flag) {
			t.Errorf("__complete connect -- = %q: %s missing", got, flag)
		}
	}
	if got := complete(t, "version", "--"); !slices.Contains(got, "--json") {
		t.Errorf("__complete version -- = %q: --json missing", got)
	}
	if got := complete(t, "--ver"); !slices.Contains(got, "--version") {
		t.Errorf("__complete --ver = %q: --version missing", got)
	}
}

// Flags with a fixed set of values complete to them, on every command
// that has the flag.
func TestCompleteFlagValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"connect", "ws://h", "-o", ""}, "text frames json"},
		{[]string{"proxy", "--output", ""}, "text frames json"},
		{[]string{"inspect", "f", "--from", ""}, "client server"},
		{[]string{"listen", "--stdin", ""}, "lines raw json"},
		{[]string{"connect", "ws://h", "--binary-as", ""}, "base64 hex raw"},
	} {
		if got := strings.Join(complete(t, tt.args...), " "); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}
