package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMatchCaseReadsPatternsAsTheSuite(t *testing.T) {
	for _, tc := range []struct {
		pattern, id string
		want        bool
	}{
		{"1.*", "1.1.1", true},
		{"1.*", "10.1.1", false},
		{"12.1.3", "12.1.3", true},
		{"12.1.3", "12.1.30", false},
		{"*", "13.7.18", true},
		{"6.4.*", "6.4.4", true},
		{"6.4.*", "6.14.1", false},
	} {
		if got := matchCase(tc.pattern, tc.id); got != tc.want {
			t.Errorf("matchCase(%q, %q) = %v, want %v", tc.pattern, tc.id, got, tc.want)
		}
	}
}

func TestProfilesPatterns(t *testing.T) {
	quick, _ := findProfile("quick")
	ci, _ := findProfile("ci")
	// 8 sections, and 5 cases of the 5 subsections of 12.* and the 7 of 13.*.
	if len(quick.patterns) != 8+5*5+7*5 {
		t.Errorf("quick has %d patterns, want %d", len(quick.patterns), 8+5*5+7*5)
	}
	if !slices.Contains(quick.patterns, "13.7.5") || !slices.Contains(quick.patterns, "12.5.5") ||
		slices.Contains(quick.patterns, "12.6.1") || slices.Contains(quick.patterns, "12.1.6") || slices.Contains(quick.patterns, "9.*") {
		t.Errorf("quick patterns: %v", quick.patterns)
	}
	if len(ci.patterns) != len(quick.patterns)+1 || ci.patterns[len(ci.patterns)-1] != "9.*" {
		t.Errorf("ci patterns: %v", ci.patterns)
	}
	if _, err := findProfile("nightly"); err == nil {
		t.Error("an unknown profile was accepted")
	}
}

func TestParseModes(t *testing.T) {
	ms, err := parseModes("strict-deflate, default")
	if err != nil || len(ms) != 2 || ms[0].agent() != "wscope-strict-deflate" || ms[1].agent() != "wscope-default" {
		t.Fatalf("parseModes: %v %v", ms, err)
	}
	if got := command(serverRole, ms[0]); got != "listen --echo --strict --compress" {
		t.Errorf("command = %q", got)
	}
	if got := command(clientRole, ms[1]); got != "connect --echo" {
		t.Errorf("command = %q", got)
	}
	if all, _ := parseModes("all"); len(all) != 4 {
		t.Errorf("all is %d modes", len(all))
	}
	if _, err := parseModes("strict,fast"); err == nil || !strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("unknown mode: %v", err)
	}
}

func TestCaseOrderIsNumeric(t *testing.T) {
	ids := []string{"9.10.1", "10.1.1", "9.2.1", "2.10", "2.9", "12.1.10", "12.1.9"}
	sortCases(ids)
	want := []string{"2.9", "2.10", "9.2.1", "9.10.1", "10.1.1", "12.1.9", "12.1.10"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %v, want %v", ids, want)
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{nil, ""},
		{[]string{"7.3.6"}, "7.3.6"},
		{[]string{"6.4.1", "6.4.2", "6.4.3", "6.4.4", "6.5.1"}, "6.4.1-6.4.4, 6.5.1"},
		{[]string{"2.9", "2.10", "2.11", "3.1"}, "2.9-2.11, 3.1"},
		{[]string{"13.3.1", "13.3.3", "13.3.4"}, "13.3.1, 13.3.3-13.3.4"},
	} {
		if got := ranges(tc.ids); got != tc.want {
			t.Errorf("ranges(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

// testdata holds an index.json and one case report as the suite writes
// them (6.4.1 from a client run of wscope --strict --compress).
func readTestIndex(t *testing.T) []caseResult {
	t.Helper()
	index, err := readIndex(filepath.Join("testdata", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"1.1.1", "6.4.1", "6.4.2", "7.1.1", "9.2.1", "9.10.1", "12.1.1", "13.3.1", "13.3.2"}
	said := map[string]string{"1.1.1": "exit 0", "6.4.1": "exit 4", "6.4.2": "exit 4", "9.2.1": "exit 0", "9.10.1": "killed after 1m0s"}
	stderr := map[string]string{"6.4.1": "wscope: one\nwscope: two\nwscope: three\nwscope: message: text-invalid-utf8 (RFC 6455 8.1)\n"}
	return joinIndex(index, "testdata", "wscope-strict", ids, said, stderr)
}

func TestJoinIndexAndSummary(t *testing.T) {
	cases := readTestIndex(t)
	if len(cases) != 9 {
		t.Fatalf("%d cases, want 9", len(cases))
	}
	// 7.1.1 was asked for and is not in the index.
	if c := cases[3]; c.ID != "7.1.1" || c.Behavior != behaviorMissing || c.ReportFile != "" {
		t.Errorf("case 7.1.1: %+v", c)
	}
	if c := cases[1]; c.ID != "6.4.1" || c.Behavior != behaviorFailed || c.Duration != 2004*time.Millisecond || c.ReportFile != filepath.Join("testdata", "wscope-strict_case_6_4_1.json") {
		t.Errorf("case 6.4.1: %+v", c)
	}
	b := countBehavior(cases, false)
	want := tally{behaviorOK: 2, behaviorNonStrict: 1, behaviorInformational: 1, behaviorUnimplemented: 3, behaviorFailed: 1, behaviorMissing: 1}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, b[k], v, b)
		}
	}
	if got := sectionsOf(cases, behaviorUnimplemented); got != "12.x (1), 13.x (2)" {
		t.Errorf("UNIMPLEMENTED sections: %q", got)
	}

	r := runResult{Role: clientRole, Mode: modes[1], Cases: cases, Elapsed: 95 * time.Second}
	var out bytes.Buffer
	writeSummary(&out, r)
	for _, line := range []string{
		"client: wscope connect --echo --strict (agent wscope-strict): 9 cases in 1m35s",
		"  behavior:      OK 2, NON-STRICT 1, INFORMATIONAL 1, UNIMPLEMENTED 3, FAILED 1, MISSING 1",
		"  behaviorClose: OK 6, INFORMATIONAL 1, FAILED 1, MISSING 1",
		"    13.x (2): 13.3.1-13.3.2",
		"    6.x (1): 6.4.1",
		"  wscope exit status: 4 × (nothing); 2 × exit 0; 2 × exit 4; 1 × killed after 1m0s",
	} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("summary lacks %q:\n%s", line, out.String())
		}
	}
}

func TestCheckGatesStrictModesOnly(t *testing.T) {
	cases := readTestIndex(t)
	var out bytes.Buffer
	if check(&out, []runResult{{Role: serverRole, Mode: modes[2], Cases: cases}}) != true {
		t.Errorf("the default-deflate mode was gated:\n%s", out.String())
	}
	if check(&out, []runResult{{Role: clientRole, Mode: modes[0], Cases: cases[:1]}}) != true {
		t.Errorf("one OK case failed the check:\n%s", out.String())
	}
	out.Reset()
	if check(&out, []runResult{{Role: clientRole, Mode: modes[0], Cases: cases}}) {
		t.Fatal("the check passed with FAILED cases")
	}
	s := out.String()
	for _, want := range []string{
		"CHECK FAILED: client, wscope connect --echo --strict --compress: 6 of 9 cases",
		"  6.4.1: FAILED (close FAILED); wscope: exit 4",
		"    expected for OK: timeout A",
		"    received: timeout A, timeout B",
		"    handshake: extensions offered: permessage-deflate; answered: none",
		"    close: The connection was failed by the wrong endpoint; expected code [1007] from wscope; wscope sent none, suite sent 1007",
		"    wire log, last 10 of 13 rows:",
		"      wscope's bytes: 66: 81951e32",
		`      suite sent:  op=0 fin=true rsv=0 len=6 "edited"`,
		"      suite dropped the TCP connection",
		"    stderr: wscope: message: text-invalid-utf8 (RFC 6455 8.1)",
		"  7.1.1: MISSING (close MISSING); wscope: (nothing)",
		"    no report: the suite did not record this case",
		"    report unreadable: ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("check output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "wscope: one") {
		t.Errorf("more than %d stderr lines printed:\n%s", stderrLines, s)
	}
	// 9.10.1 is INFORMATIONAL: not gated.
	if strings.Contains(s, "9.10.1") {
		t.Errorf("an INFORMATIONAL case was reported:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if n := len([]rune(line)); n > lineWidth+4 {
			t.Errorf("line of %d characters: %q", n, line[:40])
		}
	}

	out.Reset()
	if check(&out, []runResult{{Role: serverRole, Mode: modes[1], Err: errTest}}) {
		t.Error("an incomplete run passed the check")
	}
	if !strings.Contains(out.String(), "the run did not complete: the suite fell over") {
		t.Errorf("check output: %s", out.String())
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("the suite fell over")

func TestCheckOutputIsBounded(t *testing.T) {
	var cases []caseResult
	for i := 1; i <= 200; i++ {
		cases = append(cases, caseResult{ID: "6.1." + strconv.Itoa(i), Behavior: behaviorFailed, BehaviorClose: behaviorFailed,
			ReportFile: filepath.Join("testdata", "wscope-strict_case_6_4_1.json"), Stderr: strings.Repeat("x", 5000)})
	}
	var out bytes.Buffer
	check(&out, []runResult{{Role: clientRole, Mode: modes[0], Cases: cases}})
	if n := out.Len(); n > 40<<10 {
		t.Errorf("check printed %d bytes for 200 failed cases", n)
	}
	if !strings.Contains(out.String(), "  and 188 more: 6.1.13-6.1.200\n") {
		t.Errorf("the rest is not listed by id:\n%s", out.String()[max(0, out.Len()-300):])
	}
}

func TestReplaceSectionKeepsHandWrittenText(t *testing.T) {
	doc := "# Conformance\n\nHand-written.\n\n<!-- autobahn:ci:begin -->\nold ci\n<!-- autobahn:ci:end -->\n\nMore hand-written.\n\n<!-- autobahn:full:begin -->\nold full\n<!-- autobahn:full:end -->\n"
	got := replaceSection(doc, "ci", "new ci\n")
	want := "# Conformance\n\nHand-written.\n\n<!-- autobahn:ci:begin -->\n\nnew ci\n\n<!-- autobahn:ci:end -->\n\nMore hand-written.\n\n<!-- autobahn:full:begin -->\nold full\n<!-- autobahn:full:end -->\n"
	if got != want {
		t.Errorf("replaceSection:\n%s\nwant:\n%s", got, want)
	}
	if again := replaceSection(got, "ci", "new ci\n"); again != got {
		t.Errorf("a second rewrite changed the doc:\n%s", again)
	}
	appended := replaceSection("# Conformance\n\nText.", "quick", "q\n")
	if want := "# Conformance\n\nText.\n\n## Results: quick profile\n\n<!-- autobahn:quick:begin -->\n\nq\n\n<!-- autobahn:quick:end -->\n"; appended != want {
		t.Errorf("a doc without markers became:\n%q\nwant:\n%q", appended, want)
	}
}

func TestResultsMarkdown(t *testing.T) {
	cases := readTestIndex(t)
	ci, _ := findProfile("ci")
	info := runInfo{Date: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Commit: "abc1234", Go: "go1.26.8", Suite: "Autobahn 0.10.9, AutobahnTestSuite 25.10.1", Machine: "2 × CPU", Profile: ci, Command: "go run ./conformance/autobahn -profile ci -doc docs/conformance.md"}
	results := []runResult{
		{Role: clientRole, Mode: modes[0], Cases: cases, Elapsed: 150 * time.Second},
		{Role: serverRole, Mode: modes[3], Cases: cases[:2], Elapsed: 61 * time.Second, Err: errTest},
	}
	md := resultsMarkdown(info, results)
	for _, want := range []string{
		"Generated by `go run ./conformance/autobahn -profile ci -doc docs/conformance.md` on 2026-12-02",
		"Profile `ci`: 9 cases (quick plus 9.*",
		"| role | wscope | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED | MISSING | not OK in | time |",
		"| client | `connect --echo --strict --compress` | 9 | 2 | 1 | 1 | 3 | 1 | 1 | NON-STRICT: 6.x (1); INFORMATIONAL: 9.x (1); UNIMPLEMENTED: 12.x (1), 13.x (2); FAILED: 6.x (1); MISSING: 7.x (1) | 2m30s |",
		"| server | `listen --echo` | 2 | 1 | 0 | 0 | 0 | 1 | 0 | FAILED: 6.x (1) | 1m01s |",
		// the quick profile's cases: 9.* left out
		"| client | `connect --echo --strict --compress` | 7 | 1 | 1 | 0 | 3 | 1 | 1 |",
		"| reference | Node `ws` 8.23 client | 307 | 300 | 4 | 3 | 0 | 0 |",
		"- client, `connect --echo --strict --compress`: exit status: 4 × (nothing); 2 × exit 0; 2 × exit 4; 1 × killed after 1m0s.\n",
		"  - UNIMPLEMENTED, 13.x (2): 13.3.1-13.3.2\n",
		"- server, `listen --echo`: the run did not complete (the suite fell over);\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestPickDetailedSpreadsOverSections(t *testing.T) {
	var cases []caseResult
	for i := 1; i <= 30; i++ {
		cases = append(cases, caseResult{ID: "6.4." + strconv.Itoa(i), Behavior: behaviorFailed})
	}
	cases = append(cases, caseResult{ID: "6.5.1", Behavior: behaviorFailed}, caseResult{ID: "13.3.1", Behavior: behaviorUnimplemented}, caseResult{ID: "13.3.2", Behavior: behaviorUnimplemented})
	picked := pickDetailed(cases, 4)
	var ids []string
	for i, c := range cases {
		if picked[i] {
			ids = append(ids, c.ID)
		}
	}
	// first of each section (6.4.1, 13.3.1), then of each subsection
	// (6.5.1), then in order (6.4.2).
	if want := []string{"6.4.1", "6.4.2", "6.5.1", "13.3.1"}; !slices.Equal(ids, want) {
		t.Errorf("picked %v, want %v", ids, want)
	}
}

func TestFormatEndsGroupsByCloser(t *testing.T) {
	ends := tally{
		"closed: 1000 Normal Closure by client, clean":                                              229,
		"closed: 1001 Going Away by client, clean":                                                  1,
		"closed: 1007 Invalid Frame Payload Data by server, not clean":                              75,
		"closed: 1002 Protocol Error by server, not clean: connection closed without a close frame": 14,
		"closed: 3000 Registered by client, not clean":                                              1,
		"closed: 1011 Internal Error by client, not clean":                                          1,
		"(nothing)": 2,
	}
	want := "230 × closed by client, clean (1000 × 229; 1001 × 1); 75 × closed by server, not clean (1007); " +
		"14 × closed by server, not clean: connection closed without a close frame (1002); " +
		"2 × closed by client, not clean (once each: 1011, 3000); 2 × (nothing)"
	if got := formatEnds(ends); got != want {
		t.Errorf("formatEnds:\n%s\nwant:\n%s", got, want)
	}
}

// The deflate sections run only where wscope was asked to compress.
func TestModeRunsDeflateCasesOnlyWithCompress(t *testing.T) {
	ids := []string{"1.1.1", "9.1.1", "12.1.1", "13.7.18"}
	for _, m := range modes {
		got := strings.Join(m.casesRun(ids), ",")
		want := "1.1.1,9.1.1"
		if m.compress {
			want = "1.1.1,9.1.1,12.1.1,13.7.18"
		}
		if got != want {
			t.Errorf("mode %s runs %s, want %s", m.name, got, want)
		}
		if m.compress != (len(m.excluded()) == 0) {
			t.Errorf("mode %s excludes %v", m.name, m.excluded())
		}
	}
}

// Runs saved apart load back as one set; a role and mode twice is refused.
func TestSaveLoadRuns(t *testing.T) {
	dir := t.TempDir()
	strict := modes[1]
	client := []runResult{{Role: clientRole, Mode: strict, Elapsed: time.Minute, Cases: []caseResult{{ID: "1.1.1", Behavior: behaviorOK, BehaviorClose: behaviorOK, Wscope: "exit 0"}}}}
	server := []runResult{{Role: serverRole, Mode: strict, Err: errors.New("cut short")}}
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := saveRuns(a, "ci", runInfo{Commit: "abc"}, client); err != nil {
		t.Fatal(err)
	}
	if err := saveRuns(b, "ci", runInfo{Commit: "def"}, server); err != nil {
		t.Fatal(err)
	}
	info, got, err := loadRuns([]string{a, b}, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if info.Commit != "abc" || len(got) != 2 || got[0].Role != clientRole || got[0].Mode != strict ||
		len(got[0].Cases) != 1 || got[0].Cases[0].Wscope != "exit 0" || got[0].Elapsed != time.Minute ||
		got[1].Role != serverRole || got[1].Err == nil || got[1].Err.Error() != "cut short" {
		t.Fatalf("loaded %+v (info %+v)", got, info)
	}
	if _, _, err := loadRuns([]string{a, a}, "ci"); err == nil {
		t.Error("the same role and mode twice was accepted")
	}
	if _, _, err := loadRuns([]string{a}, "full"); err == nil {
		t.Error("a file of another profile was accepted")
	}
}
