// Package harness holds what the benchmark drivers (bench/run,
// bench/inspect, bench/proxy) share: finding the repository, the echo
// server process, a bounded output buffer, the marked results section of
// docs/benchmarks.md, the machine's description, a launcher that measures
// a command's CPU time and peak RSS, and a niced run on a busy machine.
package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FindRoot returns the directory of the wscope module's go.mod, looking up
// from the working directory.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/wscope/wscope")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this from inside the wscope repository (no go.mod of github.com/wscope/wscope found above the working directory)")
		}
		dir = parent
	}
}

// UpdateDocs replaces the text between begin and end in the file at path
// with md; a file without the markers gets them appended after heading.
func UpdateDocs(path, md, begin, end, heading string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := begin + "\n\n" + md + end
	i := bytes.Index(data, []byte(begin))
	j := bytes.Index(data, []byte(end))
	var out []byte
	if i >= 0 && j > i {
		out = append(out, data[:i]...)
		out = append(out, section...)
		out = append(out, data[j+len(end):]...)
	} else {
		out = append(out, data...)
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n\n")) {
			out = append(out, '\n')
		}
		out = append(out, heading+section+"\n"...)
	}
	return os.WriteFile(path, out, 0o644)
}

// TailBuffer keeps the last Max bytes written to it.
type TailBuffer struct {
	mu  sync.Mutex
	Max int
	b   []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.Max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.Max:]...)
	}
	return len(p), nil
}

func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// EchoServer is a running bench/echoserver process.
type EchoServer struct {
	URL  string // ws://127.0.0.1:PORT/
	Port int
	cmd  *exec.Cmd
	log  *os.File
}

var echoURL = regexp.MustCompile(`^ws://127\.0\.0\.1:(\d+)/$`)

// StartEchoServer runs the echo server binary on a free loopback port,
// its stderr to logPath, and waits for it to print its URL.
func StartEchoServer(bin, logPath string) (*EchoServer, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting the echo server: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		l, _ := br.ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, br)
	}()
	fail := func(err error) (*EchoServer, error) {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		return nil, err
	}
	select {
	case url := <-line:
		m := echoURL.FindStringSubmatch(url)
		if m == nil {
			return fail(fmt.Errorf("echo server printed %q, not its URL (see %s)", url, logPath))
		}
		port, _ := strconv.Atoi(m[1])
		return &EchoServer{URL: url, Port: port, cmd: cmd, log: logFile}, nil
	case <-time.After(10 * time.Second):
		return fail(errors.New("echo server did not start within 10s"))
	}
}

// Stop interrupts the echo server, kills it if it lingers, and closes its log.
func (s *EchoServer) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.log.Close()
}
