package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

const (
	beginMarker = "<!-- BEGIN LISTEN LOAD RESULTS: written by `go run ./bench/listenload`; edits between these markers are overwritten -->"
	endMarker   = "<!-- END LISTEN LOAD RESULTS -->"
)

// report is one run: the machine and every phase, in order.
type report struct {
	Machine     harness.Machine `json:"machine"`
	LoadStart   string          `json:"load_start"`
	LoadEnd     string          `json:"load_end"`
	Samples     int             `json:"samples"`
	FileLimit   uint64          `json:"file_limit"`
	BaselineRSS int64           `json:"baseline_rss"` // the server before any client
	Phases      []phase         `json:"phases"`
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString(r.Machine.Measured())
	fmt.Fprintf(&b, "Load average (1 min) %s at the start, %s at the end. Open-files limit %s. The server's resident memory before the first client: %s.\n\n",
		r.LoadStart, r.LoadEnd, harness.GroupDigits(int(r.FileLimit)), harness.MiB(r.BaselineRSS))
	fmt.Fprintf(&b, "The phases ran in this order against one `wscope listen 127.0.0.1:0 --echo` process. Round trips: %s sequential 32-byte text messages, each on a held client chosen at random, while every client of the phase is connected.\n\n",
		harness.GroupDigits(r.Samples))
	b.WriteString("| clients | connected | connecting took | server RSS, all held | per client | p50 | p90 | p99 | max | server RSS after they left | peak RSS so far |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range r.Phases {
		per := "–"
		if p.Connected > 0 {
			per = fmt.Sprintf("%.1f KiB", float64(p.RSSHeld-p.RSSBefore)/1024/float64(p.Connected))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			harness.GroupDigits(p.Clients), harness.GroupDigits(p.Connected), harness.Seconds(p.ConnectTime),
			harness.MiB(p.RSSHeld), per, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max), harness.MiB(p.RSSAfter), harness.MiB(p.PeakRSS))
	}
	b.WriteString("\n")
	for _, p := range r.Phases {
		if p.Asked > p.Clients {
			fmt.Fprintf(&b, "- %s clients were asked for; the open-files limit (%s, the hard limit, which this process may not raise) allowed %s on each side.\n",
				harness.GroupDigits(p.Asked), harness.GroupDigits(int(r.FileLimit)), harness.GroupDigits(p.Clients))
		}
		if p.Failed > 0 {
			fmt.Fprintf(&b, "- %s clients: %d of %d round trips failed.\n", harness.GroupDigits(p.Clients), p.Failed, p.Failed+p.Samples)
		}
	}
	return b.String()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
