package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// measurement is one mode running one workload once.
type measurement struct {
	Round    int    `json:"round"`
	Mode     string `json:"mode"`
	Workload string `json:"workload"`
	// Elapsed is, pipelined, the time from the first byte sent to the
	// last echo read; for round trips, the sum of the counted ones.
	Elapsed time.Duration `json:"elapsed_ns"`
	Echoed  int           `json:"echoed"` // intact echoes (round trips counted)
	// Round trips only.
	P50 time.Duration `json:"p50_ns,omitempty"`
	P90 time.Duration `json:"p90_ns,omitempty"`
	P99 time.Duration `json:"p99_ns,omitempty"`
	Max time.Duration `json:"max_ns,omitempty"`
	// Proxy modes only: what the proxy process used, from start to exit,
	// and the size of its recording.
	Proxy       *harness.Usage `json:"proxy,omitempty"`
	RecordBytes int64          `json:"record_bytes,omitempty"`
	Err         string         `json:"error,omitempty"`
}

func (m *measurement) ok(w *workload) bool { return m.Err == "" && m.Echoed == w.count }

func (m *measurement) summary(w *workload) string {
	var s string
	if w.latency() {
		s = fmt.Sprintf("p50 %s p90 %s p99 %s max %s", us(m.P50), us(m.P90), us(m.P99), us(m.Max))
	} else {
		s = fmt.Sprintf("%8.3fs %10s msgs/s %8.1f MB/s", m.Elapsed.Seconds(),
			harness.GroupDigits(int(harness.Rate(m.Echoed, m.Elapsed))), harness.MBps(int64(m.Echoed)*int64(w.size), m.Elapsed))
	}
	s += fmt.Sprintf("  %d/%d echoed", m.Echoed, w.count)
	if m.Proxy != nil {
		s += fmt.Sprintf("  proxy CPU %.3fs RSS %.1f MiB", m.Proxy.CPU().Seconds(), float64(m.Proxy.RSSKiB)/1024)
	}
	if m.RecordBytes > 0 {
		s += "  recorded " + harness.FileSize(m.RecordBytes)
	}
	if m.Err != "" {
		s += "  ERROR: " + harness.LastLine(m.Err)
	}
	return s
}

// us is a duration in microseconds, or milliseconds from 1 ms.
func us(d time.Duration) string {
	v := float64(d) / float64(time.Microsecond)
	if v >= 1000 {
		return fmt.Sprintf("%.2f ms", v/1000)
	}
	return fmt.Sprintf("%.1f µs", v)
}

// result is every run of one mode on one workload.
type result struct {
	runs []*measurement
}

func (r *result) add(m *measurement) { r.runs = append(r.runs, m) }

// good are the runs that echoed everything intact.
func (r *result) good(w *workload) []*measurement {
	var g []*measurement
	for _, m := range r.runs {
		if m.ok(w) {
			g = append(g, m)
		}
	}
	return g
}

// median is the median of f over the good runs (the lower middle one for
// an even number), 0 without any.
func (r *result) median(w *workload, f func(*measurement) time.Duration) time.Duration {
	var v []time.Duration
	for _, m := range r.good(w) {
		v = append(v, f(m))
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func (r *result) maxOf(w *workload, f func(*measurement) time.Duration) time.Duration {
	var hi time.Duration
	for _, m := range r.good(w) {
		hi = max(hi, f(m))
	}
	return hi
}

func (r *result) minOf(w *workload, f func(*measurement) time.Duration) time.Duration {
	var lo time.Duration
	for i, m := range r.good(w) {
		if v := f(m); i == 0 || v < lo {
			lo = v
		}
	}
	return lo
}

func (r *result) maxRSS() int64 {
	var hi int64
	for _, m := range r.runs {
		if m.Proxy != nil {
			hi = max(hi, m.Proxy.RSSKiB)
		}
	}
	return hi
}

func (r *result) maxRecord() int64 {
	var hi int64
	for _, m := range r.runs {
		hi = max(hi, m.RecordBytes)
	}
	return hi
}

func proxyCPU(m *measurement) time.Duration {
	if m.Proxy == nil {
		return 0
	}
	return m.Proxy.CPU()
}

type report struct {
	config    *config
	machine   harness.Machine
	loadStart string
	loadEnd   string
	psiStart  string
	psiEnd    string
	floorKiB  int64
	elapsed   time.Duration
	workloads []*workload
	results   map[string]map[string]*result // workload → mode → result
}

func (r *report) markdown() string {
	var b strings.Builder
	c, m := r.config, r.machine
	fmt.Fprintf(&b, "Measured %s on %s (%d cores as seen by the Go runtime, %s RAM), Linux %s; %s; wscope at commit %s.\n",
		m.Date.Format("2006-01-02 15:04 MST"), m.CPU, m.NProc, m.MemTotal, m.Kernel, m.Go, m.Commit)
	fmt.Fprintf(&b, "Load average (1 min) %s at the start, %s at the end; CPU pressure (some tasks waiting for a CPU, last minute) %s %% at the start, %s %% at the end",
		r.loadStart, r.loadEnd, r.psiStart, r.psiEnd)
	busy := false
	if l, err := strconv.ParseFloat(r.loadStart, 64); err == nil && l > 0.5*float64(m.NProc) {
		busy = true
	}
	switch n := harness.Niced(); {
	case n < 0:
		fmt.Fprintf(&b, ". The whole benchmark (client, echo server, proxies) ran at nice %d in a scheduling group of its own, so that other work on the machine did not take the CPUs from it", n)
		if busy {
			b.WriteString(" (the machine was busy)")
		}
	case n > 0:
		fmt.Fprintf(&b, ". The whole benchmark ran at nice %d", n)
	case busy:
		b.WriteString(" — **the machine was busy with other work: expect noise, above all in the tail latencies**")
	}
	b.WriteString(".\n")
	fmt.Fprintf(&b, "%s, each running every mode on every workload once, the modes in a rotating order; each cell is the median of the rounds, “max” and peak RSS the largest, “best round” the smallest (the least disturbed by other work). The whole run took %s.",
		harness.Plural(c.runs, "round"), r.elapsed.Round(time.Second))
	if r.floorKiB > 0 {
		fmt.Fprintf(&b, " The proxy's CPU time (user + system, all threads, from its start to its exit: starting up and the handshakes included) and peak RSS come from its rusage, through a launcher whose own floor is %.1f MiB (what it reports for `true`).", float64(r.floorKiB)/1024)
	}
	if c.quick {
		b.WriteString(" **Quick run (`--quick`): reduced counts, not the reference numbers.**")
	}
	b.WriteString("\n\n")

	var notes []string
	for _, w := range r.workloads {
		res := r.results[w.name]
		notes = append(notes, r.failures(w)...)
		if w.latency() {
			r.latencyTable(&b, w, res)
		} else {
			r.throughputTable(&b, w, res)
		}
	}
	if len(notes) > 0 {
		b.WriteString("Runs left out (they did not echo everything intact, or the proxy did not exit cleanly):\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	r.summary(&b)
	return b.String()
}

func (r *report) failures(w *workload) []string {
	var out []string
	for _, md := range r.config.modes {
		for _, m := range r.results[w.name][md.name].runs {
			if !m.ok(w) {
				why := m.Err
				if why == "" {
					why = fmt.Sprintf("%d of %d echoed", m.Echoed, w.count)
				}
				out = append(out, fmt.Sprintf("%s, %s, round %d: %s", md.label, w.title(), m.Round, harness.LastLine(why)))
			}
		}
	}
	return out
}

func (r *report) latencyTable(b *strings.Builder, w *workload, res map[string]*result) {
	fmt.Fprintf(b, "### Latency: %s\n\n", w.title())
	b.WriteString("| path | p50 | p90 | p99 | max | p50, best round | added p50 | added p99 | added p50, best rounds | p50 ÷ direct | proxy CPU per round trip | proxy peak RSS |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	direct := res["direct"]
	d50 := direct.median(w, func(m *measurement) time.Duration { return m.P50 })
	d99 := direct.median(w, func(m *measurement) time.Duration { return m.P99 })
	dBest := direct.minOf(w, func(m *measurement) time.Duration { return m.P50 })
	for _, md := range r.config.modes {
		rs := res[md.name]
		if len(rs.good(w)) == 0 {
			fmt.Fprintf(b, "| %s | failed | – | – | – | – | – | – | – | – | – | – |\n", md.label)
			continue
		}
		best := rs.minOf(w, func(m *measurement) time.Duration { return m.P50 })
		p50 := rs.median(w, func(m *measurement) time.Duration { return m.P50 })
		p90 := rs.median(w, func(m *measurement) time.Duration { return m.P90 })
		p99 := rs.median(w, func(m *measurement) time.Duration { return m.P99 })
		hi := rs.maxOf(w, func(m *measurement) time.Duration { return m.Max })
		if md.direct() {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | – | – | – | 1× | – | – |\n", md.label, us(p50), us(p90), us(p99), us(hi), us(best))
			continue
		}
		added50, added99, addedBest, ratio := "–", "–", "–", "–"
		if d50 > 0 {
			added50, added99, ratio = signedUS(p50-d50), signedUS(p99-d99), fmt.Sprintf("%.2f×", float64(p50)/float64(d50))
			addedBest = signedUS(best - dBest)
		}
		perRT := rs.median(w, proxyCPU) / time.Duration(w.count+w.warm)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f MiB |\n", md.label, us(p50), us(p90), us(p99), us(hi), us(best),
			added50, added99, addedBest, ratio, us(perRT), float64(rs.maxRSS())/1024)
	}
	b.WriteString("\n")
}

func signedUS(d time.Duration) string {
	if d >= 0 {
		return "+" + us(d)
	}
	return "−" + us(-d)
}

func (r *report) throughputTable(b *strings.Builder, w *workload, res map[string]*result) {
	fmt.Fprintf(b, "### Throughput: %s\n\n", w.title())
	b.WriteString("| path | echoed intact | time | messages/s | MB/s | ÷ direct | proxy CPU time | proxy CPU per message | proxy peak RSS | recording written |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	elapsed := func(m *measurement) time.Duration { return m.Elapsed }
	dt := res["direct"].median(w, elapsed)
	for _, md := range r.config.modes {
		rs := res[md.name]
		good := rs.good(w)
		if len(good) == 0 {
			fmt.Fprintf(b, "| %s | failed | – | – | – | – | – | – | – | – |\n", md.label)
			continue
		}
		t := rs.median(w, elapsed)
		lo, hi := t, t
		for _, m := range good {
			lo, hi = min(lo, m.Elapsed), max(hi, m.Elapsed)
		}
		tm := harness.Seconds(t)
		if len(good) > 1 {
			tm += fmt.Sprintf(" (%s–%s)", harness.Seconds(lo), harness.Seconds(hi))
		}
		echoed := fmt.Sprintf("%s / %s ✓", harness.GroupDigits(w.count), harness.GroupDigits(w.count))
		if len(good) < len(rs.runs) {
			echoed = fmt.Sprintf("%d of %d runs ✗", len(good), len(rs.runs))
		}
		ratio := "1×"
		if !md.direct() && t > 0 && dt > 0 {
			ratio = fmt.Sprintf("%.2f×", float64(dt)/float64(t))
		}
		cpu, perMsg, rss, rec := "–", "–", "–", "–"
		if !md.direct() {
			c := rs.median(w, proxyCPU)
			cpu = harness.Seconds(c)
			perMsg = us(c / time.Duration(w.count))
			rss = fmt.Sprintf("%.1f MiB", float64(rs.maxRSS())/1024)
			if md.record {
				rec = harness.FileSize(rs.maxRecord())
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s |\n", md.label, echoed, tm,
			harness.GroupDigits(int(harness.Rate(w.count, t))), harness.MBps(int64(w.count)*int64(w.size), t), ratio, cpu, perMsg, rss, rec)
	}
	b.WriteString("\n")
}

// summary says in sentences what the tables say for the plain proxy (text
// output to /dev/null), and what recording adds.
func (r *report) summary(b *strings.Builder) {
	var lat *workload
	var tput []*workload
	for _, w := range r.workloads {
		if w.latency() {
			lat = w
		} else {
			tput = append(tput, w)
		}
	}
	var s []string
	p50 := func(m *measurement) time.Duration { return m.P50 }
	p99 := func(m *measurement) time.Duration { return m.P99 }
	elapsed := func(m *measurement) time.Duration { return m.Elapsed }
	for _, md := range r.config.modes[1:] {
		res := r.results[lat.name]
		d50, x50 := res["direct"].median(lat, p50), res[md.name].median(lat, p50)
		d99, x99 := res["direct"].median(lat, p99), res[md.name].median(lat, p99)
		if d50 == 0 || x50 == 0 {
			continue
		}
		db, xb := res["direct"].minOf(lat, p50), res[md.name].minOf(lat, p50)
		part := fmt.Sprintf("%s: a round trip takes %s more at the median (%.1f× direct; %s more between the best rounds) and %s more at p99",
			md.label, us(x50-d50), float64(x50)/float64(d50), us(xb-db), us(x99-d99))
		for _, w := range tput {
			dt, xt := r.results[w.name]["direct"].median(w, elapsed), r.results[w.name][md.name].median(w, elapsed)
			if dt > 0 && xt > 0 {
				part += fmt.Sprintf("; pipelined %s messages go through at %.0f %% of the direct rate", harness.SizeName(w.size), 100*float64(dt)/float64(xt))
			}
		}
		s = append(s, part+".")
	}
	if len(s) > 0 {
		b.WriteString("In short (medians of this run):\n\n")
		for _, l := range s {
			fmt.Fprintf(b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
}

// jsonResults is every run, for whoever wants more than the tables.
func (r *report) jsonResults() any {
	type out struct {
		Machine   harness.Machine `json:"machine"`
		Nice      int             `json:"nice"`
		LoadStart string          `json:"load_start"`
		LoadEnd   string          `json:"load_end"`
		PSIStart  string          `json:"cpu_pressure_start"`
		PSIEnd    string          `json:"cpu_pressure_end"`
		FloorKiB  int64           `json:"rss_floor_kib"`
		Runs      []*measurement  `json:"runs"`
	}
	o := out{Machine: r.machine, Nice: harness.Niced(), LoadStart: r.loadStart, LoadEnd: r.loadEnd,
		PSIStart: r.psiStart, PSIEnd: r.psiEnd, FloorKiB: r.floorKiB}
	for _, w := range r.workloads {
		for _, md := range r.config.modes {
			o.Runs = append(o.Runs, r.results[w.name][md.name].runs...)
		}
	}
	return o
}
