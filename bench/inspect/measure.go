package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
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
// The command is started through the driver's launcher (harness.Launch),
// not directly, so that its peak RSS is its own: started from the
// benchmark's own process (15 MiB and more) every wscope run would read
// 15 MiB or more; from the small launcher the floor is about 2.5 MiB (see
// harness.LauncherFloor), well below any measured command.
func runTimed(ctx context.Context, timeout time.Duration, out io.Writer, bin string, args ...string) *measurement {
	m := &measurement{Exit: -1}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	l, err := harness.Launch(ctx, bin, args...)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	l.Nice = niceness
	if out == nil {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			m.Err = err.Error()
			return m
		}
		defer devnull.Close()
		l.Cmd.Stdout = devnull // an *os.File: the command writes to it directly
	} else {
		l.Cmd.Stdout = out
	}
	stderr := &harness.TailBuffer{Max: 4096}
	l.Cmd.Stderr = stderr
	if err := l.Start(); err != nil {
		m.Err = err.Error()
		return m
	}
	u, err := l.Wait()
	m.Wall, m.CPU, m.RSSKiB, m.Exit, m.Err = u.Wall, u.CPU(), u.RSSKiB, u.Exit, u.Err
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

// niceness is the nice value the measured commands run with (-nice).
var niceness int

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
	fmt.Fprintf(&b, "%s frames (", harness.GroupDigits(c.Frames))
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", harness.GroupDigits(c.Ops[op]), op)
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
