package e2e

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// flakyServer drops its first connection (TCP, no close frame) after
// echoing one message; later connections echo until the client closes,
// unless refuse is set, in which case they are refused with 503.
func flakyServer(t *testing.T, refuse bool) *tp.RawServer {
	var n atomic.Int32
	return tp.NewRawServer(t, func(rc *tp.RawConn) {
		first := n.Add(1) == 1
		if !first && refuse {
			rc.Reject(503, "down for maintenance")
			return
		}
		rc.Accept()
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			switch f.Op {
			case inspect.OpClose:
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, f.Payload))
				return
			case inspect.OpText:
				rc.WriteFrame(tp.ServerFrame(inspect.OpText, f.Payload))
				if first {
					rc.CloseTCP() // gone without a close frame
					return
				}
			}
		}
	})
}

// TestConnectReconnects: the server goes away and comes back; the line
// typed while it was away is sent after, on the new connection.
func TestConnectReconnects(t *testing.T) {
	t.Parallel()
	srv := flakyServer(t, false)
	rec := filepath.Join(t.TempDir(), "r.wsrec.jsonl")
	p := start(t, "connect", srv.URL(), "--reconnect", "--reconnect-max-delay", "300ms", "--record", rec)
	fmt.Fprintln(p.stdin, "one")
	p.stdout.waitMatch(t, regexp.MustCompile(`^one$`), step)
	p.stderr.waitMatch(t, regexp.MustCompile(`reconnect attempt 1 in .* after 1006 Abnormal Closure`), step)
	fmt.Fprintln(p.stdin, "two") // while disconnected, or just after
	p.stderr.waitMatch(t, regexp.MustCompile(`reconnected to ws://.* \(connection 2\)`), step)
	p.stdout.waitMatch(t, regexp.MustCompile(`^two$`), step)
	p.stdin.Close()
	if code := p.wait(step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	evs, _ := readRecording(t, rec)
	k := kinds(evs)
	if k["open"] != 2 || k["note"] < 1 || k["msg s2c"] != 2 {
		t.Errorf("recording holds %v", k)
	}
	checkEndsLast(t, evs)
	// "two" crossed the wire once, on the new connection: a frame event
	// means bytes were written to a socket.
	var twos []int
	for _, e := range evs {
		if e.Kind == inspect.KindFrame && e.Frame.Dir == inspect.ClientToServer && string(e.Frame.Payload) == "two" {
			twos = append(twos, e.Conn)
		}
	}
	if len(twos) != 1 || twos[0] != 2 {
		t.Errorf(`"two" recorded as sent on connections %v, want [2]`, twos)
	}
}

// checkEndsLast checks that no event of a connection follows its end.
func checkEndsLast(t *testing.T, evs []*inspect.Event) {
	t.Helper()
	ended := map[int]bool{}
	for i, e := range evs {
		if ended[e.Conn] && e.Kind != inspect.KindNote && e.Kind != inspect.KindError {
			t.Errorf("event %d (%s) of connection %d comes after its end", i, e.Kind, e.Conn)
		}
		if e.Kind == inspect.KindEnd {
			ended[e.Conn] = true
		}
	}
}

func TestConnectReconnectGivesUp(t *testing.T) {
	t.Parallel()
	srv := flakyServer(t, true)
	p := start(t, "connect", srv.URL(), "--reconnect", "--reconnect-max-delay", "50ms", "--reconnect-attempts", "2")
	fmt.Fprintln(p.stdin, "one")
	if code := p.wait(step); code != 4 {
		t.Fatalf("exit %d, want 4\n%s", code, p.stderr)
	}
	for _, want := range []string{"reconnect attempt 2", "giving up after 2 reconnect attempts"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(p.stderr.String()) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// TestConnectTUIReconnects: at a terminal, --reconnect shows each attempt
// in the TUI, and a line typed after the break goes out on the new
// connection.
func TestConnectTUIReconnects(t *testing.T) {
	t.Parallel()
	srv := flakyServer(t, false)
	term := startTerminal(t, 30, 120, "connect", srv.URL(), "--reconnect", "--reconnect-max-delay", "300ms", "--no-history")
	screen, tty := term.screen, term.tty
	// The rows of received echoes, not the send box, which shows what is
	// typed too.
	echo := func(text string) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`← text +F--- - -{8} +%d %s`, len(text), text))
	}
	screenText(t, screen, "the open connection", func(s string) bool { return strings.Contains(s, "open") })
	io.WriteString(tty, "first\r")
	screenText(t, screen, "the echo of the first line", echo("first").MatchString)
	screenText(t, screen, "the reconnect attempt", func(s string) bool { return strings.Contains(s, "reconnect attempt 1") })
	deadline := time.Now().Add(step)
	for srv.Accepted() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no second connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	io.WriteString(tty, "second\r")
	screenText(t, screen, "the echo on the new connection", echo("second").MatchString)
	screenText(t, screen, "the attempts counted", func(s string) bool { return strings.Contains(s, "reconnect attempts 1") })
	term.quit(t)
	if n := srv.Accepted(); n != 2 {
		t.Errorf("server accepted %d connections, want 2", n)
	}
}
