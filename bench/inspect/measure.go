package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// measurement is one timed run of one command.
type measurement struct {
	Wall     time.Duration `json:"wall_ns"`
	CPU      time.Duration `json:"cpu_ns"` // user + system time of the process
	RSSKiB   int64         `json:"peak_rss_kib"`
	Exit     int           `json:"exit"` // -1: killed or did not start
	TimedOut bool          `json:"timed_out,omitempty"`
	Err      string        `json:"error,omitempty"`
}

func (m *measurement) ok() bool { return m.Err == "" && !m.TimedOut && m.Exit == 0 }

// runTimed runs bin args with stdout going to out (nil: /dev/null) and
// measures wall time from start to exit, CPU time (user + system) and peak
// RSS: ru_maxrss, the number GNU time -f %M prints.
//
// The command is started through this program's own rusage-exec mode (see
// launcherMain), not directly: on Linux a child's ru_maxrss is at least the
// peak RSS of the process that started it, because Go starts children with
// vfork semantics (CLONE_VM) and the kernel carries the old address
// space's high-water mark over the exec. Started from the benchmark's own
// process (15 MiB and more) every wscope run would read 15 MiB or more;
// started from the small launcher the floor is about 2.5 MiB (see
// rusageFloor), well below any measured command.
func runTimed(ctx context.Context, timeout time.Duration, out io.Writer, bin string, args ...string) *measurement {
	m := &measurement{Exit: -1}
	self, err := os.Executable()
	if err != nil {
		m.Err = err.Error()
		return m
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append([]string{"rusage-exec", strconv.Itoa(niceness), bin}, args...)...)
	if out == nil {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			m.Err = err.Error()
			return m
		}
		defer devnull.Close()
		cmd.Stdout = devnull // an *os.File: the command writes to it directly
	} else {
		cmd.Stdout = out
	}
	stderr := &harness.TailBuffer{Max: 4096}
	cmd.Stderr = stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		m.Err = err.Error()
		return m
	}
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw} // fd 3 of the launcher: its report
	ownGroup(cmd)

	if err := cmd.Start(); err != nil {
		pw.Close()
		m.Err = err.Error()
		return m
	}
	pw.Close()
	report := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		report <- b
	}()
	err = cmd.Wait()
	var lr launchReport
	if jerr := json.Unmarshal(<-report, &lr); jerr == nil && lr.Err == "" {
		m.Wall, m.CPU, m.RSSKiB, m.Exit = lr.Wall, lr.CPU, lr.RSSKiB, lr.Exit
	} else if lr.Err != "" {
		m.Err = lr.Err
	}
	if ctx.Err() == context.DeadlineExceeded {
		m.TimedOut = true
		m.Exit = -1
	}
	if m.Err == "" && (err != nil || m.Exit != 0) {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && err != nil {
			msg = err.Error()
		}
		m.Err = msg
	}
	return m
}

// launchReport is what the launcher writes on its fd 3.
type launchReport struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	RSSKiB int64         `json:"maxrss_kib"`
	Exit   int           `json:"exit"`
	Err    string        `json:"error,omitempty"`
}

// niceness is the nice value the measured commands run with (-nice).
var niceness int

// launcherMain is the rusage-exec mode: it runs args[1:] at nice value
// args[0] with this process's standard streams, then writes the command's
// wall time, CPU time, peak RSS and exit status as JSON on fd 3, and exits
// with the command's status. It does nothing else, so that its own RSS,
// the floor of the command's ru_maxrss, stays small.
func launcherMain(args []string) int {
	rep := os.NewFile(3, "report")
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rusage-exec NICE COMMAND [ARGS...]")
		return 2
	}
	if n, err := strconv.Atoi(args[0]); err == nil && n != 0 {
		// Linux nice values are per thread, and a child inherits the
		// one of the thread that forks it: stay on this thread.
		runtime.LockOSThread()
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, n); err != nil {
			fmt.Fprintf(os.Stderr, "rusage-exec: nice %d: %v\n", n, err)
			return 126
		}
		// With autogroup scheduling (most desktop and many server
		// kernels), nice only orders the tasks of one session; sessions
		// share the CPUs by their autogroup's nice. This process leads a
		// session of its own (ownGroup), so this sets the priority of
		// this process and the measured command only.
		// Only as a session leader: the autogroup of the caller's session
		// is not ours to change.
		if sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0); errno != 0 || int(sid) != os.Getpid() {
			fmt.Fprintln(os.Stderr, "rusage-exec: not a session leader: the autogroup nice is left alone")
		} else if err := os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(n)), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "rusage-exec: autogroup nice %d: %v\n", n, err)
			return 126
		}
	}
	args = args[1:]
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	var lr launchReport
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
		lr.Wall = time.Since(start)
	}
	code := 127
	if ps := cmd.ProcessState; ps != nil {
		lr.Exit = ps.ExitCode()
		lr.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			lr.RSSKiB = ru.Maxrss // KiB on Linux
		}
		code = lr.Exit
		if code < 0 {
			code = 128 + int(syscall.SIGKILL)
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	} else if err != nil {
		lr.Err = err.Error()
	}
	if rep != nil {
		json.NewEncoder(rep).Encode(&lr)
	}
	return code
}

// rusageFloor is the peak RSS the launcher reports for /bin/true: no
// measured RSS can be below it.
func rusageFloor(ctx context.Context) int64 {
	bin, err := exec.LookPath("true")
	if err != nil {
		return 0
	}
	return runTimed(ctx, 10*time.Second, nil, bin).RSSKiB
}

// ownGroup runs cmd in a session, and so a process group, of its own and
// makes the timeout kill the whole group.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
}

// ---- tshark's output ----

// frameCounter reads the output of tshark -T fields -e frame.number -e
// websocket.opcode -e websocket.payload_length: one line per packet that
// holds WebSocket frames, the frames' opcodes comma-separated when a packet
// holds several. It counts frames by opcode.
type frameCounter struct {
	mu      sync.Mutex
	packets int64
	frames  int64
	ops     map[string]int64
	pw      *io.PipeWriter
	done    chan struct{}
}

func newFrameCounter() *frameCounter {
	pr, pw := io.Pipe()
	fc := &frameCounter{ops: map[string]int64{}, pw: pw, done: make(chan struct{})}
	go func() {
		defer close(fc.done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			cols := bytes.Split(sc.Bytes(), []byte{'\t'})
			if len(cols) < 2 || len(cols[1]) == 0 {
				continue
			}
			fc.mu.Lock()
			fc.packets++
			for _, op := range bytes.Split(cols[1], []byte{','}) {
				fc.frames++
				fc.ops[opName(string(op))]++
			}
			fc.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	return fc
}

func (fc *frameCounter) Write(p []byte) (int, error) { return fc.pw.Write(p) }

func (fc *frameCounter) close() {
	fc.pw.Close()
	<-fc.done
}

// opName names a WebSocket opcode as tshark prints it (a number).
func opName(s string) string {
	switch strings.TrimSpace(s) {
	case "0":
		return "cont"
	case "1":
		return "text"
	case "2":
		return "binary"
	case "8":
		return "close"
	case "9":
		return "ping"
	case "10":
		return "pong"
	}
	return "0x" + s
}

// ---- wscope's --stats -o json ----

type statCount struct {
	N     int64 `json:"n"`
	Bytes int64 `json:"bytes"`
}

type statDir struct {
	Messages statCount            `json:"messages"`
	Frames   map[string]statCount `json:"frames"`
}

type statsReport struct {
	Seconds     float64 `json:"seconds"`
	Connections int     `json:"connections"`
	C2S         statDir `json:"c2s"`
	S2C         statDir `json:"s2c"`
}

// counts is what a tool found in a session: frames by opcode, both
// directions together, and messages.
type counts struct {
	Frames   int64            `json:"frames"`
	Ops      map[string]int64 `json:"frames_by_op"`
	Messages int64            `json:"messages,omitempty"`
	Packets  int64            `json:"packets_with_websocket,omitempty"` // tshark
	Conns    int              `json:"connections,omitempty"`
}

func (c *counts) String() string {
	if c == nil {
		return "?"
	}
	ops := make([]string, 0, len(c.Ops))
	for op := range c.Ops {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "%s frames (", groupDigits(c.Frames))
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", groupDigits(c.Ops[op]), op)
	}
	b.WriteString(")")
	return b.String()
}

func (c *counts) same(o *counts) bool {
	if c == nil || o == nil || c.Frames != o.Frames || len(c.Ops) != len(o.Ops) {
		return false
	}
	for op, n := range c.Ops {
		if o.Ops[op] != n {
			return false
		}
	}
	return true
}

// wscopeCounts runs `wscope inspect FILE --stats -o json` (untimed) and
// returns the frames and messages it found.
func wscopeCounts(c *config, file string) (*counts, error) {
	var out bytes.Buffer
	m := runTimed(c.ctx, c.timeout, &out, c.wscopeBin, "inspect", file, "--stats", "-o", "json")
	if !m.ok() {
		return nil, fmt.Errorf("wscope inspect %s --stats -o json: exit %d: %s", file, m.Exit, m.Err)
	}
	var s statsReport
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("wscope inspect --stats -o json: %v: %.200q", err, out.String())
	}
	cn := &counts{Ops: map[string]int64{}, Conns: s.Connections}
	for _, d := range []statDir{s.C2S, s.S2C} {
		cn.Messages += d.Messages.N
		for op, x := range d.Frames {
			cn.Ops[op] += x.N
			cn.Frames += x.N
		}
	}
	return cn, nil
}

// tsharkArgs is the tshark command line of the benchmark: every packet
// holding WebSocket frames, with their opcodes and lengths.
//
// No -d option is needed: tshark's HTTP heuristics find the upgrade on any
// port. But -o tcp.reassemble_out_of_order:TRUE is: loopback TCP under load
// does retransmit now and then, and a capture can hold a segment before the
// one it follows. tshark 4.0 reassembles out-of-order segments only with
// that preference (off by default); without it its WebSocket dissector
// loses the frame boundaries at the first such segment and decodes the rest
// of the direction as garbage (seen: 368,234 frames, with reserved opcodes,
// instead of 511,754). The frame counts are checked against the recording
// either way.
func tsharkArgs(file string) []string {
	return []string{"-o", "tcp.reassemble_out_of_order:TRUE", "-r", file, "-Y", "websocket",
		"-T", "fields", "-e", "frame.number", "-e", "websocket.opcode", "-e", "websocket.payload_length"}
}

// runTshark times tshark on file and counts the frames it printed.
func runTshark(c *config, file string) (*measurement, *counts) {
	fc := newFrameCounter()
	m := runTimed(c.ctx, c.tsharkTimeout, fc, c.tshark, tsharkArgs(file)...)
	fc.close()
	return m, &counts{Frames: fc.frames, Ops: fc.ops, Packets: fc.packets}
}

// warmCache reads a file once so that every timed run finds it in the page
// cache: the benchmark measures decoding, not the disk.
func warmCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(io.Discard, f, make([]byte, 4<<20))
	return err
}
