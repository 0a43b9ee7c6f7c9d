package e2e

import (
	"io"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/creack/pty"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// TestConnectLineModeAtATerminal drives connect in a pseudo-terminal: the
// wscat-like line mode with a "> " prompt, "< " for what arrives, and
// slash commands.
func TestConnectLineModeAtATerminal(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	c := exec.Command(bin, "connect", srv.URL(), "--show-control", "--no-tui")
	c.Env = testEnv
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	screen := newLines()
	go io.Copy(screen, tty)
	// Bubble Tea asks a terminal for its background colour at start-up.
	answerTerminalQueries(t, tty, screen)
	done := make(chan int, 1)
	go func() {
		c.Wait()
		done <- c.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { c.Process.Kill() })

	screen.waitMatch(t, regexp.MustCompile(`connected to ws://`), step)
	io.WriteString(tty, "hello there\r")
	screen.waitMatch(t, regexp.MustCompile(`^.*< hello there`), step)
	io.WriteString(tty, "/ping are you there\r")
	io.WriteString(tty, "/nope\r")
	screen.waitMatch(t, regexp.MustCompile(`unknown command /nope`), step)
	io.WriteString(tty, "//slash\r")
	screen.waitMatch(t, regexp.MustCompile(`< /slash`), step)
	io.WriteString(tty, "/close 1000 done\r")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, screen)
		}
	case <-time.After(step):
		t.Fatalf("still running after /close\n%s", screen)
	}
	got := srv.WaitReceived(2, step)
	if len(got) != 2 || string(got[0].Data) != "hello there" || string(got[1].Data) != "/slash" {
		t.Fatalf("server received %v", got)
	}
	if st, ok := srv.WaitClosed(step); !ok || st.Code != 1000 || st.Reason != "done" {
		t.Fatalf("close %v %v", st, ok)
	}
}
