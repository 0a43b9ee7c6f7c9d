package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Headless Chromium (Debian's chromium) is the client most users point at
// wscope: its WebSocket stack is tested here as a peer. The browser loads
// e2e/chromium/peer.html from an HTTP server on loopback that the test
// runs; the page takes plans from the test and reports back over the same
// HTTP server, so no DevTools protocol is needed. .ci/run installs chromium
// and sets CI, where a missing browser fails; elsewhere the tests skip.

// chromiumFlags are the flags: no sandbox (CI runs as root in a
// container), no GPU, and nothing that reaches for the network on its own.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
}

// chromiumBound bounds everything one browser does, start-up and all its
// sessions: start-up on a loaded 2-core machine can take seconds, and a
// plan with a 1 MiB message more.
const chromiumBound = 60 * time.Second

func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is not installed (%v): run apt-get install chromium", err)
		}
		t.Skip("chromium is not installed: run apt-get install chromium")
	}
	return path
}

// pageMessage is one message of a plan: text, or binary (base64 in JSON).
type pageMessage struct {
	Text   string `json:"text,omitempty"`
	Binary []byte `json:"b64,omitempty"`
}

func textMsg(s string) pageMessage   { return pageMessage{Text: s} }
func binaryMsg(b []byte) pageMessage { return pageMessage{Binary: b} }

// payload is what the message carries, as a wscope msg event shows it.
func (m pageMessage) payload() []byte {
	if m.Binary != nil {
		return m.Binary
	}
	return []byte(m.Text)
}

// pagePlan is what the page does over one WebSocket: send each message and
// check its echo, then close with Close.
type pagePlan struct {
	URL        string        `json:"url"`
	Protocols  []string      `json:"protocols,omitempty"`
	Messages   []pageMessage `json:"messages"`
	Close      pageClose     `json:"close"`
	DeadlineMS int64         `json:"deadline_ms"`
}

type pageClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Clean  bool   `json:"clean"`
}

// pageEcho is the page's verdict on one echo: ok when it had the opcode
// and the bytes that were sent; diff is the first index that differs.
type pageEcho struct {
	Op     string `json:"op"`
	Len    int    `json:"len"`
	OK     bool   `json:"ok"`
	GotLen int    `json:"got_len"`
	GotOp  string `json:"got_op"`
	Diff   int    `json:"diff"`
}

// pageReport is what the page saw: ws.extensions and ws.protocol after
// open, each echo, the close event.
type pageReport struct {
	Extensions string     `json:"extensions"`
	Protocol   string     `json:"protocol"`
	Echoes     []pageEcho `json:"echoes"`
	Close      *pageClose `json:"close"`
	Steps      []string   `json:"steps"`
	Error      string     `json:"error"`
}

// browser is one headless Chromium with the peer page open.
type browser struct {
	plans    chan []byte
	reports  chan pageReport
	stderr   *lines
	exited   chan struct{} // closed when Chromium has exited
	waitErr  error
	deadline time.Time // chromiumBound after the start
}

// startChromium serves the peer page on loopback and starts Chromium on it;
// both are stopped at the end of the test. One browser runs any number of
// sessions, one after the other.
func startChromium(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	page, err := os.ReadFile("chromium/peer.html")
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{
		plans: make(chan []byte), reports: make(chan pageReport, 1), stderr: newLines(),
		exited: make(chan struct{}), deadline: time.Now().Add(chromiumBound),
	}
	over := make(chan struct{})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The page polls for its next plan; a poll is held for a while, then
	// answered 204 so that no request outlives a few seconds.
	mux.HandleFunc("GET /plan", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		select {
		case plan := <-b.plans:
			w.Header().Set("Content-Type", "application/json")
			w.Write(plan)
		case <-over:
			w.WriteHeader(http.StatusGone)
		case <-time.After(2 * time.Second):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep pageReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&rep); err != nil {
			rep = pageReport{Error: "test: unreadable report: " + err.Error()}
		}
		select {
		case b.reports <- rep:
		case <-over:
		}
	})
	srv := httptest.NewUnstartedServer(mux) // on 127.0.0.1
	srv.Config.ReadHeaderTimeout = step
	srv.Start()

	// A home of its own as well as a profile: Chromium writes to $HOME
	// (~/.pki, ~/.cache) whatever --user-data-dir says.
	home := t.TempDir()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+filepath.Join(home, "profile"), srv.URL+"/")
	c := exec.Command(path, args...)
	c.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	c.Stdout, c.Stderr = b.stderr, b.stderr
	// Its own process group, so that the browser's helpers (zygote,
	// renderer, network service) go with it.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.waitErr = c.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		close(over)
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-b.exited
		waitGroupGone(c.Process.Pid)
		srv.CloseClientConnections()
		srv.Close()
	})
	return b
}

// waitGroupGone waits, briefly, until no process of group pgid is left, so
// that the temporary profile is not removed under a dying helper.
func waitGroupGone(pgid int) {
	for deadline := time.Now().Add(step); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(-pgid, 0) == syscall.ESRCH {
			return
		}
	}
}

// session has the page run plan and returns its report. The page checks
// the echoes itself; a report with an error, or no report before the
// browser's deadline, fails the test.
func (b *browser) session(t *testing.T, plan pagePlan) pageReport {
	t.Helper()
	// The page gives up a little before the test does, so that a hang is
	// reported with the step it hung at.
	plan.DeadlineMS = (time.Until(b.deadline) - 2*time.Second).Milliseconds()
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.NewTimer(time.Until(b.deadline))
	defer timeout.Stop()
	// The first plan waits for Chromium to start and load the page.
	select {
	case b.plans <- data:
	case <-b.exited:
		t.Fatalf("chromium exited (%v) before taking a plan\n%s", b.waitErr, b.stderrTail())
	case <-timeout.C:
		t.Fatalf("the page took no plan within %s of Chromium's start\n%s", chromiumBound, b.stderrTail())
	}
	var rep pageReport
	select {
	case rep = <-b.reports:
	case <-b.exited:
		t.Fatalf("chromium exited (%v) during the session\n%s", b.waitErr, b.stderrTail())
	case <-timeout.C:
		t.Fatalf("the page sent no report within %s of Chromium's start\n%s", chromiumBound, b.stderrTail())
	}
	if rep.Error != "" {
		t.Fatalf("page: %s (after steps %v)", rep.Error, rep.Steps)
	}
	return rep
}

// stderrTail is the end of Chromium's output, for a failure message.
func (b *browser) stderrTail() string {
	all := b.stderr.all()
	if len(all) > 20 {
		all = all[len(all)-20:]
	}
	return "chromium output (last lines):\n" + strings.Join(all, "\n")
}

// checkEchoes fails the test for each echo the page found wrong.
func (rep pageReport) checkEchoes(t *testing.T, msgs []pageMessage) {
	t.Helper()
	if len(rep.Echoes) != len(msgs) {
		t.Fatalf("page checked %d echoes, want %d", len(rep.Echoes), len(msgs))
	}
	for i, e := range rep.Echoes {
		if !e.OK {
			got := e.Op
			if e.GotOp != "" {
				got = e.GotOp
			}
			t.Errorf("echo %d: sent %s of %d, got %s of %d, first difference at %d", i+1, e.Op, e.Len, got, e.GotLen, e.Diff)
		}
	}
}

// String is for failure messages: the messages' kinds and sizes.
func (m pageMessage) String() string {
	if m.Binary != nil {
		return fmt.Sprintf("binary(%d)", len(m.Binary))
	}
	return fmt.Sprintf("text(%d)", len(m.Text))
}
