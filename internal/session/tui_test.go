package session

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The TUI needs cursor addressing; TERM=dumb and its kind get the line
// mode (issue 14).
func TestScreenTerm(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TERMINFO", dir)
	if tic, err := exec.LookPath("tic"); err == nil {
		// A glass teletype: it rings and returns, and cannot address the
		// cursor.
		src := filepath.Join(dir, "glass.src")
		if err := os.WriteFile(src, []byte("wscope-glass|a glass tty,\n\tam, cols#80, bel=^G, cr=\\r, cud1=^J,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(tic, "-o", dir, src).CombinedOutput(); err != nil {
			t.Fatalf("tic: %v\n%s", err, out)
		}
		if screenTerm("wscope-glass") {
			t.Error("a terminfo entry without cursor_address draws the TUI")
		}
		if err := os.WriteFile(src, []byte("wscope-vt|a terminal that moves the cursor,\n\tam, cols#80, lines#24, cup=\\E[%i%p1%d;%p2%dH, clear=\\E[H\\E[2J,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(tic, "-o", dir, src).CombinedOutput(); err != nil {
			t.Fatalf("tic: %v\n%s", err, out)
		}
		if !screenTerm("wscope-vt") {
			t.Error("a terminfo entry with cursor_address gets the line mode")
		}
	} else {
		t.Log("no tic: the terminfo entries are not tried")
	}
	for name, want := range map[string]bool{
		"dumb":                       false,
		"":                           runtime.GOOS == "windows",
		"xterm-256color":             true,
		"a-terminal-nobody-heard-of": true, // as Bubble Tea takes it
	} {
		if got := screenTerm(name); got != want {
			t.Errorf("TERM=%q: screen %v, want %v", name, got, want)
		}
	}
}

func TestUseTUIWantsAScreen(t *testing.T) {
	t.Parallel()
	o := &Options{Output: FormatText}
	if !o.UseTUI(&IOStreams{InTTY: true, OutTTY: true}) {
		t.Error("no TUI at a terminal")
	}
	if o.UseTUI(&IOStreams{InTTY: true, OutTTY: true, NoScreen: true}) {
		t.Error("the TUI on a terminal that cannot draw it")
	}
}
