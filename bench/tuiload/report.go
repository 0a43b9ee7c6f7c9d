package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

const (
	beginMarker = "<!-- BEGIN TUI LOAD RESULTS: written by `go run ./bench/tuiload`; edits between these markers are overwritten -->"
	endMarker   = "<!-- END TUI LOAD RESULTS -->"
)

type report struct {
	Machine   harness.Machine `json:"machine"`
	LoadStart string          `json:"load_start"`
	LoadEnd   string          `json:"load_end"`
	Frames    int             `json:"frames"`
	Size      int             `json:"size"`
	Runs      []run           `json:"runs"`
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString(r.Machine.Measured())
	fmt.Fprintf(&b, "Load average (1 min) %s at the start, %s at the end", r.LoadStart, r.LoadEnd)
	if n := harness.Niced(); n != 0 {
		fmt.Fprintf(&b, "; the benchmark ran at nice %d in a scheduling group of its own", n)
	}
	fmt.Fprintf(&b, ". %s text frames of %d bytes, a 120×40 terminal; a key press every 100 ms or so (? opens the help screen, ? closes it) while the frames arrive, timed until the help screen is drawn.\n\n",
		harness.GroupDigits(r.Frames), r.Size)
	b.WriteString("| --scrollback | frames taken in | frames/s | key press → help screen, median | slowest | presses answered | peak RSS | RSS at the end |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.Runs {
		med, worst := "–", "–"
		if len(x.Presses) > 0 {
			p := slices.Clone(x.Presses)
			slices.Sort(p)
			med, worst = ms(p[len(p)/2]), ms(p[len(p)-1])
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d of %d | %s | %s |\n",
			harness.GroupDigits(x.Scrollback), harness.Seconds(x.SendTime), harness.GroupDigits(int(float64(r.Frames)/x.SendTime.Seconds())),
			med, worst, len(x.Presses), len(x.Presses)+x.Missed, harness.MiB(x.PeakRSS), harness.MiB(x.EndRSS))
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
