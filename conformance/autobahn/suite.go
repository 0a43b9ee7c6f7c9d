package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// suiteProc is one running wstest.
type suiteProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // its exit, once done is closed
	log  string
}

// startSuite runs the wstest command (WSTEST, a shell command line that may
// carry arguments, e.g. "docker run ... wstest") with args, in a process
// group of its own, output to logPath.
func startSuite(wstest, dir, logPath string, args ...string) (*suiteProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command("sh", append([]string{"-c", wstest + ` "$@"`, "wstest"}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Python 2 buffers a redirected stdout; the log is read while it runs.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting WSTEST (%s): %v", wstest, err)
	}
	p := &suiteProc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// kill ends the suite's process group (it is the group's leader): SIGTERM,
// then SIGKILL after a grace period.
func (p *suiteProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// logTail is the end of the suite's log, for error messages.
func (p *suiteProc) logTail() string {
	data, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(data))
	lines := strings.Split(s, "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

var keyError = regexp.MustCompile(`KeyError: '([0-9.]+)'`)

// problem names what went wrong in the suite when its log says: a case id
// it does not have (a pattern naming no case); "" when the log is silent.
func (p *suiteProc) problem() string {
	data, _ := os.ReadFile(p.log)
	if m := keyError.FindSubmatch(data); m != nil {
		return fmt.Sprintf(" (the suite has no case %s)", m[1])
	}
	return ""
}

// freePort picks a loopback TCP port that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until addr accepts TCP connections, the suite exits,
// or the time is up (the first run unpacks the suite).
func waitListening(ctx context.Context, addr string, p *suiteProc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("wstest exited (%v) before listening on %s:\n%s", p.err, addr, p.logTail())
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wstest did not listen on %s within %s:\n%s", addr, limit, p.logTail())
		}
	}
}

// ask opens url on the suite's fuzzingserver, reads until the suite closes,
// and returns the text message it sent, if any (getCaseCount and
// getCaseInfo send one, updateReports and stopServer none).
func ask(ctx context.Context, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	stop := sync.OnceFunc(func() { conn.Close() })
	go func() { <-ctx.Done(); stop() }()
	// The suite's first frames may have come with its handshake answer,
	// into the dialer's buffer.
	rw := io.ReadWriter(conn)
	if br != nil {
		defer ws.PutReader(br)
		rw = struct {
			io.Reader
			io.Writer
		}{br, conn}
	}
	var text string
	for {
		msg, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			var closed wsutil.ClosedError
			if errors.As(err, &closed) {
				return text, nil
			}
			if ctx.Err() != nil {
				return text, fmt.Errorf("%s: no close within %s", url, timeout)
			}
			return text, err
		}
		if op == ws.OpText && text == "" {
			text = string(msg)
		}
	}
}

// caseList asks the fuzzingserver for its cases' ids, in its order.
func caseList(ctx context.Context, base string) ([]string, error) {
	count, err := ask(ctx, base+"/getCaseCount", 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("getCaseCount: %v", err)
	}
	var n int
	if err := json.Unmarshal([]byte(count), &n); err != nil || n <= 0 {
		return nil, fmt.Errorf("getCaseCount: unexpected answer %q", count)
	}
	ids := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		info, err := ask(ctx, fmt.Sprintf("%s/getCaseInfo?case=%d", base, i), 30*time.Second)
		if err != nil {
			// The suite answers 500 for a case in its list that it does
			// not have: a pattern naming no case.
			return nil, fmt.Errorf("getCaseInfo %d: %v (does the suite have every case the patterns name?)", i, err)
		}
		var ci struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(info), &ci); err != nil || ci.ID == "" {
			return nil, fmt.Errorf("getCaseInfo %d: unexpected answer %q", i, info)
		}
		ids = append(ids, ci.ID)
	}
	return ids, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
