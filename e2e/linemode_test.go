package e2e

import (
	"io"
	"regexp"
	"strings"
	"testing"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// TestConnectLineModeAtATerminal drives connect in a pseudo-terminal: the
// wscat-like line mode with a "> " prompt, "< " for what arrives, and
// slash commands.
func TestConnectLineModeAtATerminal(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	term := startTerminal(t, 24, 80, "connect", srv.URL(), "--show-control", "--no-tui")
	screen, tty := term.screen, term.tty

	screen.waitMatch(t, regexp.MustCompile(`connected to ws://`), step)
	io.WriteString(tty, "hello there\r")
	screen.waitMatch(t, regexp.MustCompile(`^.*< hello there`), step)
	io.WriteString(tty, "/ping are you there\r")
	io.WriteString(tty, "/nope\r")
	screen.waitMatch(t, regexp.MustCompile(`unknown command /nope`), step)
	io.WriteString(tty, "//slash\r")
	screen.waitMatch(t, regexp.MustCompile(`< /slash`), step)
	io.WriteString(tty, "/close 1000 done\r")
	if code := term.exit(t, step); code != 0 {
		t.Fatalf("exit %d\n%s", code, screen)
	}
	got := srv.WaitReceived(2, step)
	if len(got) != 2 || string(got[0].Data) != "hello there" || string(got[1].Data) != "/slash" {
		t.Fatalf("server received %v", got)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1000 || st.Reason != "done" {
		t.Fatalf("close %v %v", st, ok)
	}
}

// TERM=dumb (an editor's shell buffer, a serial console): no TUI, no line
// editing; the line mode with plain reads, and not one escape sequence.
func TestConnectDumbTerminalGetsLineMode(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	term := startTerminalEnv(t, []string{"TERM=dumb"}, 24, 80, "connect", srv.URL(), "--no-history")
	screen, tty := term.screen, term.tty
	screen.waitMatch(t, regexp.MustCompile(`connected to ws://`), step)
	io.WriteString(tty, "hello dumb\r")
	screen.waitMatch(t, regexp.MustCompile(`< hello dumb`), step)
	io.WriteString(tty, "/close 1000 done\r")
	if code := term.exit(t, step); code != 0 {
		t.Fatalf("exit %d\n%s", code, screen)
	}
	if i := strings.IndexByte(screen.String(), 0x1b); i >= 0 {
		t.Errorf("an escape sequence on a dumb terminal at byte %d: %q", i, screen.String()[i:min(i+16, len(screen.String()))])
	}
}

// The line mode edits what is typed (backspace, arrows), keeps the history
// the TUI keeps, across runs, and Ctrl-C closes with 1001 and exits 130.
func TestConnectLineModeEditsAndRemembers(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}
	term := startTerminalEnv(t, state, 24, 80, "connect", srv.URL(), "--no-tui")
	term.screen.waitMatch(t, regexp.MustCompile(`connected to ws://`), step)
	io.WriteString(term.tty, "helxx\x7f\x7flo\r") // two typos, rubbed out
	term.screen.waitMatch(t, regexp.MustCompile(`< hello$`), step)
	io.WriteString(term.tty, "world\r")
	term.screen.waitMatch(t, regexp.MustCompile(`< world$`), step)
	io.WriteString(term.tty, "\x03") // Ctrl-C
	if code := term.exit(t, step); code != 130 {
		t.Fatalf("Ctrl-C: exit %d, want 130", code)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1001 {
		t.Errorf("close %v %v, want 1001", st, ok)
	}

	term = startTerminalEnv(t, state, 24, 80, "connect", srv.URL(), "--no-tui")
	term.screen.waitMatch(t, regexp.MustCompile(`connected to ws://`), step)
	io.WriteString(term.tty, "\x1b[A\x1b[A\r") // up twice: the first line of the last run
	term.screen.waitMatch(t, regexp.MustCompile(`< hello$`), step)
	io.WriteString(term.tty, "/close\r")
	if code := term.exit(t, step); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := srv.WaitReceived(3, step)
	if len(got) != 3 || string(got[0].Data) != "hello" || string(got[2].Data) != "hello" {
		t.Errorf("server received %v", got)
	}
}
