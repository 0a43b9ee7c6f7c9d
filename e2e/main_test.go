package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the wscope binary under test, built once by TestMain (with the
// race detector when the tests run with it).
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wscope-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "wscope")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "..")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wscope:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnv is the environment of every run: the race runtime's one-second
// pause at exit is dropped, which matters over a hundred runs.
var testEnv = append(os.Environ(), "GORACE=atexit_sleep_ms=0")

// result is what a finished wscope run left behind.
type result struct {
	Code   int
	Stdout string
	Stderr string
}

// run executes wscope with args and stdin, bounded by a timeout, and
// returns its exit status and output.
func run(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	return runWith(t, in, 20*time.Second, args...)
}

func runWith(t testing.TB, stdin io.Reader, timeout time.Duration, args ...string) result {
	t.Helper()
	return runIn(t, testEnv, stdin, timeout, args...)
}

// runEnv is run with an environment of its own.
func runEnv(t testing.TB, env []string, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, env, strings.NewReader(stdin), 20*time.Second, args...)
}

func runIn(t testing.TB, env []string, stdin io.Reader, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = env
	c.Stdin = stdin // nil: /dev/null, as in CI
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("wscope %s: timed out after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), timeout, out.String(), errOut.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("wscope %s: %v", strings.Join(args, " "), err)
	}
	return result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// expectCode fails the test when r did not exit with code.
func (r result) expectCode(t testing.TB, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, code, bounded(r.Stdout), bounded(r.Stderr))
	}
}

// bounded is s for a failure message: whole when short, else its start and
// end with the size between, never megabytes.
func bounded(s string) string {
	const keep = 1 << 10
	if len(s) <= 2*keep {
		return s
	}
	return fmt.Sprintf("%s\n[... %d bytes in all ...]\n%s", s[:keep], len(s), s[len(s)-keep:])
}

// freeAddr returns a loopback address that nothing listens on, for a
// server the test starts there.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proc is a wscope process left running: listen, or connect fed live.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *lines
	stderr *lines
	done   chan struct{}
	code   int
}

// start runs wscope in the background; it is killed at the end of the test
// if still running.
func start(t testing.TB, args ...string) *proc {
	t.Helper()
	c := exec.Command(bin, args...)
	c.Env = testEnv
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	return startProc(t, c, stdin)
}

// startProc starts c with its output kept line by line, and stdin (if not
// nil) the pipe to its standard input; it is killed at the end of the test
// if still running.
func startProc(t testing.TB, c *exec.Cmd, stdin io.WriteCloser) *proc {
	t.Helper()
	p := &proc{t: t, cmd: c, stdin: stdin, stdout: newLines(), stderr: newLines(), done: make(chan struct{})}
	c.Stdout, c.Stderr = p.stdout, p.stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := c.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		c.Process.Kill()
		<-p.done
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) { p.cmd.Process.Signal(sig) }

// interrupt sends Ctrl-C.
func (p *proc) interrupt() { p.signal(syscall.SIGINT) }

// wait waits for the process to exit and returns its status.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("wscope did not exit within %s\nstdout:\n%s\nstderr:\n%s", timeout, p.stdout, p.stderr)
		return -1
	}
}

// listenAddr waits for `wscope listen` to say where it listens.
func (p *proc) listenAddr() string {
	p.t.Helper()
	line := p.stderr.waitMatch(p.t, regexp.MustCompile(`listening on wss?://(\S+?)(/\S*)? \(`), 10*time.Second)
	m := regexp.MustCompile(`wss?://([^/ ]+)`).FindStringSubmatch(line)
	return m[1]
}

// lines collects a stream and lets a test wait for a line.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	added chan struct{}
}

func newLines() *lines { return &lines{added: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// all returns the complete lines so far.
func (l *lines) all() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// waitMatch waits for a line matching re and returns it.
func (l *lines) waitMatch(t testing.TB, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, line := range l.all() {
			if re.MatchString(line) {
				return line
			}
		}
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("no line matching %q within %s; got:\n%s", re, timeout, l.String())
			return ""
		}
	}
}

// waitLines waits until at least n complete lines arrived.
func (l *lines) waitLines(t testing.TB, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if all := l.all(); len(all) >= n {
			return all
		}
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("wanted %d lines within %s; got:\n%s", n, timeout, l.String())
			return nil
		}
	}
}

// event is one parsed line of -o json output.
type event map[string]any

// parseEvents reads NDJSON output; the header line is skipped.
func parseEvents(t testing.TB, out string) []event {
	t.Helper()
	var evs []event
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if _, ok := e["wsrec"]; ok {
			continue
		}
		evs = append(evs, e)
	}
	return evs
}

// filter returns the events of kind ev (and direction dir, when given).
func filter(evs []event, ev string, dir string) []event {
	var out []event
	for _, e := range evs {
		if e["ev"] == ev && (dir == "" || e["dir"] == dir) {
			out = append(out, e)
		}
	}
	return out
}

// rules returns the violation rule names of an event.
func (e event) rules() []string {
	var out []string
	vs, _ := e["violations"].([]any)
	for _, v := range vs {
		out = append(out, v.(map[string]any)["rule"].(string))
	}
	return out
}

// num returns a numeric field.
func (e event) num(k string) int {
	f, _ := e[k].(float64)
	return int(f)
}

// waitMatchAll waits for a line containing sub and returns everything so far.
func (l *lines) waitMatchAll(t testing.TB, sub string) string {
	t.Helper()
	l.waitMatch(t, regexp.MustCompile(regexp.QuoteMeta(sub)), 5*time.Second)
	return l.String()
}
