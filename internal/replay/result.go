package replay

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wscope/wscope/inspect"
)

// StepKind says what a step of a replay did.
type StepKind uint8

// The kinds of step.
const (
	// StepHandshake checks the opening handshake (the subprotocol).
	StepHandshake StepKind = iota + 1
	// StepSend sent one recorded message of our side.
	StepSend
	// StepExpect waited for one recorded message of the peer.
	StepExpect
	// StepUnexpected is a message the peer sent that the recording does
	// not have.
	StepUnexpected
	// StepClose checked how the connection ended.
	StepClose
)

var stepKindNames = [...]string{"", "handshake", "send", "expect", "unexpected", "close"}

func (k StepKind) String() string {
	if int(k) < len(stepKindNames) {
		return stepKindNames[k]
	}
	return "unknown"
}

// Step is one thing a replay did, in the order it happened.
type Step struct {
	Kind StepKind
	// Name says what the step is about, e.g. "server message 3 (t=0.512s)";
	// it is the JUnit test case name, stable from run to run.
	Name string
	// Index is the message's index among the recorded messages of its
	// direction (see Message.Index); 0 for the handshake and the close.
	Index int
	Dir   inspect.Direction
	Op    inspect.OpCode
	// T is the recorded time of what the step is about.
	T time.Duration
	// At is when the step finished, since the replay started.
	At time.Duration
	// Wait is how long the step waited for the peer.
	Wait time.Duration
	// Skipped, when set, says why the step asserted nothing.
	Skipped string
	// Mismatch is set when the step failed.
	Mismatch *Mismatch
}

// Mismatch is one difference between the recording and the replay.
type Mismatch struct {
	// What names what was expected: "server message 3", "close",
	// "handshake", or "unexpected server message".
	What string
	// Index is the 1-based index of the expected message among the
	// recorded messages of the peer (0 for others).
	Index int
	// T is the recorded time of what was expected.
	T time.Duration
	// Received is the 1-based index, among the data messages received,
	// of the message compared; 0 when none came.
	Received int
	// Problem is one sentence: "server message 3 differs", "expected
	// server message 3 not received within 5s", ...
	Problem string
	// Expected and Got are one-line descriptions: "text {\"a\":1}",
	// "nothing", "close 4000 Private Use \"bye\"".
	Expected, Got string
	// Diff lists the differences, one per line: JSON paths for JSON
	// messages, a line diff ("- expected", "+ got") for text, a hex dump
	// for binary.
	Diff []string
}

// String returns the mismatch's header line.
func (m Mismatch) String() string {
	if strings.HasPrefix(m.What, "unexpected") {
		return m.Problem
	}
	return fmt.Sprintf("%s (t=%s)", m.Problem, secs(m.T))
}

// Text returns the mismatch as WriteText prints it: the header line, then
// what was expected, what came and the diff, indented.
func (m Mismatch) Text() string {
	var b strings.Builder
	b.WriteString(m.String())
	b.WriteByte('\n')
	if m.Expected != "" {
		fmt.Fprintf(&b, "  expected: %s\n", m.Expected)
	}
	if m.Got != "" {
		fmt.Fprintf(&b, "  got:      %s\n", m.Got)
	}
	for _, l := range m.Diff {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// Result is what a replay of one connection found.
type Result struct {
	// URL is where the client connected (client replay), or the
	// listening address (mock server).
	URL string
	// Start is when the replay started (wall clock).
	Start time.Time
	Steps []Step
	// Mismatches lists the failed steps' mismatches, in order.
	Mismatches []Mismatch
	// Sent and Received count the data messages each way.
	Sent, Received int
	// Duration is how long the replay took.
	Duration time.Duration
	// End is how the replayed connection ended.
	End inspect.End
}

// OK reports that the replay found no mismatch.
func (r *Result) OK() bool { return len(r.Mismatches) == 0 }

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Summary returns the one-line summary: "replay: 12 messages sent, 14
// received, 1 mismatch in 0.532s".
func (r *Result) Summary() string {
	return fmt.Sprintf("replay: %s sent, %d received, %s in %s",
		plural(r.Sent, "message", "messages"), r.Received,
		plural(len(r.Mismatches), "mismatch", "mismatches"), secs(r.Duration))
}

// WriteText writes the summary line and then every mismatch, separated by
// blank lines.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	for _, m := range r.Mismatches {
		b.WriteByte('\n')
		b.WriteString(m.Text())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit XML, in the shape GitLab, Jenkins and the GitHub test reporters
// read: testsuites > testsuite > testcase, a failure with message and type
// attributes and the details as text. It validates against the junit-10
// schema of Jenkins' xunit plugin (which allows no skipped count on
// testsuites, only on testsuite).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func junitTime(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the result as a JUnit XML report with one test suite
// named suite: a test case for the handshake, one per expected message of
// the peer, one for the close, and one for each other step that failed (an
// unexpected message, a send that could not be made). A failure's message
// is the mismatch's header line, its text the details.
func (r *Result) WriteJUnit(w io.Writer, suite string) error {
	if suite == "" {
		suite = "wscope replay"
	}
	s := junitSuite{Name: suite, Time: junitTime(r.Duration)}
	if !r.Start.IsZero() {
		s.Timestamp = r.Start.UTC().Format("2006-01-02T15:04:05")
	}
	if r.URL != "" {
		s.Properties = append(s.Properties, junitProperty{"url", r.URL})
	}
	for _, st := range r.Steps {
		switch st.Kind {
		case StepHandshake, StepExpect, StepClose:
		default:
			if st.Mismatch == nil {
				continue
			}
		}
		c := junitCase{Name: st.Name, Classname: suite, Time: junitTime(st.Wait)}
		switch {
		case st.Mismatch != nil:
			m := st.Mismatch
			c.Failure = &junitFailure{Message: m.String(), Type: failureType(st), Text: xmlSafe(m.Text())}
			s.Failures++
		case st.Skipped != "":
			c.Skipped = &junitSkipped{Message: st.Skipped}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	s.SystemOut = r.Summary()
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func failureType(st Step) string {
	switch st.Kind {
	case StepClose:
		return "close"
	case StepHandshake:
		return "handshake"
	case StepUnexpected:
		return "unexpected"
	case StepSend:
		return "send"
	}
	if st.Mismatch.Received == 0 {
		return "missing"
	}
	return "mismatch"
}

// xmlSafe replaces what XML 1.0 cannot carry, even in CDATA, with U+FFFD.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
