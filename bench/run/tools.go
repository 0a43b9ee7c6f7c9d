package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// workload is one input: count messages of size bytes, one per line.
type workload struct {
	name  string
	count int
	size  int
	input string
}

func (w *workload) title() string {
	return fmt.Sprintf("%s × %s text messages", harness.GroupDigits(w.count), harness.SizeName(w.size))
}

// payloadBytes is the number of payload bytes the workload echoes.
func (w *workload) payloadBytes() int64 { return int64(w.count) * int64(w.size) }

// generate writes the workload's input: count lines of exactly size bytes of
// printable ASCII (valid UTF-8, no '>' first, no '\r'), the same on every run.
func generate(w *workload) error {
	f, err := os.Create(w.input)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	line := make([]byte, w.size+1)
	for i := range w.count {
		fillLine(line[:w.size], i)
		line[w.size] = '\n'
		_, err = bw.Write(line)
		if err != nil {
			f.Close()
			return err
		}
	}
	err = bw.Flush()
	if err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fillLine fills p with message i: its number, then pseudo-random printable
// characters from a generator seeded with i.
func fillLine(p []byte, i int) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:;!?#$%&()[]{}+*=/@~^ "
	head := fmt.Sprintf("m%07d ", i)
	n := copy(p, head)
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	for j := n; j < len(p); j++ {
		// xorshift64
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[j] = alphabet[x%uint64(len(alphabet))]
	}
	if len(p) > 0 && p[len(p)-1] == ' ' {
		p[len(p)-1] = '.' // no trailing space, in case a tool trims lines
	}
}

// tool is one client under test.
type tool struct {
	name      string // wscope, bare, wscat
	label     string // as shown in the table
	available bool
	why       string // why it is not available
	bin       string // wscope's binary
	run       func(c *config, url string, w *workload, out string) *measurement
}

// measurement is one run of one tool on one workload.
type measurement struct {
	wall     time.Duration
	rssKiB   int64
	exit     int // -1: killed or did not start
	timedOut bool
	received int    // echoed lines that matched the input, in order
	mismatch string // first difference, if any
	err      string // failure to run, or the tail of the tool's stderr on failure
}

func (m *measurement) ok(w *workload) bool {
	return m.err == "" && !m.timedOut && m.exit == 0 && m.mismatch == "" && m.received == w.count
}

func (m *measurement) summary(w *workload) string {
	s := fmt.Sprintf("%8.3fs %10s msgs/s %8.1f MB/s %7.1f MiB  %d/%d echoed  exit %d",
		m.wall.Seconds(), harness.GroupDigits(int(harness.Rate(m.received, m.wall))),
		harness.MBps(int64(m.received)*int64(w.size), m.wall), float64(m.rssKiB)/1024,
		m.received, w.count, m.exit)
	if m.timedOut {
		s += "  TIMED OUT"
	}
	if m.mismatch != "" {
		s += "  MISMATCH: " + m.mismatch
	}
	if m.err != "" {
		s += "  ERROR: " + harness.LastLine(m.err)
	}
	return s
}

// ---- wscope and the bare client: tool URL < input > output ----

func prepareWscope(c *config, binDir string) *tool {
	return prepareWscopeBin(c, binDir, "wscope", "wscope", c.wscopeBin)
}

// prepareWscopeBin is wscope from bin, or built from the repository when
// bin is "".
func prepareWscopeBin(c *config, binDir, name, label, bin string) *tool {
	t := &tool{name: name, label: label, bin: bin}
	if bin == "" {
		bin = filepath.Join(binDir, "wscope")
		os.Remove(bin) // never benchmark a stale binary
		out, err := harness.GoBuild(c.root, bin, ".")
		if err != nil {
			t.why = "build failed"
			logf("wscope: build failed (go build -o bench/.bin/wscope .): %v\n%s", err, indent(out))
			return t
		}
	} else if _, err := os.Stat(bin); err != nil {
		t.why = "binary not found"
		logf("wscope: %v", err)
		return t
	}
	t.available, t.bin = true, bin
	t.run = func(c *config, url string, w *workload, out string) *measurement {
		args := append([]string{"connect", url}, c.wscopeArgs...)
		return runFiles(c, bin, args, w, out)
	}
	return t
}

func prepareBare(c *config, binDir string) *tool {
	t := &tool{name: "bare", label: "bare gobwas/ws client"}
	bin := filepath.Join(binDir, "bareclient")
	out, err := harness.GoBuild(c.root, bin, "./bench/bareclient")
	if err != nil {
		t.why = "build failed"
		logf("bare client: build failed: %v\n%s", err, indent(out))
		return t
	}
	t.available = true
	t.run = func(c *config, url string, w *workload, out string) *measurement {
		return runFiles(c, bin, []string{"-q", url}, w, out)
	}
	return t
}

// runFiles runs bin args < w.input > out and checks out against the input.
func runFiles(c *config, bin string, args []string, w *workload, out string) *measurement {
	m := runTool(c, bin, args, w, out)
	if m.exit == -1 && !m.timedOut {
		return m // it did not run
	}
	got, err := os.Open(out)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer got.Close()
	chk, err := newChecker(w.input)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer chk.close()
	br := bufio.NewReaderSize(got, 1<<20)
	var buf []byte
	for {
		line, rerr := readLine(br, &buf)
		if len(line) > 0 || rerr == nil {
			chk.line(line)
		}
		if rerr != nil {
			if rerr != io.EOF {
				m.err = rerr.Error()
			}
			break
		}
	}
	m.received, m.mismatch = chk.n, chk.mismatch
	return m
}

// runTool runs bin args < w.input > out, measured.
func runTool(c *config, bin string, args []string, w *workload, out string) *measurement {
	m := &measurement{exit: -1}
	in, err := os.Open(w.input)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer in.Close()
	of, err := os.Create(out)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer of.Close()

	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	l, err := harness.Launch(ctx, bin, args...)
	if err != nil {
		m.err = err.Error()
		return m
	}
	stderr := &harness.TailBuffer{Max: 4096}
	l.Cmd.Stdin = in
	l.Cmd.Stdout = of
	l.Cmd.Stderr = stderr

	start := time.Now()
	err = l.Start()
	if err != nil {
		m.err = err.Error()
		return m
	}
	u, err := l.Wait()
	finish(m, u, time.Since(start), err, ctx, stderr)
	return m
}

// finish records the wall time, exit status, peak RSS and errors of a
// command run through the launcher (harness.Launch): a process group of
// its own, which the timeout kills whole, so a tool started through a
// wrapper script leaves nothing running behind it. A command killed
// before the launcher could report keeps the time it ran, elapsed.
func finish(m *measurement, u harness.Usage, elapsed time.Duration, waitErr error, ctx context.Context, stderr *harness.TailBuffer) {
	m.wall, m.exit, m.rssKiB = u.Wall, u.Exit, u.RSSKiB // ru_maxrss: KiB on Linux, as GNU time -f %M
	if m.wall == 0 {
		m.wall = elapsed
	}
	if ctx.Err() == context.DeadlineExceeded {
		m.timedOut = true
	}
	if waitErr != nil || m.exit != 0 {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && waitErr != nil {
			msg = waitErr.Error()
		}
		m.err = msg
	}
}

// ---- wscat ----

// probe is sent to wscat until it comes back: wscat drops the stdin lines it
// reads before its connection is open, so the input is written only after
// that.
const probe = "__wscope_bench_probe__"

func prepareWscat(c *config, benchDir string) *tool {
	t := &tool{name: "wscat", label: "wscat"}
	bin := filepath.Join(benchDir, "node_modules", ".bin", "wscat")
	if _, err := os.Stat(bin); err != nil {
		logf("wscat: not installed, running npm ci in bench/")
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = benchDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.why = "npm ci failed"
			logf("wscat: npm ci failed: %v\n%s", err, indent(out))
			return t
		}
		if _, err := os.Stat(bin); err != nil {
			t.why = "not installed"
			logf("wscat: %v", err)
			return t
		}
	}
	if v := packageVersion(filepath.Join(benchDir, "node_modules", "wscat", "package.json")); v != "" {
		t.label = "wscat " + v
	}
	t.available = true
	t.run = func(c *config, url string, w *workload, out string) *measurement {
		return runWscat(c, bin, url, w, out)
	}
	return t
}

func packageVersion(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(data, &p) != nil {
		return ""
	}
	return p.Version
}

// runWscat runs wscat -c URL with its stdin held open: probe lines until one
// is echoed (the connection is open), then the input, then stdin stays open
// until every message has been echoed (wscat exits at stdin EOF without
// waiting for anything), then it is closed. The echoed lines are checked as
// they arrive on wscat's stdout; its "> " prompts are stripped.
func runWscat(c *config, bin, url string, w *workload, out string) *measurement {
	m := &measurement{exit: -1}
	in, err := os.Open(w.input)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer in.Close()
	chk, err := newChecker(w.input)
	if err != nil {
		m.err = err.Error()
		return m
	}
	defer chk.close()
	var save *bufio.Writer
	if c.keep {
		f, err := os.Create(out)
		if err == nil {
			defer f.Close()
			save = bufio.NewWriterSize(f, 1<<20)
			defer save.Flush()
		}
	}

	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	l, err := harness.Launch(ctx, bin, "--no-color", "-c", url)
	if err != nil {
		m.err = err.Error()
		return m
	}
	stderr := &harness.TailBuffer{Max: 4096}
	l.Cmd.Stderr = stderr
	stdin, err := l.Cmd.StdinPipe()
	if err != nil {
		m.err = err.Error()
		return m
	}
	stdout, err := l.Cmd.StdoutPipe()
	if err != nil {
		m.err = err.Error()
		return m
	}

	var (
		connected  = make(chan struct{})
		allEchoed  = make(chan struct{})
		readerDone = make(chan struct{})
		once       sync.Once
	)
	start := time.Now()
	err = l.Start()
	if err != nil {
		m.err = err.Error()
		return m
	}

	go func() {
		defer close(readerDone)
		br := bufio.NewReaderSize(stdout, 1<<20)
		var buf []byte
		done := false
		for {
			line, rerr := readLine(br, &buf)
			if len(line) > 0 || rerr == nil {
				for bytes.HasPrefix(line, []byte("> ")) {
					line = line[2:]
				}
				if save != nil {
					save.Write(line)
					save.WriteByte('\n')
				}
				switch {
				case string(line) == probe:
					once.Do(func() { close(connected) })
				case len(line) == 0 && rerr != nil:
					// Prompts after the last line.
				default:
					chk.line(line)
					if !done && chk.n+chk.bad >= w.count {
						done = true
						close(allEchoed)
					}
				}
			}
			if rerr != nil {
				return
			}
		}
	}()

	go func() {
		defer stdin.Close()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
	probing:
		for {
			_, err := io.WriteString(stdin, probe+"\n")
			if err != nil {
				return
			}
			select {
			case <-connected:
				break probing
			case <-readerDone:
				return
			case <-tick.C:
			}
		}
		_, err := io.Copy(stdin, in)
		if err != nil {
			return
		}
		select {
		case <-allEchoed:
		case <-readerDone:
		}
	}()

	<-readerDone
	u, err := l.Wait()
	finish(m, u, time.Since(start), err, ctx, stderr)
	m.received, m.mismatch = chk.n, chk.mismatch
	return m
}

// ---- checking echoes against the input ----

// checker compares echoed lines, in order, with the input's lines.
type checker struct {
	f        *os.File
	exp      *bufio.Reader
	buf      []byte
	n        int // lines that matched
	bad      int // lines that did not match, or extra lines
	mismatch string
}

func newChecker(input string) (*checker, error) {
	f, err := os.Open(input)
	if err != nil {
		return nil, err
	}
	return &checker{f: f, exp: bufio.NewReaderSize(f, 1<<20)}, nil
}

func (c *checker) close() { c.f.Close() }

func (c *checker) line(got []byte) {
	want, err := readLine(c.exp, &c.buf)
	if err != nil && len(want) == 0 {
		c.bad++
		if c.mismatch == "" {
			c.mismatch = fmt.Sprintf("extra line after %d: %q", c.n, clip(got))
		}
		return
	}
	if !bytes.Equal(got, want) {
		c.bad++
		if c.mismatch == "" {
			c.mismatch = fmt.Sprintf("line %d: got %q (%d bytes), want %q (%d bytes)",
				c.n+c.bad, clip(got), len(got), clip(want), len(want))
		}
		return
	}
	if c.bad == 0 {
		c.n++
	}
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// readLine returns the next line of br without its '\n'. A line longer than
// br's buffer is assembled in *buf. At the end of the input it returns the
// unterminated rest (maybe empty) with io.EOF.
func readLine(br *bufio.Reader, buf *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*buf = append((*buf)[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = br.ReadSlice('\n')
			*buf = append(*buf, line...)
		}
		line = *buf
	}
	if err == nil {
		line = line[:len(line)-1]
	}
	return line, err
}

func indent(b []byte) string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
