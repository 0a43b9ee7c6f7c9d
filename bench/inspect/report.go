package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// row is one command timed on one session.
type row struct {
	key    string // stable name, for matching rows across sizes
	label  string
	file   string
	bytes  int64 // input bytes, for MB/s
	args   []string
	tshark bool
	runs   []*measurement

	counts      *counts      // tshark: what it printed
	slice       bool         // tshark read a slice of the capture
	startup     *measurement // tshark on one packet, when it read a slice
	sliceCounts *counts      // wscope on that slice
	note        string
}

func rowKey(args []string) string {
	k := "rec"
	if strings.HasSuffix(args[1], ".pcapng") {
		k = "pcap"
	}
	return k + " " + strings.Join(args[2:], " ")
}

// median is the run with the median wall time among the successful runs
// (all runs if none succeeded).
func (r *row) median() *measurement {
	var ok []*measurement
	for _, m := range r.runs {
		if m.ok() {
			ok = append(ok, m)
		}
	}
	if len(ok) == 0 {
		ok = r.runs
	}
	if len(ok) == 0 {
		return nil
	}
	ok = slices.Clone(ok)
	slices.SortFunc(ok, func(a, b *measurement) int { return int(a.Wall - b.Wall) })
	return ok[len(ok)/2]
}

func (r *row) maxRSS() int64 {
	var x int64
	for _, m := range r.runs {
		x = max(x, m.RSSKiB)
	}
	return x
}

func (r *row) allOK() bool {
	for _, m := range r.runs {
		if !m.ok() {
			return false
		}
	}
	return len(r.runs) > 0
}

// sizeResult is everything measured on the session of one size.
type sizeResult struct {
	size       int64
	session    *session
	recCounts  *counts // wscope on the recording
	pcapCounts *counts // wscope on the capture
	rows       []*row
	tshark     *row
}

func (s *sizeResult) allRows() []*row {
	if s.tshark != nil {
		return append(slices.Clone(s.rows), s.tshark)
	}
	return s.rows
}

func (s *sizeResult) row(key string) *row {
	for _, r := range s.allRows() {
		if r.key == key || (key == "tshark" && r.tshark) {
			return r
		}
	}
	return nil
}

// tsharkSessionTimes are tshark's wall and CPU times for the whole
// session: measured, or projected linearly from a slice.
func (s *sizeResult) tsharkSessionTimes() (wall, cpu time.Duration, ok bool) {
	if s.tshark == nil {
		return 0, 0, false
	}
	m := s.tshark.median()
	if m == nil || !m.ok() {
		return 0, 0, false
	}
	if s.tshark.slice {
		// Start-up once, the rest in proportion to the bytes.
		var w0, c0 time.Duration
		if st := s.tshark.startup; st != nil && st.ok() && st.Wall < m.Wall && st.CPU < m.CPU {
			w0, c0 = st.Wall, st.CPU
		}
		f := float64(s.session.PcapBytes) / float64(s.tshark.bytes)
		return w0 + time.Duration(float64(m.Wall-w0)*f), c0 + time.Duration(float64(m.CPU-c0)*f), true
	}
	return m.Wall, m.CPU, true
}

func (s *session) captureLine() string {
	switch {
	case !s.Captured:
		return "no capture"
	case s.CapDropped > 0:
		return fmt.Sprintf("dumpcap: %s packets, **%s dropped**", harness.GroupDigits(s.CapReceived), harness.GroupDigits(s.CapDropped))
	}
	return fmt.Sprintf("dumpcap: %s packets, 0 dropped", harness.GroupDigits(s.CapReceived))
}

func (m *measurement) summary(bytes int64) string {
	s := fmt.Sprintf("%8.2fs %8.1f MB/s  cpu %7.2fs  rss %7.1f MiB  exit %d", m.Wall.Seconds(), harness.MBps(bytes, m.Wall), m.CPU.Seconds(), float64(m.RSSKiB)/1024, m.Exit)
	if m.TimedOut {
		s += "  TIMED OUT"
	}
	if m.Err != "" {
		s += "  ERROR: " + oneLine(m.Err)
	}
	return s
}

// ---- the machine ----

type machine struct {
	harness.Machine
	Tshark    string `json:"tshark"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
	PSIStart  string `json:"cpu_pressure_start"` // /proc/pressure/cpu "some avg60"
	PSIEnd    string `json:"cpu_pressure_end"`
	Nice      int    `json:"nice"`
	FloorKiB  int64  `json:"rss_floor_kib"` // peak RSS the launcher reports for true(1)
}

func describeMachine(c *config) machine {
	m := machine{Machine: harness.DescribeMachine(c.root), Tshark: "not installed",
		LoadStart: harness.LoadAverage(), PSIStart: harness.CPUPressure(), Nice: niceness}
	if c.tshark != "" {
		if out, err := harness.Output(c.root, c.tshark, "--version"); err == nil {
			first, _, _ := strings.Cut(out, "\n")
			if f := strings.Fields(strings.TrimPrefix(first, "TShark (Wireshark) ")); len(f) > 0 {
				m.Tshark = f[0]
			}
		}
	}
	return m
}

// ---- Markdown ----

type report struct {
	config  *config
	machine machine
	sizes   []*sizeResult
}

func (r *report) markdown() string {
	var b strings.Builder
	m, c := r.machine, r.config
	fmt.Fprintf(&b, "Measured %s on %s (%d cores as seen by the Go runtime, %s RAM), Linux %s; %s, TShark %s; wscope at commit %s.\n",
		m.Date.Format("2006-01-02 15:04 MST"), m.CPU, m.NProc, m.MemTotal, m.Kernel, m.Go, m.Tshark, m.Commit)
	fmt.Fprintf(&b, "Load average (1 min) %s at the start, %s at the end; CPU pressure (some tasks waiting for a CPU, last minute) %s %% at the start, %s %% at the end",
		m.LoadStart, m.LoadEnd, m.PSIStart, m.PSIEnd)
	busy := false
	if l, err := strconv.ParseFloat(m.LoadStart, 64); err == nil && l > 0.5*float64(m.NProc) {
		busy = true
	}
	switch {
	case m.Nice < 0:
		fmt.Fprintf(&b, ". Every measured command (wscope and tshark alike) ran at nice %d in a scheduling group of its own, so that other work on the machine did not stretch its wall time", m.Nice)
		if busy {
			b.WriteString(" (the machine was busy)")
		}
	case m.Nice > 0:
		fmt.Fprintf(&b, ". Every measured command (wscope and tshark alike) ran at nice %d", m.Nice)
	case busy:
		b.WriteString(" — **the machine was busy with other work: wall times are stretched, CPU times are the steadier measure**")
	}
	b.WriteString(".\n")
	tsharkRuns := harness.Plural(c.tsharkRuns, "run")
	if c.tshark == "" {
		tsharkRuns = "not installed"
	}
	fmt.Fprintf(&b, "wscope: %s per command and size, median wall time (min–max in parentheses), peak RSS the largest of the runs; tshark: %s. ",
		harness.Plural(c.runs, "run"), tsharkRuns)
	b.WriteString("MB/s = input file bytes (10⁶) ÷ wall time; the files are in the page cache (read once before timing). Output goes to /dev/null.")
	if m.FloorKiB > 0 {
		fmt.Fprintf(&b, " Peak RSS is measured through a launcher whose own floor is %.1f MiB (what it reports for `true`).", float64(m.FloorKiB)/1024)
	}
	if c.quick {
		b.WriteString(" **Quick run (`--quick`): small sizes, not the reference numbers.**")
	}
	b.WriteString("\n\n")

	// The sessions.
	b.WriteString("#### The sessions\n\n")
	b.WriteString("| recording | messages sent (each echoed) | capture (pcapng) | capture drops | frames in the recording | frames wscope finds in the pcapng | frames tshark finds in the pcapng |\n")
	b.WriteString("| ---: | ---: | ---: | --- | ---: | ---: | ---: |\n")
	var notes []string
	for _, s := range r.sizes {
		ss := s.session
		capt, drops, wp, tp := "–", "no capture", "–", "–"
		if ss.Captured {
			capt = harness.FileSize(ss.PcapBytes)
			drops = fmt.Sprintf("%s of %s packets", harness.GroupDigits(ss.CapDropped), harness.GroupDigits(ss.CapReceived+ss.CapDropped))
			if ss.CapDropped > 0 {
				drops = "**" + drops + "**"
				notes = append(notes, fmt.Sprintf("The %s capture **dropped %s packets** (dumpcap: %q): the pcapng rows read an incomplete session.", harness.FileSize(ss.RecordingBytes), harness.GroupDigits(ss.CapDropped), ss.CapSummary))
			}
			wp = fmtCount(s.pcapCounts, s.recCounts)
			if s.tshark != nil && s.tshark.counts != nil {
				if s.tshark.slice {
					tp = fmt.Sprintf("%s in the slice (wscope: %s)", harness.GroupDigits(s.tshark.counts.Frames), fmtCount(s.tshark.sliceCounts, s.tshark.counts))
				} else {
					tp = fmtCount(s.tshark.counts, s.recCounts)
				}
			}
		} else if ss.CapNote != "" {
			notes = append(notes, ss.CapNote)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
			harness.FileSize(ss.RecordingBytes), harness.GroupDigits(ss.Messages), capt, drops, fmtCount(s.recCounts, nil), wp, tp)
		if s.recCounts != nil && s.pcapCounts != nil && !s.recCounts.same(s.pcapCounts) {
			notes = append(notes, fmt.Sprintf("%s session: wscope finds %s in the capture but the recording has %s.", harness.FileSize(ss.RecordingBytes), s.pcapCounts, s.recCounts))
		}
		if s.tshark != nil && s.tshark.counts != nil {
			ref, what := s.recCounts, "the recording has"
			if s.tshark.slice {
				ref, what = s.tshark.sliceCounts, "wscope finds in the same slice"
			}
			if ref != nil && !ref.same(s.tshark.counts) {
				notes = append(notes, fmt.Sprintf("%s session: tshark prints %s; %s %s.", harness.FileSize(ss.RecordingBytes), s.tshark.counts, what, ref))
			}
		}
	}
	b.WriteString("\n")

	// One table per size, the largest first.
	for i := len(r.sizes) - 1; i >= 0; i-- {
		s := r.sizes[i]
		fmt.Fprintf(&b, "#### %s recording, %s capture\n\n", harness.FileSize(s.session.RecordingBytes), fmtCapture(s.session))
		b.WriteString("| command | input | wall time | MB/s | CPU time | MB per CPU-second | peak RSS | wscope ÷ tshark speed, wall time | wscope ÷ tshark speed, CPU time |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		tw, tc, haveT := s.tsharkSessionTimes()
		for _, rw := range s.allRows() {
			med := rw.median()
			if med == nil {
				fmt.Fprintf(&b, "| %s | %s | not run | | | | | | |\n", rw.label, harness.FileSize(rw.bytes))
				continue
			}
			wall := harness.Seconds(med.Wall)
			if len(rw.runs) > 1 {
				lo, hi := wallRange(rw.runs)
				wall += fmt.Sprintf(" (%s–%s)", harness.Seconds(lo), harness.Seconds(hi))
			}
			if !rw.allOK() {
				wall += " ✗"
				for j, mm := range rw.runs {
					if !mm.ok() {
						notes = append(notes, fmt.Sprintf("%s on the %s session, run %d: %s", rw.label, harness.FileSize(s.session.RecordingBytes), j+1, failure(mm)))
					}
				}
			}
			ratio, cratio := "–", "–"
			switch {
			case rw.tshark:
				ratio, cratio = "1×", "1×"
			case haveT && med.ok():
				ratio = fmtRatio(tw.Seconds() / med.Wall.Seconds())
				if med.CPU > 0 {
					cratio = fmtRatio(tc.Seconds() / med.CPU.Seconds())
				}
			}
			input := harness.FileSize(rw.bytes)
			if rw.slice {
				input += " (slice)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %s | %.1f | %.1f MiB | %s | %s |\n",
				rw.label, input, wall, harness.MBps(rw.bytes, med.Wall), harness.Seconds(med.CPU), harness.MBps(rw.bytes, med.CPU), float64(rw.maxRSS())/1024, ratio, cratio)
			if rw.note != "" {
				notes = append(notes, rw.note)
			}
		}
		b.WriteString("\n")
	}
	if len(r.sizes) > 0 && r.sizes[len(r.sizes)-1].tshark != nil {
		b.WriteString("“wscope ÷ tshark speed” compares the time to decode **the same session**: tshark's time reading the pcapng divided by wscope's time reading the pcapng (then it is also the ratio of their MB/s) or the recording")
		if r.sizes[len(r.sizes)-1].tshark.slice {
			b.WriteString(" (where tshark read a slice, its times for the whole capture are projected from the slice: see the notes)")
		}
		b.WriteString(". Above 1× wscope is faster. CPU time is user + system time of the process and its threads (Go's garbage collector runs on the other core, so it can exceed the wall time).\n\n")
	}

	// Memory flat.
	if len(r.sizes) >= 2 {
		small, big := r.sizes[0], r.sizes[len(r.sizes)-1]
		fmt.Fprintf(&b, "#### Memory: peak RSS at %s and at %s\n\n", harness.FileSize(small.session.RecordingBytes), harness.FileSize(big.session.RecordingBytes))
		fmt.Fprintf(&b, "| command | peak RSS, %s session | peak RSS, %s session | ratio (input %.1f× larger) |\n",
			harness.FileSize(small.session.RecordingBytes), harness.FileSize(big.session.RecordingBytes), float64(big.session.RecordingBytes)/float64(small.session.RecordingBytes))
		b.WriteString("| --- | ---: | ---: | ---: |\n")
		for _, rb := range big.allRows() {
			key := rb.key
			if rb.tshark {
				key = "tshark"
			}
			rs := small.row(key)
			if rs == nil || rs.maxRSS() == 0 || rb.maxRSS() == 0 {
				continue
			}
			label := rb.label
			if rb.slice || rs.slice {
				label += " (large: a slice)"
			}
			fmt.Fprintf(&b, "| %s | %.1f MiB | %.1f MiB | %.2f× |\n", label, float64(rs.maxRSS())/1024, float64(rb.maxRSS())/1024, float64(rb.maxRSS())/float64(rs.maxRSS()))
		}
		b.WriteString("\n")
		var worst float64
		for _, rb := range big.rows {
			if rs := small.row(rb.key); rs != nil && rs.maxRSS() > 0 {
				worst = max(worst, float64(rb.maxRSS()-rs.maxRSS())/1024)
			}
		}
		fmt.Fprintf(&b, "From the %s to the %s session, wscope's peak RSS grows by at most %.1f MiB.",
			harness.FileSize(small.session.RecordingBytes), harness.FileSize(big.session.RecordingBytes), worst)
		if ts, tb := small.tshark, big.tshark; ts != nil && tb != nil && !ts.slice && !tb.slice && ts.maxRSS() > 0 && tb.maxRSS() > 0 {
			dp := (big.session.CapReceived - big.session.CapDropped) - (small.session.CapReceived - small.session.CapDropped)
			dr := float64(tb.maxRSS()-ts.maxRSS()) / 1024
			fmt.Fprintf(&b, " tshark's grows by %.1f MiB", dr)
			if dp > 0 {
				fmt.Fprintf(&b, " for %s more packets (%.1f KiB per packet: tshark keeps what it learns about every packet for the whole file; packets on loopback are up to 64 KiB, so a capture of the same traffic in Ethernet-sized packets has many more of them)", harness.GroupDigits(dp), dr*1024/float64(dp))
			}
			b.WriteString(".")
		}
		b.WriteString("\n\n")
	}

	if len(notes) > 0 {
		b.WriteString("Notes:\n\n")
		seen := map[string]bool{}
		for _, n := range notes {
			if seen[n] {
				continue
			}
			seen[n] = true
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func fmtCapture(s *session) string {
	if !s.Captured {
		return "no"
	}
	return harness.FileSize(s.PcapBytes)
}

// fmtCount prints a frame count, with ✓ when it equals ref's.
func fmtCount(c, ref *counts) string {
	if c == nil {
		return "?"
	}
	s := harness.GroupDigits(c.Frames)
	if ref != nil {
		if c.same(ref) {
			s += " ✓"
		} else {
			s += " ✗"
		}
	}
	return s
}

func failure(m *measurement) string {
	var parts []string
	if m.TimedOut {
		parts = append(parts, "timed out")
	}
	if m.Exit != 0 {
		parts = append(parts, fmt.Sprintf("exit status %d", m.Exit))
	}
	if m.Err != "" {
		parts = append(parts, oneLine(m.Err))
	}
	return strings.Join(parts, "; ")
}

func wallRange(ms []*measurement) (lo, hi time.Duration) {
	for i, m := range ms {
		if i == 0 || m.Wall < lo {
			lo = m.Wall
		}
		if m.Wall > hi {
			hi = m.Wall
		}
	}
	return lo, hi
}

func fmtRatio(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// jsonResults is every run, for whoever wants more than the tables.
func (r *report) jsonResults() any {
	type jrow struct {
		Command     string         `json:"command"`
		Args        []string       `json:"args,omitempty"`
		File        string         `json:"file"`
		Bytes       int64          `json:"input_bytes"`
		Slice       bool           `json:"slice,omitempty"`
		Runs        []*measurement `json:"runs"`
		Counts      *counts        `json:"counts,omitempty"`
		SliceCounts *counts        `json:"slice_counts_wscope,omitempty"`
		Startup     *measurement   `json:"tshark_startup,omitempty"`
		Note        string         `json:"note,omitempty"`
	}
	type jsize struct {
		Session    *session `json:"session"`
		Recording  *counts  `json:"recording_counts"`
		Pcap       *counts  `json:"pcap_counts_wscope,omitempty"`
		Rows       []jrow   `json:"rows"`
		TsharkArgs []string `json:"tshark_args,omitempty"`
	}
	out := struct {
		Machine machine `json:"machine"`
		Sizes   []jsize `json:"sizes"`
	}{Machine: r.machine}
	for _, s := range r.sizes {
		js := jsize{Session: s.session, Recording: s.recCounts, Pcap: s.pcapCounts}
		for _, rw := range s.allRows() {
			js.Rows = append(js.Rows, jrow{Command: rw.label, Args: rw.args, File: rw.file, Bytes: rw.bytes, Slice: rw.slice,
				Runs: rw.runs, Counts: rw.counts, SliceCounts: rw.sliceCounts, Startup: rw.startup, Note: rw.note})
		}
		if s.tshark != nil {
			js.TsharkArgs = tsharkArgs(s.tshark.file)
		}
		out.Sizes = append(out.Sizes, js)
	}
	return out
}

// The markers of this benchmark's results in docs/benchmarks.md. They must
// not contain bench/run's markers ("<!-- BEGIN RESULTS: written by `go run
// ./bench/run`..." and "<!-- END RESULTS -->"), which it finds by substring.
const (
	beginMarker = "<!-- BEGIN INSPECT RESULTS: written by `go run ./bench/inspect`; edits between these markers are overwritten -->"
	endMarker   = "<!-- END INSPECT RESULTS -->"
)
