package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// formatTally writes a tally as "OK 286, FAILED 55".
func formatTally(t tally, keys []string) string {
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%s %d", k, t[k]))
	}
	return strings.Join(s, ", ")
}

// writeSummary prints one run: counts by behaviour and by behaviorClose,
// the cases that are not OK by section, and what wscope said per case.
func writeSummary(w io.Writer, r runResult) {
	fmt.Fprintf(w, "%s: wscope %s (agent %s): %d cases in %s\n", r.Role, command(r.Role, r.Mode), r.Mode.agent(), len(r.Cases), r.Elapsed.Round(time.Second))
	if r.Err != nil {
		fmt.Fprintf(w, "  RUN INCOMPLETE: %v\n", r.Err)
	}
	b := countBehavior(r.Cases, false)
	fmt.Fprintf(w, "  behavior:      %s\n", formatTally(b, b.keys()))
	bc := countBehavior(r.Cases, true)
	fmt.Fprintf(w, "  behaviorClose: %s\n", formatTally(bc, bc.keys()))
	groups := notOK(r.Cases)
	for _, behavior := range b.keys() {
		g := groups[behavior]
		if g == nil {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", behavior)
		for _, s := range sortedSections(g) {
			fmt.Fprintf(w, "    %s.x (%d): %s\n", s, len(g[s]), ranges(g[s]))
		}
	}
	fmt.Fprintf(w, "  wscope %s\n", wscopeSaid(r))
}

// wscopeSaid sums up what wscope said per case: its exit statuses as a
// client, the connection ends by close code as a server.
func wscopeSaid(r runResult) string {
	if r.Role == serverRole {
		return "connection ends: " + formatEnds(wscopeCounts(r.Cases))
	}
	return "exit status: " + formatCounts(wscopeCounts(r.Cases))
}

// formatCounts writes a tally largest first: "230 × exit 0; 131 × exit 4".
func formatCounts(t tally) string {
	var s []string
	for _, k := range t.byCount() {
		s = append(s, fmt.Sprintf("%d × %s", t[k], k))
	}
	return strings.Join(s, "; ")
}

// check prints the cases of the --strict runs whose behaviour is gated
// (FAILED, NON-STRICT, UNIMPLEMENTED, or missing from the suite's report),
// and every run that did not complete; it reports whether all passed.
func check(w io.Writer, results []runResult) bool {
	ok := true
	for _, r := range results {
		if !r.Mode.strict {
			continue
		}
		var bad []caseResult
		for _, c := range r.Cases {
			if gated(c.Behavior) {
				bad = append(bad, c)
			}
		}
		if r.Err == nil && len(bad) == 0 {
			fmt.Fprintf(w, "check %s %s: all %d cases pass\n", r.Role, r.Mode.agent(), len(r.Cases))
			continue
		}
		ok = false
		fmt.Fprintf(w, "CHECK FAILED: %s, wscope %s: %d of %d cases %s\n", r.Role, command(r.Role, r.Mode), len(bad), len(r.Cases), gatedNames)
		if r.Err != nil {
			fmt.Fprintf(w, "  the run did not complete: %v\n", r.Err)
		}
		detail := pickDetailed(bad, detailCases)
		var rest []string
		for i, c := range bad {
			if detail[i] {
				writeCaseDetail(w, c)
			} else {
				rest = append(rest, c.ID)
			}
		}
		if len(rest) > 0 {
			fmt.Fprintf(w, "  and %d more: %s\n", len(rest), clip(ranges(rest), 10*lineWidth))
		}
	}
	return ok
}

// pickDetailed chooses which of the cases -check prints in detail, at most
// n: the first of each behaviour and section, then the first of each
// behaviour and subsection, then the others in order, so that a section
// with many failures does not hide the others.
func pickDetailed(cases []caseResult, n int) map[int]bool {
	picked := map[int]bool{}
	parent := func(id string) string {
		if i := strings.LastIndex(id, "."); i >= 0 {
			return id[:i]
		}
		return id
	}
	for _, group := range []func(string) string{section, parent, func(id string) string { return id }} {
		seen := map[string]bool{}
		for i, c := range cases {
			key := c.Behavior + " " + group(c.ID)
			if len(picked) == n {
				return picked
			}
			if !seen[key] && !picked[i] {
				picked[i] = true
			}
			seen[key] = true
		}
	}
	return picked
}

const gatedNames = "FAILED, NON-STRICT, UNIMPLEMENTED or MISSING"
