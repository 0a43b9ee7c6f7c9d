// Command tuiload measures the TUI under a flood (docs/benchmarks.md,
// "The TUI under a flood"): `wscope connect URL` runs in a pseudo-terminal
// against a server that sends N text frames as fast as the connection
// takes them. While they arrive the driver presses ? (the help screen)
// and times how long the screen takes to show it; it samples the resident
// memory of wscope throughout. It runs once per --scrollback value, to
// show the memory bounded by it.
//
//	go run ./bench/tuiload                          # 1,000,000 frames; scrollback 10,000 and 100,000; rewrites docs/benchmarks.md
//	go run ./bench/tuiload -frames 200000 -update-docs=false
//
// Only the wscope binary is driven, through its terminal, as a user would.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/creack/pty"
	"github.com/gobwas/ws"

	"github.com/wscope/wscope/bench/internal/harness"
)

const driver = harness.Driver("bench/tuiload")

// helpMarker is a line only the help screen shows.
const helpMarker = "commands in the send box"

func main() {
	frames := flag.Int("frames", 1000000, "text frames the server sends")
	size := flag.Int("size", 32, "payload of each frame, bytes")
	scrollbacks := flag.String("scrollback", "10000,100000", "comma-separated --scrollback values, one run each")
	presses := flag.Int("presses", 20, "key presses timed while the frames arrive (at most; one every 100 ms or so until the last frame is sent)")
	wscopeBin := flag.String("wscope", "", "use this wscope binary instead of building it from the repository")
	update := flag.Bool("update-docs", true, "write the results section of docs/benchmarks.md")
	docs := flag.String("docs", "docs/benchmarks.md", "documentation file whose results section is rewritten")
	nice := flag.Int("nice", 0, "run the whole benchmark (driver, server, wscope) at this nice value in a scheduling group of its own; negative needs root")
	flag.Parse()
	if err := harness.RunNiced(*nice); err != nil {
		driver.Fatalf("-nice: %v", err)
	}
	sbs, err := harness.Counts("scrollback", "row count", *scrollbacks)
	if err != nil {
		driver.Fatalf("%v", err)
	}
	driver.Run(func(ctx context.Context, root string) error {
		bin, err := driver.WscopeBin(root, *wscopeBin)
		if err != nil {
			return err
		}
		r := &report{Machine: harness.DescribeMachine(root), LoadStart: harness.LoadAverage(), Frames: *frames, Size: *size}
		for _, sb := range sbs {
			run, err := runOnce(ctx, bin, *frames, *size, sb, *presses)
			if err != nil {
				return fmt.Errorf("--scrollback %d: %w", sb, err)
			}
			r.Runs = append(r.Runs, run)
		}
		r.LoadEnd = harness.LoadAverage()
		return driver.Publish(root, "tuiload-latest", r.markdown(), r, harness.Docs{
			Path: harness.Abs(root, *docs), Begin: beginMarker, End: endMarker,
			Heading: "## The TUI under a flood",
		}, *update, false)
	})
}

// run is what one --scrollback value measured.
type run struct {
	Scrollback int             `json:"scrollback"`
	SendTime   time.Duration   `json:"send_ns"` // first frame to the last one taken by the connection
	PeakRSS    int64           `json:"peak_rss"`
	EndRSS     int64           `json:"end_rss"`
	Presses    []time.Duration `json:"presses_ns"` // key press to help screen, while frames arrived
	Missed     int             `json:"missed"`     // presses not answered within a second
}

func runOnce(ctx context.Context, bin string, frames, size, scrollback, presses int) (run, error) {
	r := run{Scrollback: scrollback}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	defer ln.Close()
	started := make(chan time.Time, 1)
	sent := make(chan time.Time, 1)
	go flood(ln, frames, size, started, sent)

	cmd := exec.CommandContext(ctx, bin, "connect", "ws://"+ln.Addr().String()+"/", "--scrollback", strconv.Itoa(scrollback), "--no-history")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		return r, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		tty.Close()
	}()
	screen := &output{}
	go io.Copy(screen, tty)
	go answerQueries(tty, screen)

	// Memory, sampled until the end.
	stopRSS := make(chan struct{})
	var rssWG sync.WaitGroup
	rssWG.Go(func() {
		for {
			select {
			case <-stopRSS:
				return
			case <-time.After(50 * time.Millisecond):
				r.PeakRSS = max(r.PeakRSS, harness.ProcStatus(cmd.Process.Pid, "VmRSS:"))
			}
		}
	})

	var t0 time.Time
	select {
	case t0 = <-started:
	case <-time.After(15 * time.Second):
		return r, errors.New("wscope did not connect within 15 s")
	}
	time.Sleep(50 * time.Millisecond) // the first screen
	io.WriteString(tty, "\x1b")       // out of the send box
	// A key right behind a lone ESC would read as alt+key.
	time.Sleep(200 * time.Millisecond)
	var done time.Time
	for i := 0; i < presses; i++ {
		select {
		case done = <-sent:
		default:
		}
		if !done.IsZero() {
			break
		}
		// The close and the next open must not fall into one frame of
		// the renderer (60 per second): the screen would not change.
		time.Sleep(100 * time.Millisecond)
		from := screen.len()
		t := time.Now()
		io.WriteString(tty, "?")
		if screen.waitFor(helpMarker, from, time.Second) {
			r.Presses = append(r.Presses, time.Since(t))
		} else {
			r.Missed++
		}
		io.WriteString(tty, "?") // help closed again
	}
	if done.IsZero() {
		select {
		case done = <-sent:
		case <-time.After(5 * time.Minute):
			return r, errors.New("the frames were not all taken within 5 minutes")
		}
	}
	r.SendTime = done.Sub(t0)
	time.Sleep(time.Second) // what the socket buffers still held
	r.EndRSS = harness.ProcStatus(cmd.Process.Pid, "VmRSS:")
	close(stopRSS)
	rssWG.Wait()
	r.PeakRSS = max(r.PeakRSS, harness.ProcStatus(cmd.Process.Pid, "VmHWM:"))
	io.WriteString(tty, "q")
	driver.Logf("--scrollback %d: %d frames taken in %s (%.0f frames/s), key presses %v (%d missed), peak RSS %s",
		scrollback, frames, r.SendTime.Round(time.Millisecond), float64(frames)/r.SendTime.Seconds(), r.Presses, r.Missed, harness.MiB(r.PeakRSS))
	return r, nil
}

// flood accepts one client and sends it frames text frames of size bytes
// as fast as it takes them, then drains it until it leaves.
func flood(ln net.Listener, frames, size int, started, sent chan<- time.Time) {
	nc, err := ln.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	started <- time.Now()
	go io.Copy(io.Discard, nc)
	bw := bufio.NewWriterSize(nc, 256<<10)
	p := bytes.Repeat([]byte("x"), size)
	for i := range frames {
		copy(p, strconv.Itoa(i))
		if err := ws.WriteHeader(bw, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(size)}); err != nil {
			return
		}
		if _, err := bw.Write(p); err != nil {
			return
		}
	}
	bw.Flush()
	sent <- time.Now()
	time.Sleep(time.Minute) // until the driver kills the client
}

// output is what the terminal showed, appended.
type output struct {
	mu  sync.Mutex
	buf []byte
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.buf = append(o.buf, p...)
	// Keep the tail only: a flood draws megabytes.
	if len(o.buf) > 64<<20 {
		o.buf = slices.Clone(o.buf[len(o.buf)-(1<<20):])
	}
	o.mu.Unlock()
	return len(p), nil
}

func (o *output) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf)
}

// waitFor reports whether s appears after offset from within d.
func (o *output) waitFor(s string, from int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		o.mu.Lock()
		from = min(from, len(o.buf))
		found := bytes.Contains(o.buf[from:], []byte(s))
		o.mu.Unlock()
		if found {
			return true
		}
	}
	return false
}

// answerQueries replies to the background colour query as a terminal
// would, so the TUI does not wait for it.
func answerQueries(tty io.Writer, o *output) {
	if o.waitFor("]11;?", 0, 5*time.Second) {
		io.WriteString(tty, "\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
	}
}
