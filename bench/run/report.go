package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// result is every run of one tool on one workload.
type result struct {
	runs []*measurement
}

func (r *result) add(m *measurement) { r.runs = append(r.runs, m) }

func (r *result) timedOut() bool {
	for _, m := range r.runs {
		if m.timedOut {
			return true
		}
	}
	return false
}

// median is the run with the median wall time (the lower middle one for an
// even number of runs).
func (r *result) median() *measurement {
	if len(r.runs) == 0 {
		return nil
	}
	s := slices.Clone(r.runs)
	slices.SortFunc(s, func(a, b *measurement) int { return int(a.wall - b.wall) })
	return s[(len(s)-1)/2]
}

func (r *result) wallRange() (lo, hi time.Duration) {
	for i, m := range r.runs {
		if i == 0 || m.wall < lo {
			lo = m.wall
		}
		if m.wall > hi {
			hi = m.wall
		}
	}
	return lo, hi
}

func (r *result) maxRSS() int64 {
	var max int64
	for _, m := range r.runs {
		if m.rssKiB > max {
			max = m.rssKiB
		}
	}
	return max
}

// ok reports whether every run echoed every message intact and exited 0.
func (r *result) ok(w *workload) bool {
	if len(r.runs) == 0 {
		return false
	}
	for _, m := range r.runs {
		if !m.ok(w) {
			return false
		}
	}
	return true
}

type machine struct {
	harness.Machine
	Node  string `json:"node"`
	Wscat string `json:"wscat"`
	WsLib string `json:"ws"`
	// Load averages (1 min) when the run started and ended: the numbers
	// are only comparable between runs on an otherwise idle machine.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

func describeMachine(c *config, benchDir string) machine {
	m := machine{Machine: harness.DescribeMachine(c.root), Node: "not found", LoadStart: harness.LoadAverage()}
	if out, err := harness.Output(c.root, "node", "--version"); err == nil {
		m.Node = out
	}
	m.Wscat = packageVersion(filepath.Join(benchDir, "node_modules", "wscat", "package.json"))
	m.WsLib = packageVersion(filepath.Join(benchDir, "node_modules", "ws", "package.json"))
	return m
}

type report struct {
	machine   machine
	config    *config
	workloads []*workload
	tools     []*tool
	results   map[string]map[string]*result // workload → tool → result
}

func (r *report) tool(name string) *tool {
	for _, t := range r.tools {
		if t.name == name {
			return t
		}
	}
	return nil
}

// markdown renders the results section.
func (r *report) markdown() string {
	var b strings.Builder
	m := r.machine
	fmt.Fprintf(&b, "Measured %s on %s (%d cores as seen by the Go runtime), Linux %s; %s, Node %s",
		m.Date.Format("2006-01-02 15:04 MST"), m.CPU, m.NProc, m.Kernel, m.Go, m.Node)
	if m.Wscat != "" {
		fmt.Fprintf(&b, ", wscat %s (ws %s)", m.Wscat, m.WsLib)
	}
	if m.Commit != "" {
		fmt.Fprintf(&b, "; wscope at commit %s", m.Commit)
	}
	b.WriteString(".\n")
	fmt.Fprintf(&b, "Load average (1 min) %s at the start, %s at the end", m.LoadStart, m.LoadEnd)
	if l, err := strconv.ParseFloat(m.LoadStart, 64); err == nil && l > 0.5*float64(m.NProc) {
		b.WriteString(" — **the machine was busy with other work; expect noise**")
	}
	if n := harness.Niced(); n != 0 {
		fmt.Fprintf(&b, ". The whole benchmark (driver, echo server, tools) ran at nice %d in a scheduling group of its own, so that other work took less of the CPUs from it", n)
	}
	b.WriteString(".\n")
	runs := "1 run per cell"
	if r.config.runs > 1 {
		runs = fmt.Sprintf("%d runs per cell, median wall time (min–max in parentheses), peak RSS the largest of the runs", r.config.runs)
	}
	fmt.Fprintf(&b, "%s. Wall time is from process start to exit: it includes starting the process, connecting and the close handshake. MB = 10⁶ bytes of payload echoed.", runs)
	if r.config.quick {
		b.WriteString(" **Quick run (`--quick`): reduced counts, not the reference numbers.**")
	}
	b.WriteString("\n\n")

	var notes []string
	for _, w := range r.workloads {
		fmt.Fprintf(&b, "### %s\n\n", w.title())
		b.WriteString("| tool | echoed intact | wall time | messages/s | MB/s | peak RSS |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
		for _, t := range r.tools {
			res := r.results[w.name][t.name]
			if !t.available {
				fmt.Fprintf(&b, "| %s | %s | – | – | – | – |\n", t.label, t.why)
				continue
			}
			med := res.median()
			mark := "✓"
			if !res.ok(w) {
				mark = "✗"
				for i, mm := range res.runs {
					if !mm.ok(w) {
						notes = append(notes, fmt.Sprintf("%s, %s, run %d: %s", t.label, w.title(), i+1, failure(mm, w)))
					}
				}
			}
			wall := harness.Seconds(med.wall)
			if len(res.runs) > 1 {
				lo, hi := res.wallRange()
				wall += fmt.Sprintf(" (%s–%s)", harness.Seconds(lo), harness.Seconds(hi))
			}
			fmt.Fprintf(&b, "| %s | %s / %s %s | %s | %s | %.1f | %.1f MiB |\n",
				t.label, harness.GroupDigits(med.received), harness.GroupDigits(w.count), mark, wall,
				harness.GroupDigits(int(harness.Rate(med.received, med.wall))),
				harness.MBps(int64(med.received)*int64(w.size), med.wall),
				float64(res.maxRSS())/1024)
		}
		b.WriteString("\n")
	}

	// Ratios of messages/s (equivalently MB/s, or the inverse ratio of wall
	// times), only between runs that echoed everything.
	b.WriteString("### Ratios (same run, messages/s)\n\n")
	b.WriteString("| workload | wscope ÷ wscat | wscope ÷ bare client | bare client ÷ wscat |\n")
	b.WriteString("| --- | ---: | ---: | ---: |\n")
	for _, w := range r.workloads {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", w.title(),
			r.ratio(w, "wscope", "wscat"), r.ratio(w, "wscope", "bare"), r.ratio(w, "bare", "wscat"))
	}
	b.WriteString("\n")
	b.WriteString(r.recordingRatios())

	b.WriteString("### Targets\n\n")
	if r.config.quick {
		b.WriteString("The targets are set for the full counts; with `--quick` the fixed costs (process start, connect) weigh more.\n\n")
	}
	b.WriteString("| target | measured | met |\n| --- | --- | --- |\n")
	if len(r.workloads) == 2 {
		small, large := r.workloads[0], r.workloads[1]
		x, ok := r.ratioValue(small, "wscope", "wscat")
		b.WriteString(targetRow(fmt.Sprintf("%s: wscope ≥ 10× wscat", small.title()), x, ok, func(v float64) string { return fmt.Sprintf("%.1f×", v) }, func(v float64) bool { return v >= 10 }))
		x, ok = r.ratioValue(small, "wscope", "bare")
		b.WriteString(targetRow(fmt.Sprintf("%s: wscope ≥ 0.5× bare client", small.title()), x, ok, func(v float64) string { return fmt.Sprintf("%.2f×", v) }, func(v float64) bool { return v >= 0.5 }))
		x, ok = r.value(large, "wscope", func(res *result, m *measurement) float64 {
			return harness.MBps(large.payloadBytes(), m.wall)
		})
		b.WriteString(targetRow(fmt.Sprintf("%s: wscope ≥ 500 MB/s", large.title()), x, ok, func(v float64) string { return fmt.Sprintf("%.0f MB/s", v) }, func(v float64) bool { return v >= 500 }))
		x, ok = r.value(large, "wscope", func(res *result, m *measurement) float64 {
			return float64(res.maxRSS()) / 1024
		})
		b.WriteString(targetRow(fmt.Sprintf("%s: wscope peak RSS < 50 MiB", large.title()), x, ok, func(v float64) string { return fmt.Sprintf("%.1f MiB", v) }, func(v float64) bool { return v < 50 }))
	}
	b.WriteString("\n")

	if len(notes) > 0 {
		b.WriteString("Failures:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func failure(m *measurement, w *workload) string {
	var parts []string
	if m.timedOut {
		parts = append(parts, "timed out")
	}
	if m.exit != 0 {
		parts = append(parts, fmt.Sprintf("exit status %d", m.exit))
	}
	if m.received != w.count {
		parts = append(parts, fmt.Sprintf("%d of %d messages echoed intact", m.received, w.count))
	}
	if m.mismatch != "" {
		parts = append(parts, "first difference: "+m.mismatch)
	}
	if m.err != "" {
		parts = append(parts, "`"+strings.ReplaceAll(harness.LastLine(m.err), "`", "'")+"`")
	}
	return strings.Join(parts, "; ")
}

func targetRow(name string, v float64, ok bool, format func(float64) string, met func(float64) bool) string {
	if !ok {
		return fmt.Sprintf("| %s | n/a | n/a |\n", name)
	}
	yes := "**no**"
	if met(v) {
		yes = "yes"
	}
	return fmt.Sprintf("| %s | %s | %s |\n", name, format(v), yes)
}

// value computes f on the median run of tool on w, if every run was intact.
func (r *report) value(w *workload, tool string, f func(*result, *measurement) float64) (float64, bool) {
	t := r.tool(tool)
	if t == nil || !t.available {
		return 0, false
	}
	res := r.results[w.name][tool]
	if !res.ok(w) {
		return 0, false
	}
	return f(res, res.median()), true
}

func (r *report) ratioValue(w *workload, a, b string) (float64, bool) {
	wa, ok := r.value(w, a, func(_ *result, m *measurement) float64 { return m.wall.Seconds() })
	if !ok {
		return 0, false
	}
	wb, ok := r.value(w, b, func(_ *result, m *measurement) float64 { return m.wall.Seconds() })
	if !ok || wa <= 0 {
		return 0, false
	}
	return wb / wa, true
}

func (r *report) ratio(w *workload, a, b string) string {
	v, ok := r.ratioValue(w, a, b)
	if !ok {
		return "n/a"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// jsonResults is every run, for whoever wants more than the table.
func (r *report) jsonResults() any {
	type run struct {
		WallSeconds float64 `json:"wall_seconds"`
		PeakRSSKiB  int64   `json:"peak_rss_kib"`
		Exit        int     `json:"exit"`
		TimedOut    bool    `json:"timed_out,omitempty"`
		Received    int     `json:"received"`
		Mismatch    string  `json:"mismatch,omitempty"`
		Error       string  `json:"error,omitempty"`
	}
	type toolResult struct {
		Tool      string `json:"tool"`
		Label     string `json:"label"`
		Available bool   `json:"available"`
		Why       string `json:"why,omitempty"`
		Runs      []run  `json:"runs"`
	}
	type workloadResult struct {
		Name  string       `json:"name"`
		Count int          `json:"count"`
		Size  int          `json:"size"`
		Tools []toolResult `json:"tools"`
	}
	out := struct {
		Machine   machine          `json:"machine"`
		Quick     bool             `json:"quick"`
		Workloads []workloadResult `json:"workloads"`
	}{Machine: r.machine, Quick: r.config.quick}
	for _, w := range r.workloads {
		wr := workloadResult{Name: w.name, Count: w.count, Size: w.size}
		for _, t := range r.tools {
			tr := toolResult{Tool: t.name, Label: t.label, Available: t.available, Why: t.why, Runs: []run{}}
			for _, m := range r.results[w.name][t.name].runs {
				tr.Runs = append(tr.Runs, run{m.wall.Seconds(), m.rssKiB, m.exit, m.timedOut, m.received, m.mismatch, m.err})
			}
			wr.Tools = append(wr.Tools, tr)
		}
		out.Workloads = append(out.Workloads, wr)
	}
	return out
}

const (
	beginMarker = "<!-- BEGIN RESULTS: written by `go run ./bench/run`; edits between these markers are overwritten -->"
	endMarker   = "<!-- END RESULTS -->"

	atScaleBegin = "<!-- BEGIN RESULTS AT SCALE: written by `go run ./bench/run -at-scale`; edits between these markers are overwritten -->"
	atScaleEnd   = "<!-- END RESULTS AT SCALE -->"
)
