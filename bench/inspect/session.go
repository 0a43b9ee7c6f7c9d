package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// session is one real WebSocket session, recorded by wscope and captured by
// dumpcap at the same time. Its description is kept next to the files
// (session.json) so that -reuse can skip the capture.
type session struct {
	Target    int64  `json:"target_bytes"` // the recording size asked for
	Seed      uint64 `json:"seed"`
	Dir       string `json:"-"`
	Recording string `json:"-"`
	Pcap      string `json:"-"` // "" when there is no capture (no dumpcap)

	RecordingBytes int64   `json:"recording_bytes"`
	PcapBytes      int64   `json:"pcap_bytes"`
	Messages       int     `json:"messages_sent"`
	PayloadBytes   int64   `json:"payload_bytes_sent"`
	Port           int     `json:"port"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectExit    int     `json:"connect_exit"`

	// dumpcap's own summary, "Packets received/dropped on interface ...".
	Captured    bool   `json:"captured"`
	CapReceived int64  `json:"capture_received"`
	CapDropped  int64  `json:"capture_dropped"`
	CapSummary  string `json:"capture_summary"`
	CapNote     string `json:"capture_note,omitempty"` // why there is no capture
}

// sessionDir is where the session of a given target size lives.
func sessionDir(workDir string, target int64) string {
	return filepath.Join(workDir, "session-"+strings.ReplaceAll(harness.FileSize(target), " ", ""))
}

func (s *session) paths(dir string) {
	s.Dir = dir
	s.Recording = filepath.Join(dir, "session.wsrec.jsonl")
	if s.Captured {
		s.Pcap = filepath.Join(dir, "session.pcapng")
	}
}

// loadSession returns the session kept in dir, if it was made for the same
// target and seed and its files are still there, unchanged in size.
func loadSession(dir string, target int64, seed uint64) (*session, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "session.json"))
	if err != nil {
		return nil, false
	}
	s := &session{}
	if json.Unmarshal(data, s) != nil || s.Target != target || s.Seed != seed {
		return nil, false
	}
	s.paths(dir)
	if fi, err := os.Stat(s.Recording); err != nil || fi.Size() != s.RecordingBytes {
		return nil, false
	}
	if s.Pcap != "" {
		if fi, err := os.Stat(s.Pcap); err != nil || fi.Size() != s.PcapBytes {
			return nil, false
		}
	}
	return s, true
}

// makeSession runs one session against the echo server: dumpcap captures
// the loopback port while `wscope connect --record` sends the generated
// messages, until the recording has about target bytes.
func makeSession(c *config, dir string, target int64) (*session, error) {
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &session{Target: target, Seed: c.seed}
	s.paths(dir)

	srv, err := harness.StartEchoServer(c.echoBin, filepath.Join(dir, "echoserver.log"))
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	s.Port = srv.Port

	var cap *capture
	if c.dumpcap != "" {
		pcap := filepath.Join(dir, "session.pcapng")
		cap, err = startCapture(c.dumpcap, s.Port, pcap, filepath.Join(dir, "dumpcap.log"))
		if err != nil {
			return nil, err
		}
		defer cap.kill()
	} else {
		s.CapNote = c.noTshark
	}

	// wscope connect: stdin is a pipe fed by the generator below, stdout
	// (the echoed messages, -o text) goes nowhere.
	ctx, cancel := context.WithTimeout(c.ctx, c.genTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.wscopeBin, "connect", srv.URL, "--record", s.Recording)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	cmd.Stdout = devnull
	stderr := &harness.TailBuffer{Max: 4096}
	cmd.Stderr = stderr
	harness.OwnGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting wscope connect: %w", err)
	}
	g := newGenerator(c.seed)
	bw := bufio.NewWriterSize(stdin, 1<<20)
	var genErr error
	for g.estimate < target {
		if _, genErr = bw.Write(g.next()); genErr != nil {
			break
		}
	}
	if genErr == nil {
		genErr = bw.Flush()
	}
	stdin.Close()
	waitErr := cmd.Wait()
	s.ConnectSeconds = time.Since(start).Seconds()
	s.ConnectExit = -1
	if cmd.ProcessState != nil {
		s.ConnectExit = cmd.ProcessState.ExitCode()
	}
	s.Messages, s.PayloadBytes = g.n, g.payload
	if waitErr != nil || s.ConnectExit != 0 {
		return nil, fmt.Errorf("wscope connect %s --record: %v (exit %d) %s", srv.URL, waitErr, s.ConnectExit, strings.TrimSpace(stderr.String()))
	}
	if genErr != nil {
		return nil, fmt.Errorf("writing to wscope connect: %w", genErr)
	}

	if cap != nil {
		// The kernel hands packets to dumpcap asynchronously: give it a
		// moment to drain its buffer before it is told to stop.
		time.Sleep(time.Second)
		if err := cap.stop(); err != nil {
			return nil, err
		}
		s.Captured = true
		s.CapReceived, s.CapDropped, s.CapSummary = cap.received, cap.dropped, cap.summary
		s.paths(dir)
		fi, err := os.Stat(s.Pcap)
		if err != nil {
			return nil, err
		}
		s.PcapBytes = fi.Size()
	}
	fi, err := os.Stat(s.Recording)
	if err != nil {
		return nil, err
	}
	s.RecordingBytes = fi.Size()

	data, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "session.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

// ---- the messages ----

// generator makes the session's messages: JSON-like text of 32 B to 4 KiB,
// sizes spread log-uniformly (as many between 32 and 64 bytes as between 2
// and 4 KiB; mean about 840 bytes), from a fixed seed.
type generator struct {
	rnd      *rand.Rand
	n        int
	payload  int64
	estimate int64 // expected recording size so far
	line     []byte
	filler   []byte
}

// Per message the recording holds four lines (a frame and a msg event each
// way), each with the payload JSON-escaped; lineOverhead is what the four
// lines add to that, measured on real recordings (times, sequence numbers
// and mask keys vary a little in length).
const lineOverhead = 475

var kinds = []string{"trade", "quote", "book", "order", "cancel", "fill", "heartbeat", "position"}
var symbols = []string{"BTC-USD", "ETH-USD", "SOL-EUR", "ADA-USDT", "DOT-GBP", "XRP-JPY"}

func newGenerator(seed uint64) *generator {
	g := &generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))}
	// A text of words to cut filler from: printable, no quotes or
	// backslashes, with spaces, so that it compresses and escapes like
	// ordinary JSON string content.
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua 0 1 2 3 4 5 6 7 8 9 price size side bid ask status open filled partial rejected 2026-11-23T10:22:00Z")
	for len(g.filler) < 16<<10 {
		g.filler = append(g.filler, words[g.rnd.IntN(len(words))]...)
		g.filler = append(g.filler, ' ')
	}
	return g
}

// next returns the next message, newline-terminated.
func (g *generator) next() []byte {
	size := int(math.Round(32 * math.Pow(128, g.rnd.Float64()))) // 32..4096
	b := g.line[:0]
	if size < 120 {
		b = fmt.Appendf(b, `{"seq":%d,"d":"`, g.n)
	} else {
		b = fmt.Appendf(b, `{"seq":%d,"type":"%s","sym":"%s","px":%d.%02d,"qty":%d,"ts":%d,"data":"`,
			g.n, kinds[g.rnd.IntN(len(kinds))], symbols[g.rnd.IntN(len(symbols))],
			g.rnd.IntN(90000)+100, g.rnd.IntN(100), g.rnd.IntN(1000)+1, 1795000000000+int64(g.n)*3)
	}
	pad := size - len(b) - 2
	if pad < 0 {
		pad = 0
	}
	off := g.rnd.IntN(len(g.filler) - pad)
	b = append(b, g.filler[off:off+pad]...)
	b = append(b, `"}`...)
	quotes := bytes.Count(b, []byte{'"'})
	g.payload += int64(len(b))
	g.estimate += 4*int64(len(b)+quotes) + lineOverhead + 4*int64(digits(g.n))
	g.n++
	g.line = append(b, '\n')
	return g.line
}

func digits(n int) int { return len(strconv.Itoa(n)) }

// ---- the echo server ----

// ---- dumpcap ----

type capture struct {
	cmd      *exec.Cmd
	log      *os.File
	logPath  string
	done     chan struct{}
	mu       sync.Mutex
	stderr   bytes.Buffer
	received int64
	dropped  int64
	summary  string
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log.Write(p)
	return c.stderr.Write(p)
}

func (c *capture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// startCapture starts dumpcap on the loopback interface for one TCP port,
// with a 512 MiB kernel buffer, and waits until it is really capturing:
// dumpcap says "Capturing on" a second or more before its first packet, so
// UDP datagrams to a port of our own (in the capture filter too) are sent
// until dumpcap counts one. They stay in the capture; wscope and tshark
// skip them.
func startCapture(bin string, port int, out, logPath string) (*capture, error) {
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	probePort := probe.LocalAddr().(*net.UDPAddr).Port
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c := &capture{log: logFile, logPath: logPath, done: make(chan struct{})}
	filter := fmt.Sprintf("tcp port %d or udp port %d", port, probePort)
	c.cmd = exec.Command(bin, "-i", "lo", "-f", filter, "-B", "512", "-w", out)
	c.cmd.Stderr = c
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting dumpcap: %w", err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	deadline := time.After(30 * time.Second)
	for i := 0; !strings.Contains(c.text(), "Packets:"); i++ {
		if strings.Contains(c.text(), "Capturing on") {
			probe.WriteToUDP(fmt.Appendf(nil, "wscope bench capture probe %d", i), probe.LocalAddr().(*net.UDPAddr))
		}
		select {
		case <-c.done:
			logFile.Close()
			return nil, fmt.Errorf("dumpcap exited before capturing (is this user allowed to capture on lo? run as root or add it to the wireshark group): %s", strings.TrimSpace(c.text()))
		case <-deadline:
			c.kill()
			return nil, fmt.Errorf("dumpcap did not capture a probe packet within 30s: %s", strings.TrimSpace(c.text()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return c, nil
}

// capStats finds dumpcap's summary line. (Compiled when needed, not at
// start-up: the rusage-exec launcher is this same program, and its RSS is
// the floor of every measurement.)
func capStats() *regexp.Regexp {
	return regexp.MustCompile(`Packets received/dropped on interface [^:]*(?::[^:]*)?: (\d+)/(\d+)[^\n]*`)
}

// stop ends the capture with SIGINT, as Ctrl-C would, and reads dumpcap's
// summary of received and dropped packets.
func (c *capture) stop() error {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
		return errors.New("dumpcap did not stop within 30s of SIGINT")
	}
	c.log.Close()
	text := c.text()
	m := capStats().FindStringSubmatch(text)
	if m == nil {
		return fmt.Errorf("dumpcap printed no packet statistics (see %s): %s", c.logPath, strings.TrimSpace(text))
	}
	c.received, _ = strconv.ParseInt(m[1], 10, 64)
	c.dropped, _ = strconv.ParseInt(m[2], 10, 64)
	c.summary = strings.TrimSpace(m[0])
	return nil
}

func (c *capture) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
	c.log.Close()
}
