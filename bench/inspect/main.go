// Command inspect benchmarks `wscope inspect` offline: one real WebSocket
// session, recorded by wscope and captured by dumpcap at the same time, read
// back with `wscope inspect -o json` and `--stats` (from the recording and
// from the pcapng) and with tshark decoding the same capture. It reports
// throughput, CPU time and peak RSS at two session sizes, to show that
// wscope's memory stays flat however large the file. See the section
// "Offline inspection" of docs/benchmarks.md.
//
// From the repository root:
//
//	go run ./bench/inspect           # 1 GB and 100 MB recordings; rewrites its section of docs/benchmarks.md
//	go run ./bench/inspect --quick   # 50 MB and 10 MB, one run; docs untouched
//	go run ./bench/inspect -h        # sizes, runs, time limits, -reuse, -profile, ...
//
//	go run ./bench/inspect/profile -cpuprofile F -- inspect FILE -o json
//	                                 # the inspect command in-process, under pprof
//
// The sessions are made in bench/.work/inspect/ (gitignored): the bench echo
// server (bench/echoserver) on loopback, dumpcap capturing its port with a
// 512 MiB buffer, and `wscope connect ws://127.0.0.1:PORT/ --record
// session.wsrec.jsonl` sending generated JSON-like text messages of 32 B to
// 4 KiB until the recording has the size asked for. Without dumpcap and
// tshark (apt-get install tshark) the capture and the tshark rows are
// skipped, with a note saying so.
//
// Linux only: peak RSS is the ru_maxrss of each child process, and the
// machine description comes from /proc.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

type config struct {
	ctx  context.Context
	root string

	sizes         []int64 // ascending; the last is the headline size
	quick         bool
	runs          int
	tsharkRuns    int
	timeout       time.Duration // one wscope run
	tsharkTimeout time.Duration // one tshark run
	tsharkBudget  time.Duration // above this, tshark reads a slice of the big capture
	genTimeout    time.Duration // making one session
	seed          uint64
	reuse         bool
	clean         bool
	profile       bool
	updateDocs    bool
	docsPath      string

	wscopeBin string
	echoBin   string
	dumpcap   string // "" when not installed
	tshark    string
	editcap   string
	noTshark  string // why there is no capture or tshark row
	workDir   string
}

func main() {
	harness.MaybeLauncher()
	var (
		c                 config
		size, small, seed string
	)
	flag.StringVar(&size, "size", "1GB", "size of the large recording (GB = 10⁹ bytes; MB, KB, GiB, MiB also work)")
	flag.StringVar(&small, "small", "100MB", "size of the small recording, to compare peak RSS with (0: no small session)")
	flag.BoolVar(&c.quick, "quick", false, "-size 50MB -small 10MB -runs 1; docs/benchmarks.md is not rewritten unless -update-docs is given")
	flag.IntVar(&c.runs, "runs", 3, "timed runs of each wscope command per size; the median wall time is reported")
	flag.IntVar(&c.tsharkRuns, "tshark-runs", 1, "timed runs of tshark per size")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "time limit of one wscope run")
	flag.DurationVar(&c.tsharkTimeout, "tshark-timeout", 10*time.Minute, "time limit of one tshark run")
	flag.DurationVar(&c.tsharkBudget, "tshark-budget", 5*time.Minute, "if tshark on the large capture would take longer than this (projected from the small one), it reads a slice of it (the first packets) instead, and the results say so")
	flag.DurationVar(&c.genTimeout, "gen-timeout", 10*time.Minute, "time limit of making one session")
	flag.StringVar(&seed, "seed", "1", "seed of the generated messages")
	flag.BoolVar(&c.reuse, "reuse", false, "reuse the sessions left in bench/.work/inspect by an earlier run of the same sizes and seed")
	flag.BoolVar(&c.clean, "clean", false, "delete the sessions from bench/.work/inspect at the end (they are kept for -reuse otherwise)")
	flag.BoolVar(&c.profile, "profile", false, "also run each wscope command once in-process under pprof, on the large session, and print where the CPU time goes (profiles in bench/.work/inspect/profiles)")
	flag.IntVar(&niceness, "nice", 0, "run the measured commands (wscope and tshark alike) at this nice value; a negative one (root only) keeps other work on a busy machine from stretching their wall times")
	flag.StringVar(&c.wscopeBin, "wscope", "", "use this wscope binary instead of building it from the repository")
	flag.BoolVar(&c.updateDocs, "update-docs", true, "rewrite the offline-inspection results section of docs/benchmarks.md")
	flag.StringVar(&c.docsPath, "docs", "docs/benchmarks.md", "documentation file whose offline-inspection results section is rewritten (relative to the repository root)")
	flag.Parse()

	if c.quick {
		harness.QuickDefaults(map[string]string{"size": "50MB", "small": "10MB", "runs": "1", "update-docs": "false"})
	}
	big, err := parseSize(size)
	if err != nil || big <= 0 {
		fatalf("-size %q: want a size such as 1GB or 500MB", size)
	}
	sm, err := parseSize(small)
	if err != nil || sm < 0 || sm >= big {
		fatalf("-small %q: want a size below -size, or 0", small)
	}
	if sm > 0 {
		c.sizes = append(c.sizes, sm)
	}
	c.sizes = append(c.sizes, big)
	if c.seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		fatalf("-seed %q: want a number", seed)
	}
	c.runs = max(c.runs, 1)
	c.tsharkRuns = max(c.tsharkRuns, 1)

	driver.Run(func(ctx context.Context, root string) error {
		c.ctx, c.root, c.docsPath = ctx, root, harness.Abs(root, c.docsPath)
		return run(&c)
	})
}

const driver harness.Driver = "bench/inspect"

var logf, fatalf = driver.Logf, driver.Fatalf

const installHint = "install it with `sudo DEBIAN_FRONTEND=noninteractive apt-get install -y tshark` (Debian, Ubuntu; it brings dumpcap, editcap and capinfos), `dnf install wireshark-cli` (Fedora) or `brew install wireshark` (macOS); capturing on lo needs root or membership of the wireshark group"

func run(c *config) error {
	benchDir := filepath.Join(c.root, "bench")
	binDir := filepath.Join(benchDir, ".bin")
	c.workDir = filepath.Join(benchDir, ".work", "inspect")
	for _, d := range []string{binDir, c.workDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	// Disk: the recording, the capture (about half the recording) and
	// room to spare.
	var need int64
	for _, s := range c.sizes {
		need += 3 * s
	}
	if !c.reuse {
		free, err := freeBytes(c.workDir)
		if err != nil {
			return fmt.Errorf("checking free disk space: %w", err)
		}
		if free < need {
			return fmt.Errorf("not enough disk space in %s: %s free, the benchmark needs 3× the recording sizes (%s): free some space, or pass a smaller -size / -small (or --quick)",
				c.workDir, harness.FileSize(free), harness.FileSize(need))
		}
		logf("disk: %s free in %s, %s needed", harness.FileSize(free), c.workDir, harness.FileSize(need))
	}

	// Tools.
	for _, t := range []struct {
		name string
		dst  *string
	}{{"dumpcap", &c.dumpcap}, {"tshark", &c.tshark}, {"editcap", &c.editcap}} {
		if p, err := exec.LookPath(t.name); err == nil {
			*t.dst = p
		}
	}
	if c.dumpcap == "" || c.tshark == "" {
		c.dumpcap, c.tshark = "", ""
		c.noTshark = "tshark/dumpcap not installed: no capture was made and the tshark rows are skipped; " + installHint
		logf("%s", c.noTshark)
	}
	c.echoBin = filepath.Join(binDir, "echoserver")
	if out, err := harness.GoBuild(c.root, c.echoBin, "./bench/echoserver"); err != nil {
		return fmt.Errorf("building the echo server: %v\n%s", err, out)
	}
	if c.wscopeBin == "" {
		c.wscopeBin = filepath.Join(binDir, "wscope")
		if out, err := harness.GoBuild(c.root, c.wscopeBin, "."); err != nil {
			return fmt.Errorf("building wscope: %v\n%s", err, out)
		}
	}

	rep := &report{config: c, machine: describeMachine(c)}
	rep.machine.FloorKiB = harness.LauncherFloor(c.ctx)
	logf("peak RSS floor of the launcher (true(1)): %d KiB", rep.machine.FloorKiB)
	for _, size := range c.sizes {
		if c.ctx.Err() != nil {
			return nil
		}
		res, err := benchSize(c, size, rep)
		if err != nil {
			return err
		}
		rep.sizes = append(rep.sizes, res)
	}
	rep.machine.LoadEnd, rep.machine.PSIEnd = harness.LoadAverage(), harness.CPUPressure()

	if c.profile && c.ctx.Err() == nil {
		if err := profileRows(c, rep.sizes[len(rep.sizes)-1]); err != nil {
			logf("profiling: %v", err)
		}
	}

	docs := harness.Docs{Path: c.docsPath, Begin: beginMarker, End: endMarker, Heading: "## Offline inspection: 1 GB recording\n\n### Results\n\n"}
	if err := driver.Publish(c.root, "inspect-latest", rep.markdown(), rep.jsonResults(), docs, c.updateDocs, c.quick); err != nil {
		return err
	}
	if c.clean {
		for _, s := range rep.sizes {
			os.RemoveAll(s.session.Dir)
		}
		os.RemoveAll(filepath.Join(c.workDir, "slice"))
	}
	return nil
}

// benchSize makes (or reuses) the session of one size and runs every
// command on it.
func benchSize(c *config, size int64, rep *report) (*sizeResult, error) {
	dir := sessionDir(c.workDir, size)
	s, ok := (*session)(nil), false
	if c.reuse {
		s, ok = loadSession(dir, size, c.seed)
		if ok {
			logf("%s: reusing the session in %s", harness.FileSize(size), dir)
		}
	}
	if !ok {
		logf("%s: recording a session (wscope connect --record, dumpcap)...", harness.FileSize(size))
		var err error
		s, err = makeSession(c, dir, size)
		if err != nil {
			return nil, fmt.Errorf("making the %s session: %w", harness.FileSize(size), err)
		}
		logf("%s: %s messages sent in %.1f s; recording %s, capture %s; %s",
			harness.FileSize(size), harness.GroupDigits(s.Messages), s.ConnectSeconds, harness.FileSize(s.RecordingBytes), harness.FileSize(s.PcapBytes), s.captureLine())
	}
	res := &sizeResult{size: size, session: s}

	// What each tool finds in the session, untimed.
	var err error
	if res.recCounts, err = wscopeCounts(c, s.Recording); err != nil {
		return nil, err
	}
	logf("%s: recording: %s", harness.FileSize(size), res.recCounts)
	if s.Pcap != "" {
		if res.pcapCounts, err = wscopeCounts(c, s.Pcap); err != nil {
			return nil, err
		}
		logf("%s: pcapng, as wscope reads it: %s", harness.FileSize(size), res.pcapCounts)
	}

	rows := []*row{
		{label: "`wscope inspect REC -o json`", file: s.Recording, bytes: s.RecordingBytes, args: []string{"inspect", s.Recording, "-o", "json"}},
		{label: "`wscope inspect REC --stats`", file: s.Recording, bytes: s.RecordingBytes, args: []string{"inspect", s.Recording, "--stats"}},
	}
	if s.Pcap != "" {
		rows = append(rows,
			&row{label: "`wscope inspect PCAP -o json`", file: s.Pcap, bytes: s.PcapBytes, args: []string{"inspect", s.Pcap, "-o", "json"}},
			&row{label: "`wscope inspect PCAP --stats`", file: s.Pcap, bytes: s.PcapBytes, args: []string{"inspect", s.Pcap, "--stats"}},
		)
	}
	for _, r := range rows {
		r.key = rowKey(r.args)
		if err := warmCache(r.file); err != nil {
			return nil, err
		}
	}
	for round := 1; round <= c.runs; round++ {
		for _, r := range rows {
			if c.ctx.Err() != nil {
				return res, nil
			}
			harness.Settle(200 * time.Millisecond)
			m := runTimed(c.ctx, c.timeout, nil, c.wscopeBin, r.args...)
			r.runs = append(r.runs, m)
			logf("%s: run %d/%d %-32s %s", harness.FileSize(size), round, c.runs, r.label, m.summary(r.bytes))
		}
	}
	res.rows = rows

	if s.Pcap != "" {
		res.tshark = tsharkRow(c, res, rep)
	}
	return res, nil
}

// tsharkRow runs tshark on the session's capture, or on a slice of it when
// the whole would take longer than the budget.
func tsharkRow(c *config, res *sizeResult, rep *report) *row {
	s := res.session
	r := &row{label: "`tshark -o tcp.reassemble_out_of_order:TRUE -r PCAP -Y websocket -T fields …`", file: s.Pcap, bytes: s.PcapBytes, tshark: true}
	// Project from the smaller session, if there was one.
	if len(rep.sizes) > 0 {
		prev := rep.sizes[len(rep.sizes)-1]
		if prev.tshark != nil {
			if med := prev.tshark.median(); med != nil && med.ok() {
				rate := float64(prev.tshark.bytes) / med.Wall.Seconds()
				projected := time.Duration(float64(s.PcapBytes) / rate * float64(time.Second) * float64(c.tsharkRuns))
				if projected > c.tsharkBudget && c.editcap != "" {
					frac := c.tsharkBudget.Seconds() / projected.Seconds()
					packets := max(int64(float64(s.CapReceived)*frac), 1)
					slice, bytes, err := slicePcap(c, s, "session-slice.pcapng", packets)
					if err != nil {
						r.note = fmt.Sprintf("slicing the capture failed (%v): tshark ran on the whole of it", err)
					} else {
						r.file, r.bytes, r.slice = slice, bytes, true
						r.startup = tsharkStartup(c, s)
						r.note = fmt.Sprintf("tshark on the whole %s capture was projected at %.0f s per run from the smaller session, over the %s budget: it read the first %s of its %s packets (%s, %.1f %%) instead. Its MB/s is over that slice; its times for the whole session are projected from it: its start-up (tshark on the first packet alone: %s wall, %s CPU) plus the rest scaled by the bytes",
							harness.FileSize(s.PcapBytes), projected.Seconds()/float64(c.tsharkRuns), c.tsharkBudget, harness.GroupDigits(packets), harness.GroupDigits(s.CapReceived), harness.FileSize(bytes), 100*float64(bytes)/float64(s.PcapBytes),
							harness.Seconds(r.startup.Wall), harness.Seconds(r.startup.CPU))
					}
					logf("%s", r.note)
				}
			}
		}
	}
	if err := warmCache(r.file); err != nil {
		r.note = err.Error()
		return r
	}
	for run := 1; run <= c.tsharkRuns; run++ {
		if c.ctx.Err() != nil {
			break
		}
		harness.Settle(200 * time.Millisecond)
		m, cn := runTshark(c, r.file)
		r.runs = append(r.runs, m)
		r.counts = cn
		logf("%s: run %d/%d %-32s %s; %s", harness.FileSize(res.size), run, c.tsharkRuns, "tshark", m.summary(r.bytes), cn)
	}
	if r.slice {
		if cn, err := wscopeCounts(c, r.file); err == nil {
			r.sliceCounts = cn
			logf("the slice, as wscope reads it: %s", cn)
		}
	}
	return r
}

// slicePcap writes the first packets of the capture into the slice
// folder, with editcap.
func slicePcap(c *config, s *session, name string, packets int64) (string, int64, error) {
	dir := filepath.Join(c.workDir, "slice")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(c.ctx, c.editcap, "-r", s.Pcap, out, fmt.Sprintf("1-%d", packets))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("editcap: %v: %s", err, strings.TrimSpace(string(b)))
	}
	fi, err := os.Stat(out)
	if err != nil {
		return "", 0, err
	}
	return out, fi.Size(), nil
}

// tsharkStartup is the median of three runs of tshark on the first packet
// of the capture alone: what tshark costs before it reads anything.
func tsharkStartup(c *config, s *session) *measurement {
	one, _, err := slicePcap(c, s, "session-first-packet.pcapng", 1)
	if err != nil {
		return &measurement{Err: err.Error()}
	}
	r := &row{}
	for range 3 {
		m, _ := runTshark(c, one)
		r.runs = append(r.runs, m)
	}
	return r.median()
}

func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// parseSize reads 1GB, 100MB, 512KiB, 2GiB or a number of bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return int64(f * float64(mult)), nil
}
