// Command proxy measures what `wscope proxy` adds between a client and a
// server: round-trip latency and throughput through the proxy against the
// same client talking to the same server directly, in one run. See
// docs/benchmarks.md.
//
// From the repository root:
//
//	go run ./bench/proxy            # full run, refreshes docs/benchmarks.md
//	go run ./bench/proxy --quick    # smaller counts, one run, docs untouched
//	go run ./bench/proxy -nice -10  # on a busy machine (root)
//
// It builds wscope (go build -o bench/.bin/wscope .) and the echo server
// (bench/echoserver) into bench/.bin and runs the echo server as a
// process of its own. For every measurement of a proxy mode it starts a
// fresh `wscope proxy --listen 127.0.0.1:0 --upstream ECHO --once` (text
// output, -o frames, or text output and --record FILE; stdout to
// /dev/null), waits for its "relaying ..." line on stderr, and runs the
// workload through it with its own gobwas/ws client; the same client runs
// the same workload directly against the echo server. The proxy exits
// after the client's close handshake (--once); its CPU time and peak RSS
// come from the kernel's rusage, through a small launcher process (see
// harness.Launch).
//
// Workloads: sequential round trips of 32-byte text messages (send one,
// wait for its echo, time it), and pipelined throughput with 100,000 ×
// 32 B and 100 × 1 MiB text messages. Every echo is checked. Modes are
// interleaved within each round, in a rotating order, and each cell is
// the median of the rounds.
//
// Linux only: rusage, /proc and the niced run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

type config struct {
	ctx        context.Context // canceled by Ctrl-C
	root       string
	quick      bool
	rtts       int
	warm       int
	rttSize    int
	smallN     int
	smallSize  int
	largeN     int
	largeSize  int
	runs       int
	timeout    time.Duration
	modes      []*mode
	nice       int
	wscopeBin  string
	relayBin   string
	updateDocs bool
	docsPath   string
	workDir    string
}

func main() {
	harness.MaybeLauncher()
	var (
		c     config
		names string
	)
	flag.BoolVar(&c.quick, "quick", false, "smaller counts (2,000 round trips, 10,000 × 32 B, 10 × 1 MiB), one run; docs/benchmarks.md is not rewritten unless -update-docs is given")
	flag.IntVar(&c.rtts, "rtts", 10000, "sequential round trips per latency run")
	flag.IntVar(&c.warm, "warm", 500, "round trips before each latency run that are not counted")
	flag.IntVar(&c.rttSize, "rtt-size", 32, "message size of the round trips, bytes")
	flag.IntVar(&c.smallN, "small", 100000, "number of small pipelined messages")
	flag.IntVar(&c.smallSize, "small-size", 32, "size of a small message, bytes")
	flag.IntVar(&c.largeN, "large", 100, "number of large pipelined messages")
	flag.IntVar(&c.largeSize, "large-size", 1<<20, "size of a large message, bytes")
	flag.IntVar(&c.runs, "runs", 7, "rounds: each mode runs each workload once per round; cells are medians")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "time limit of one measurement")
	flag.StringVar(&names, "modes", "tcp,bare,text,frames,record", "proxy modes to measure besides direct: tcp and bare (the floors: bench/barerelay), text, frames, record")
	flag.IntVar(&c.nice, "nice", 0, "run the whole benchmark (driver, echo server, proxies) at this nice value in a scheduling group of its own; negative needs root")
	flag.StringVar(&c.wscopeBin, "wscope", "", "use this wscope binary instead of building it from the repository")
	flag.BoolVar(&c.updateDocs, "update-docs", true, "rewrite the proxy results section of docs/benchmarks.md")
	flag.StringVar(&c.docsPath, "docs", "docs/benchmarks.md", "documentation file whose proxy results section is rewritten (relative to the repository root)")
	flag.Parse()

	if c.quick {
		harness.QuickDefaults(map[string]string{"rtts": "2000", "small": "10000", "large": "10", "runs": "1", "update-docs": "false"})
	}
	c.runs = max(c.runs, 1)
	c.modes = []*mode{modes[0]}
	for n := range strings.SplitSeq(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, m := range modes[1:] {
			if m.name == n {
				c.modes, found = append(c.modes, m), true
			}
		}
		if !found && n != "" {
			fatalf("unknown mode %q in -modes (want tcp, bare, text, frames, record)", n)
		}
	}
	if c.rtts < 1 || c.rttSize < 8 || c.smallN < 1 || c.smallSize < 8 || c.largeN < 1 || c.largeSize < 8 {
		fatalf("counts must be at least 1 and sizes at least 8 bytes (the message number)")
	}
	if err := harness.RunNiced(c.nice); err != nil {
		fatalf("-nice: %v", err)
	}

	driver.Run(func(ctx context.Context, root string) error {
		c.ctx, c.root, c.docsPath = ctx, root, harness.Abs(root, c.docsPath)
		return run(&c)
	})
}

const driver harness.Driver = "bench/proxy"

var logf, fatalf = driver.Logf, driver.Fatalf

// workload is one job for the client.
type workload struct {
	name  string // latency, small, large
	count int
	size  int
	warm  int // latency: uncounted round trips first
}

func (w *workload) latency() bool { return w.name == "latency" }

func (w *workload) title() string {
	if w.latency() {
		return fmt.Sprintf("%s sequential round trips of %s text messages", harness.GroupDigits(w.count), harness.SizeName(w.size))
	}
	return fmt.Sprintf("%s × %s text messages, pipelined", harness.GroupDigits(w.count), harness.SizeName(w.size))
}

func run(c *config) error {
	benchDir := filepath.Join(c.root, "bench")
	binDir := filepath.Join(benchDir, ".bin")
	c.workDir = filepath.Join(benchDir, ".work", "proxy")
	for _, d := range []string{binDir, c.workDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	echoBin := filepath.Join(binDir, "echoserver")
	if out, err := harness.GoBuild(c.root, echoBin, "./bench/echoserver"); err != nil {
		return fmt.Errorf("building the echo server: %v\n%s", err, out)
	}
	c.relayBin = filepath.Join(binDir, "barerelay")
	if out, err := harness.GoBuild(c.root, c.relayBin, "./bench/barerelay"); err != nil {
		return fmt.Errorf("building the bare relay: %v\n%s", err, out)
	}
	if c.wscopeBin == "" {
		c.wscopeBin = filepath.Join(binDir, "wscope")
		os.Remove(c.wscopeBin) // never benchmark a stale binary
		if out, err := harness.GoBuild(c.root, c.wscopeBin, "."); err != nil {
			return fmt.Errorf("building wscope (go build -o bench/.bin/wscope .): %v\n%s", err, out)
		}
	} else if _, err := os.Stat(c.wscopeBin); err != nil {
		return err
	}

	srv, err := harness.StartEchoServer(echoBin, filepath.Join(c.workDir, "echoserver.log"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	logf("echo server at %s", srv.URL)

	rep := &report{
		config:    c,
		machine:   harness.DescribeMachine(c.root),
		loadStart: harness.LoadAverage(),
		psiStart:  harness.CPUPressure(),
		floorKiB:  harness.LauncherFloor(c.ctx),
		workloads: []*workload{
			{name: "latency", count: c.rtts, size: c.rttSize, warm: c.warm},
			{name: "small", count: c.smallN, size: c.smallSize},
			{name: "large", count: c.largeN, size: c.largeSize},
		},
		results: map[string]map[string]*result{},
	}
	for _, w := range rep.workloads {
		rep.results[w.name] = map[string]*result{}
		for _, m := range c.modes {
			rep.results[w.name][m.name] = &result{}
		}
	}

	started := time.Now()
	for round := range c.runs {
		for _, w := range rep.workloads {
			// A rotating order: no mode always runs first, or right
			// after the same one.
			for k := range c.modes {
				m := c.modes[(k+round)%len(c.modes)]
				if c.ctx.Err() != nil {
					return nil
				}
				harness.Settle(100 * time.Millisecond) // an earlier recording's dirty pages
				ms := measure(c, srv.URL, w, m)
				ms.Round = round + 1
				rep.results[w.name][m.name].add(ms)
				logf("round %d/%d %-7s %-6s %s", round+1, c.runs, w.name, m.name, ms.summary(w))
			}
		}
	}
	rep.elapsed = time.Since(started)
	rep.loadEnd, rep.psiEnd = harness.LoadAverage(), harness.CPUPressure()

	docs := harness.Docs{Path: c.docsPath, Begin: beginMarker, End: endMarker, Heading: "## Proxy: added latency and throughput\n\n"}
	return driver.Publish(c.root, "proxy-latest", rep.markdown(), rep.jsonResults(), docs, c.updateDocs, c.quick)
}

const (
	beginMarker = "<!-- BEGIN PROXY RESULTS: written by `go run ./bench/proxy`; edits between these markers are overwritten -->"
	endMarker   = "<!-- END PROXY RESULTS -->"
)

// measure runs workload w once in mode m: through a fresh proxy, or
// directly against the echo server at echoURL.
func measure(c *config, echoURL string, w *workload, m *mode) *measurement {
	ms := &measurement{Mode: m.name, Workload: w.name}
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()

	url := echoURL
	var p *proxyProc
	rec := filepath.Join(c.workDir, "proxy.wsrec.jsonl")
	if !m.direct() {
		os.Remove(rec)
		var err error
		p, err = startProxy(ctx, binaries{wscope: c.wscopeBin, relay: c.relayBin}, m, echoURL, rec)
		if err != nil {
			ms.Err = err.Error()
			return ms
		}
		url = p.url + "/"
	}
	// Whatever happens to the client, the proxy is waited for (and
	// killed if it lingers) and the recording removed.
	defer func() {
		if p == nil {
			return
		}
		u, err := p.wait(5 * time.Second)
		ms.Proxy = &u
		ms.RecordBytes = fileSize(rec)
		os.Remove(rec)
		if err != nil && ms.Err == "" {
			ms.Err = err.Error()
		}
	}()

	cl, err := dial(ctx, url)
	if err != nil {
		ms.Err = "connecting: " + err.Error()
		return ms
	}
	stop := context.AfterFunc(ctx, func() { cl.conn.Close() })
	defer stop()

	if w.latency() {
		lr, err := roundTrips(cl, w.count, w.warm, w.size)
		if err != nil {
			ms.Err = err.Error()
			cl.conn.Close()
			return ms
		}
		ms.Echoed = len(lr.rtts)
		ms.P50, ms.P90, ms.P99 = lr.percentile(0.50), lr.percentile(0.90), lr.percentile(0.99)
		ms.Max = lr.rtts[len(lr.rtts)-1]
		for _, d := range lr.rtts {
			ms.Elapsed += d
		}
	} else {
		d, got, err := pipelined(cl, w.count, w.size)
		ms.Elapsed, ms.Echoed = d, got
		if err != nil {
			ms.Err = err.Error()
			cl.conn.Close()
			return ms
		}
	}
	if err := cl.close(); err != nil {
		ms.Err = "close handshake: " + err.Error()
	}
	return ms
}
