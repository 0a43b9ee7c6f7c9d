package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Behaviours the suite gives a case, in the order the summaries show them;
// missing is the driver's own: a case the suite was asked for and did not
// report.
const (
	behaviorOK            = "OK"
	behaviorNonStrict     = "NON-STRICT"
	behaviorInformational = "INFORMATIONAL"
	behaviorUnimplemented = "UNIMPLEMENTED"
	behaviorFailed        = "FAILED"
	behaviorMissing       = "MISSING"
)

var behaviorOrder = []string{behaviorOK, behaviorNonStrict, behaviorInformational, behaviorUnimplemented, behaviorFailed, behaviorMissing}

// gated reports whether a behaviour fails the -check of a --strict mode.
func gated(behavior string) bool {
	switch behavior {
	case behaviorNonStrict, behaviorUnimplemented, behaviorFailed, behaviorMissing:
		return true
	}
	return false
}

// indexEntry is one case of one agent in the suite's index.json.
type indexEntry struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int    `json:"duration"` // milliseconds
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// readIndex reads the suite's index.json: agent -> case id -> entry.
func readIndex(path string) (map[string]map[string]indexEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var index map[string]map[string]indexEntry
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return index, nil
}

// caseResult is one case of one run: the suite's verdict and what wscope
// itself said (its exit status as a client, its account of the
// connection's end as a server).
type caseResult struct {
	ID            string
	Behavior      string
	BehaviorClose string
	Duration      time.Duration
	ReportFile    string // absolute; "" when missing
	Wscope        string // e.g. "exit 4", "killed after 30s", "closed: 1000 Normal Closure by client, clean"
	Stderr        string // the last lines wscope wrote on stderr (client role)
}

// runResult is one role and mode over a profile's cases.
type runResult struct {
	Role    role
	Mode    mode
	Cases   []caseResult // in the suite's order
	Elapsed time.Duration
	Err     error // the run itself went wrong (its cases may be partial)
}

// joinIndex builds the cases of agent from the index, in the order of ids
// (the cases the suite was asked for), marking those it did not report as
// missing; wscope maps a case id to what wscope said about it.
func joinIndex(index map[string]map[string]indexEntry, reportDir, agent string, ids []string, wscope map[string]string, stderr map[string]string) []caseResult {
	entries := index[agent]
	out := make([]caseResult, 0, len(ids))
	for _, id := range ids {
		c := caseResult{ID: id, Behavior: behaviorMissing, BehaviorClose: behaviorMissing, Wscope: wscope[id], Stderr: stderr[id]}
		if e, ok := entries[id]; ok {
			c.Behavior, c.BehaviorClose = e.Behavior, e.BehaviorClose
			c.Duration = time.Duration(e.Duration) * time.Millisecond
			if e.ReportFile != "" {
				c.ReportFile = filepath.Join(reportDir, e.ReportFile)
			}
		}
		out = append(out, c)
	}
	return out
}

// caseKey orders case ids as the suite does: by their numbers, so 9.10.1
// comes after 9.2.1.
func caseKey(id string) []int {
	var k []int
	for _, p := range strings.Split(id, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			n = -1
		}
		k = append(k, n)
	}
	return k
}

func compareCases(a, b string) int { return slices.Compare(caseKey(a), caseKey(b)) }

func sortCases(ids []string) { slices.SortFunc(ids, compareCases) }

// section is a case id's first number: "6" for 6.4.1.
func section(id string) string {
	s, _, _ := strings.Cut(id, ".")
	return s
}

// tally counts a run's cases by behaviour (or by behaviorClose).
type tally map[string]int

func countBehavior(cases []caseResult, close bool) tally {
	t := tally{}
	for _, c := range cases {
		if close {
			t[c.BehaviorClose]++
		} else {
			t[c.Behavior]++
		}
	}
	return t
}

// keys lists the behaviours present, the known ones in behaviorOrder first.
func (t tally) keys() []string {
	var out []string
	for _, b := range behaviorOrder {
		if t[b] > 0 {
			out = append(out, b)
		}
	}
	var other []string
	for b := range t {
		if !slices.Contains(behaviorOrder, b) {
			other = append(other, b)
		}
	}
	slices.Sort(other)
	return append(out, other...)
}

// notOK groups the ids of the cases whose behaviour is not OK: behaviour
// -> section -> ids, in the suite's order.
func notOK(cases []caseResult) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, c := range cases {
		if c.Behavior == behaviorOK {
			continue
		}
		if out[c.Behavior] == nil {
			out[c.Behavior] = map[string][]string{}
		}
		s := section(c.ID)
		out[c.Behavior][s] = append(out[c.Behavior][s], c.ID)
	}
	return out
}

// sortedSections lists the sections of a group in numeric order.
func sortedSections(m map[string][]string) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sortCases(s)
	return s
}

// ranges writes sorted case ids compactly: runs of consecutive last numbers
// under the same parent become "6.4.1-6.4.4".
func ranges(ids []string) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && consecutive(ids[j], ids[j+1]) {
			j++
		}
		if j == i {
			parts = append(parts, ids[i])
		} else {
			parts = append(parts, ids[i]+"-"+ids[j])
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// consecutive reports whether b is the case right after a in the same
// subsection (6.4.1, 6.4.2).
func consecutive(a, b string) bool {
	ka, kb := caseKey(a), caseKey(b)
	if len(ka) != len(kb) || len(ka) == 0 {
		return false
	}
	n := len(ka) - 1
	return slices.Equal(ka[:n], kb[:n]) && ka[n] >= 0 && kb[n] == ka[n]+1
}

// sectionsOf lists the sections of the cases whose behaviour is b, with
// their counts: "6.x (75)".
func sectionsOf(cases []caseResult, behaviors ...string) string {
	count := map[string]int{}
	for _, c := range cases {
		if slices.Contains(behaviors, c.Behavior) {
			count[section(c.ID)]++
		}
	}
	var s []string
	for k := range count {
		s = append(s, k)
	}
	sortCases(s)
	var parts []string
	for _, k := range s {
		parts = append(parts, fmt.Sprintf("%s.x (%d)", k, count[k]))
	}
	return strings.Join(parts, ", ")
}

// wscopeCounts counts what wscope said per case: "exit 0" -> 290.
func wscopeCounts(cases []caseResult) tally {
	t := tally{}
	for _, c := range cases {
		w := c.Wscope
		if w == "" {
			w = "(nothing)"
		}
		t[w]++
	}
	return t
}

// byCount lists a tally's keys, the largest count first.
func (t tally) byCount() []string {
	var k []string
	for key := range t {
		k = append(k, key)
	}
	slices.SortFunc(k, func(a, b string) int {
		if t[a] != t[b] {
			return t[b] - t[a]
		}
		return strings.Compare(a, b)
	})
	return k
}

// filterCases keeps the cases whose ids match one of the patterns.
func filterCases(cases []caseResult, patterns []string) []caseResult {
	var out []caseResult
	for _, c := range cases {
		if matchAny(patterns, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// endLine is how wscope listen says a connection ended: "closed: 1002
// Protocol Error by server, not clean: connection closed without a close
// frame" (close reason already left out).
var endLine = regexp.MustCompile(`^closed: (\d+) .*? by (client|server), (clean|not clean)(: .*)?$`)

// formatEnds writes the tally of connection ends grouped by who closed,
// whether cleanly and any detail, with the close codes of each group:
// "230 × closed by client, clean (1000 × 229; 1001 × 1); ...". Ends in
// another form are counted as they are.
func formatEnds(t tally) string {
	type group struct {
		total int
		codes tally
	}
	groups := map[string]*group{}
	other := tally{}
	for end, n := range t {
		m := endLine.FindStringSubmatch(end)
		if m == nil {
			other[end] += n
			continue
		}
		key := "closed by " + m[2] + ", " + m[3] + m[4]
		if groups[key] == nil {
			groups[key] = &group{codes: tally{}}
		}
		groups[key].total += n
		groups[key].codes[m[1]] += n
	}
	var keys []string
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if groups[a].total != groups[b].total {
			return groups[b].total - groups[a].total
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys {
		g := groups[k]
		var codes, once []string
		for _, code := range g.codes.byCount() {
			switch n := g.codes[code]; {
			case n == g.total:
				codes = append(codes, code)
			case n > 1:
				codes = append(codes, fmt.Sprintf("%s × %d", code, n))
			default:
				once = append(once, code)
			}
		}
		sortCases(once)
		if len(once) == 1 {
			codes = append(codes, once[0]+" × 1")
		} else if len(once) > 1 {
			codes = append(codes, "once each: "+strings.Join(once, ", "))
		}
		parts = append(parts, fmt.Sprintf("%d × %s (%s)", g.total, k, strings.Join(codes, "; ")))
	}
	if len(other) > 0 {
		parts = append(parts, formatCounts(other))
	}
	return strings.Join(parts, "; ")
}
