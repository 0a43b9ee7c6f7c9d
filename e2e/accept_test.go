package e2e

import (
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tp "github.com/wscope/wscope/internal/testpeer"
)

// fileLimit is the open-files limit (soft and hard) the servers of these
// tests run under: small, so that a few dozen connections exhaust it.
const fileLimit = 64

// startLimited runs wscope args... under `ulimit -n fileLimit`. The hard
// limit is lowered too: Go raises the soft limit to the hard one at start.
func startLimited(t *testing.T, args ...string) *proc {
	t.Helper()
	c := exec.Command("/bin/sh", append([]string{"-c", `ulimit -n ` + strconv.Itoa(fileLimit) + ` && exec "$0" "$@"`, bin}, args...)...)
	c.Env = testEnv
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	return startProc(t, c, stdin)
}

var (
	acceptPaused  = regexp.MustCompile(`^wscope: cannot accept connections for now \(.*too many open files\): retrying$`)
	acceptResumed = regexp.MustCompile(`^wscope: accepting connections again$`)
)

// exhaustAndRecover opens fileLimit half-open connections to the server
// at addr (TCP only, not a byte sent: each holds one of its descriptors
// until its handshake timeout), which is more than the server can hold, and
// waits for it to say once that it cannot accept; then it drops them, waits
// for the server to say it accepts again, and returns. served checks that
// a new client is served.
func exhaustAndRecover(t *testing.T, p *proc, addr string, served func()) {
	t.Helper()
	conns := make([]net.Conn, 0, fileLimit)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range fileLimit {
		c, err := net.DialTimeout("tcp", addr, step)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	p.stderr.waitMatch(t, acceptPaused, step)
	// Held a moment longer, so that the server retries accepting (and
	// fails) several times in this one spell.
	time.Sleep(200 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	served()
	p.stderr.waitMatch(t, acceptResumed, step)
	// Said once for the spell: one line before accepting resumed,
	// however many times accepting failed.
	paused := 0
	for _, line := range p.stderr.all() {
		if acceptResumed.MatchString(line) {
			break
		}
		if acceptPaused.MatchString(line) {
			paused++
		}
	}
	if paused != 1 {
		t.Errorf("%d lines say accepting paused before it resumed, want 1:\n%s", paused, bounded(p.stderr.String()))
	}
	select {
	case <-p.done:
		t.Fatalf("the server exited (%d) after accepting paused:\n%s", p.code, bounded(p.stderr.String()))
	default:
	}
}

// echoes checks that a new client of url that sends msgs gets the first
// one back; the client is dropped at cleanup.
func echoes(t *testing.T, url string, msgs ...tp.Msg) {
	t.Helper()
	c := tp.Dial(t, url, tp.ClientOptions{Timeout: step})
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := c.Read(step); err != nil || m.String() != msgs[0].String() {
		t.Fatalf("echo: %v, %v; want %v", m, err, msgs[0])
	}
}

// Out of file descriptors, listen stops accepting for a while, says so
// once, and serves clients again once descriptors are free (issue 15).
func TestListenRecoversFromExhaustedFiles(t *testing.T) {
	t.Parallel()
	p := startLimited(t, "listen", "127.0.0.1:0", "--echo", "--no-tui")
	addr := p.listenAddr()
	exhaustAndRecover(t, p, addr, func() { echoes(t, "ws://"+addr+"/", tp.TextMsg("after the spell")) })
	p.interrupt()
	if code := p.wait(step); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130", code)
	}
}

// The same for proxy: its upstream is another process, with descriptors
// to spare.
func TestProxyRecoversFromExhaustedFiles(t *testing.T) {
	t.Parallel()
	up := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p := startLimited(t, "proxy", "--listen", "127.0.0.1:0", "--upstream", up.URL(), "--no-tui")
	line := p.stderr.waitMatch(t, regexp.MustCompile(`^relaying ws://\S+ to `), step)
	url := strings.Fields(line)[1]
	exhaustAndRecover(t, p, strings.TrimPrefix(url, "ws://"), func() { echoes(t, url+"/", tp.TextMsg("through the relay")) })
	p.interrupt()
	if code := p.wait(step); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130", code)
	}
}

// And for replay --serve, which exited at the first Accept error.
func TestReplayServeRecoversFromExhaustedFiles(t *testing.T) {
	t.Parallel()
	p := startLimited(t, "replay", "../testdata/connect-echo.wsrec.jsonl", "--serve", "127.0.0.1:0")
	line := p.stderr.waitMatch(t, regexp.MustCompile(`serving .* as ws://`), step)
	url := regexp.MustCompile(`ws://\S+`).FindString(line)
	// The recorded server answers once the recorded client has sent its
	// five messages, starting with "hello".
	recorded := []tp.Msg{
		tp.TextMsg("hello"), tp.TextMsg(`{"op":"subscribe","channel":"ticker","id":1}`),
		tp.BinaryMsg([]byte{0, 1, 2, 3, 0xfe, 0xff}), tp.TextMsg("split across frames"), tp.TextMsg(""),
	}
	exhaustAndRecover(t, p, strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"), func() { echoes(t, url, recorded...) })
	p.interrupt()
	if code := p.wait(step); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130", code)
	}
}
