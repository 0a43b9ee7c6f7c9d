// Command run is the side-by-side benchmark of wscope against its peers:
// wscat 6 (npm) and a bare pipelined gobwas/ws client (bench/bareclient, the
// ceiling of the engine), all talking to the same local echo server
// (bench/echoserver) in one run. See docs/benchmarks.md.
//
// From the repository root:
//
//	go run ./bench/run            # full run, refreshes docs/benchmarks.md
//	go run ./bench/run --quick    # smaller counts, one run, docs untouched
//	bench/run.sh [flags]          # the same, from anywhere
//
// It builds the echo server, the bare client and wscope (go build -o
// bench/.bin/wscope .) into bench/.bin, installs wscat under
// bench/node_modules (npm ci, pinned by bench/package-lock.json) when it is
// not there, generates the inputs deterministically into bench/.work, and for
// each workload and tool runs `tool URL < input > output` under a timeout,
// measuring wall time (process start to exit) and peak RSS (ru_maxrss, the
// number GNU time -f %M prints) through a small launcher process (see
// harness.Launch: started from the driver itself, a tool's peak RSS could
// not read below the driver's), and checking every echoed line against the
// input. A tool that cannot be built or installed is reported as such and
// the others still run.
//
// Linux only: peak RSS comes from the kernel's rusage of each child process
// and the machine description from /proc.
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
	atScale    bool
	smallN     int
	smallSize  int
	largeN     int
	largeSize  int
	runs       int
	timeout    time.Duration
	tools      []string
	wscopeBin  string
	baseline   string // a second wscope binary, run beside the first
	wscopeArgs []string
	updateDocs bool
	docsPath   string
	keep       bool
}

func main() {
	harness.MaybeLauncher()
	var (
		c          config
		tools      string
		wscopeArgs string
	)
	flag.BoolVar(&c.quick, "quick", false, "smaller counts (10,000 x 32 B and 10 x 1 MiB), one run; docs/benchmarks.md is not rewritten unless -update-docs is given")
	flag.BoolVar(&c.atScale, "at-scale", false, "the larger workloads (2,000,000 x 32 B and 1,000 x 1 MiB), wscope and the bare client, 3 runs; results in their own section of docs/benchmarks.md and in bench/results/at-scale.*")
	flag.IntVar(&c.smallN, "small", 100000, "number of small messages")
	flag.IntVar(&c.smallSize, "small-size", 32, "size of a small message, bytes")
	flag.IntVar(&c.largeN, "large", 100, "number of large messages")
	flag.IntVar(&c.largeSize, "large-size", 1<<20, "size of a large message, bytes")
	flag.IntVar(&c.runs, "runs", 5, "runs per tool and workload; the median wall time is reported")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "time limit of one tool run; a tool that hits it is not run again on that workload")
	flag.StringVar(&tools, "tools", "wscope,bare,wscat", "comma-separated tools to run: wscope, wscope-json (-o json), wscope-record (--record FILE), bare, wscat")
	flag.StringVar(&c.wscopeBin, "wscope", "", "use this wscope binary instead of building it from the repository")
	flag.StringVar(&c.baseline, "baseline", "", "also run this wscope binary (say, one built from main) in each wscope mode asked for, as \"baseline\", for before/after ratios from one run")
	flag.StringVar(&wscopeArgs, "wscope-args", "", "extra arguments for `wscope connect`, space-separated")
	flag.BoolVar(&c.updateDocs, "update-docs", true, "write the results section of docs/benchmarks.md")
	flag.StringVar(&c.docsPath, "docs", "docs/benchmarks.md", "documentation file whose results section is rewritten (relative to the repository root)")
	flag.BoolVar(&c.keep, "keep", false, "keep the tools' output files in bench/.work")
	nice := flag.Int("nice", 0, "run the whole benchmark (driver, echo server, tools) at this nice value in a scheduling group of its own; negative needs root")
	flag.Parse()
	if err := harness.RunNiced(*nice); err != nil {
		driver.Fatalf("-nice: %v", err)
	}

	if c.quick {
		harness.QuickDefaults(map[string]string{"small": "10000", "large": "10", "runs": "1", "update-docs": "false"})
	}
	if c.atScale {
		harness.QuickDefaults(map[string]string{"small": "2000000", "large": "1000", "runs": "3", "tools": "wscope,bare"})
	}
	if c.runs < 1 {
		c.runs = 1
	}
	for _, t := range strings.Split(tools, ",") {
		t = strings.TrimSpace(t)
		switch t {
		case "":
		case "wscope", "wscope-json", "wscope-record", "bare", "wscat":
			c.tools = append(c.tools, t)
		default:
			fatalf("unknown tool %q in -tools (want wscope, wscope-json, wscope-record, bare, wscat)", t)
		}
	}
	c.wscopeArgs = strings.Fields(wscopeArgs)

	driver.Run(func(ctx context.Context, root string) error {
		c.ctx, c.root, c.docsPath = ctx, root, harness.Abs(root, c.docsPath)
		return run(&c)
	})
}

const driver harness.Driver = "bench"

var logf, fatalf = driver.Logf, driver.Fatalf

func run(c *config) error {
	benchDir := filepath.Join(c.root, "bench")
	binDir := filepath.Join(benchDir, ".bin")
	workDir := filepath.Join(benchDir, ".work")
	for _, d := range []string{binDir, workDir} {
		err := os.MkdirAll(d, 0o755)
		if err != nil {
			return err
		}
	}

	// Build the harness; without it nothing can run.
	echoBin := filepath.Join(binDir, "echoserver")
	out, err := harness.GoBuild(c.root, echoBin, "./bench/echoserver")
	if err != nil {
		return fmt.Errorf("building the echo server: %v\n%s", err, out)
	}

	var tools []*tool
	var wscope, baseline *tool
	for _, name := range c.tools {
		switch name {
		case "wscope", "wscope-json", "wscope-record":
			if wscope == nil {
				wscope = prepareWscope(c, binDir)
				if c.baseline != "" {
					baseline = prepareWscopeBin(c, binDir, "baseline", "baseline", c.baseline)
				}
			}
			mode, _ := strings.CutPrefix(name, "wscope")
			mode = strings.TrimPrefix(mode, "-")
			tools = append(tools, wscopeMode(c, wscope, mode))
			if baseline != nil {
				tools = append(tools, wscopeMode(c, baseline, mode))
			}
		case "bare":
			tools = append(tools, prepareBare(c, binDir))
		case "wscat":
			tools = append(tools, prepareWscat(c, benchDir))
		}
	}

	workloads := []*workload{
		{name: "small", count: c.smallN, size: c.smallSize},
		{name: "large", count: c.largeN, size: c.largeSize},
	}
	for _, w := range workloads {
		w.input = filepath.Join(workDir, fmt.Sprintf("input-%dx%d.txt", w.count, w.size))
		err := generate(w)
		if err != nil {
			return fmt.Errorf("generating %s: %w", w.input, err)
		}
	}

	srv, err := harness.StartEchoServer(echoBin, filepath.Join(workDir, "echoserver.log"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	logf("echo server at %s", srv.URL)

	res := &report{
		machine:   describeMachine(c, benchDir),
		config:    c,
		workloads: workloads,
		tools:     tools,
		results:   map[string]map[string]*result{},
	}
	for _, w := range workloads {
		res.results[w.name] = map[string]*result{}
		for _, t := range tools {
			res.results[w.name][t.name] = &result{}
		}
	}

	// Interleave the tools within each round so that noise on the machine
	// spreads over all of them.
	for round := 1; round <= c.runs; round++ {
		for _, w := range workloads {
			for _, t := range tools {
				r := res.results[w.name][t.name]
				if !t.available || r.timedOut() {
					// A tool that hung once would only eat the time budget
					// again.
					continue
				}
				if c.ctx.Err() != nil {
					return nil
				}
				out := filepath.Join(workDir, fmt.Sprintf("output-%s-%s.txt", t.name, w.name))
				harness.Settle(100 * time.Millisecond)
				m := t.run(c, srv.URL, w, out)
				if !c.keep {
					os.Remove(out)
				}
				r.add(m)
				logf("run %d/%d %-6s %-5s %s", round, c.runs, t.name, w.name, m.summary(w))
			}
		}
	}

	res.machine.LoadEnd = harness.LoadAverage()
	docs := harness.Docs{Path: c.docsPath, Begin: beginMarker, End: endMarker, Heading: "## Results\n\n"}
	name := "latest"
	if c.atScale {
		docs = harness.Docs{Path: c.docsPath, Begin: atScaleBegin, End: atScaleEnd, Heading: "### At scale\n\n"}
		name = "at-scale"
	}
	return driver.Publish(c.root, name, res.markdown(), res.jsonResults(), docs, c.updateDocs, c.quick)
}
