package replay

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/testpeer"
)

// changedServer is the recorded server with its behaviour changed in
// every way a report shows: a JSON field, a text line, a binary byte, a
// missing message and another close code.
func changedServer(t *testing.T) *testpeer.RawServer {
	return rawServe(t, nil, func(rc *testpeer.RawConn) error {
		answers := [][]testpeer.FrameSpec{
			{text(`{"ok":true,"user":{"name":"bob","id":7},"items":[1,2]}`)},
			{text("line one\nline 2\nline three")},
			{testpeer.ServerFrame(inspect.OpBinary, []byte{1, 2, 9, 4})},
			{closeFrame(4000, "bye")},
		}
		for _, a := range answers {
			if _, closed, err := serverRead(rc); err != nil || closed {
				return err
			}
			if err := rc.WriteFrames(a...); err != nil {
				return err
			}
		}
		return serverFinish(rc)
	})
}

func recordedSession(url string) *rec {
	return newRec(url, "").
		at(10*time.Millisecond).c(`{"op":"login","user":"ann"}`).
		at(25*time.Millisecond).s(`{"ok":true,"user":{"id":7,"name":"ann"},"items":[1,2,3]}`).
		at(40*time.Millisecond).c("text please").
		at(55*time.Millisecond).s("line one\nline two\nline three").
		at(70*time.Millisecond).msg(c2s, inspect.OpBinary, "\x01\x02\x03").
		at(85*time.Millisecond).msg(s2c, inspect.OpBinary, "\x01\x02\x03\x04").
		at(100*time.Millisecond).c("last").
		at(115*time.Millisecond).s("final").
		at(130*time.Millisecond).closeBy(s2c, inspect.CloseNormal, "")
}

// normalize zeroes what changes from run to run: times and the port.
func normalize(r *Result) {
	r.URL = "ws://127.0.0.1:PORT/"
	r.Start = time.Time{}
	r.Duration = 0
	for i := range r.Steps {
		r.Steps[i].At, r.Steps[i].Wait = 0, 0
	}
}

func changedRun(t *testing.T) *Result {
	srv := changedServer(t)
	res, err := RunClient(testCtx(t), recordedSession(srv.URL()).script(t), ClientOptions{Options: Options{JSON: true}})
	if err != nil {
		t.Fatal(err)
	}
	normalize(res)
	return res
}

func TestReportText(t *testing.T) {
	res := changedRun(t)
	var b bytes.Buffer
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "mismatch.txt", b.String())
	if !strings.HasPrefix(b.String(), "replay: 4 messages sent, 3 received, 5 mismatches in 0.000s\n") {
		t.Errorf("summary: %q", strings.SplitN(b.String(), "\n", 2)[0])
	}

	ok := &Result{Sent: 1, Received: 1, Duration: 1500 * time.Millisecond}
	b.Reset()
	ok.WriteText(&b)
	if b.String() != "replay: 1 message sent, 1 received, 0 mismatches in 1.500s\n" {
		t.Errorf("clean summary: %q", b.String())
	}
}

// The JUnit XML schema (Ant's, as Jenkins, GitLab and the GitHub
// reporters read it), as far as a report uses it.
type xTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    string       `xml:"tests,attr"`
	Failures string       `xml:"failures,attr"`
	Errors   string       `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []xTestsuite `xml:"testsuite"`
}

type xTestsuite struct {
	Name       string `xml:"name,attr"`
	Tests      string `xml:"tests,attr"`
	Failures   string `xml:"failures,attr"`
	Errors     string `xml:"errors,attr"`
	Skipped    string `xml:"skipped,attr"`
	Time       string `xml:"time,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases     []xTestcase `xml:"testcase"`
	SystemOut string      `xml:"system-out"`
}

type xTestcase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
}

func parseJUnit(t *testing.T, b []byte) xTestsuites {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("no XML declaration: %.40q", b)
	}
	var doc xTestsuites
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, b)
	}
	num := func(what, s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Errorf("%s=%q is not a count", what, s)
		}
		return n
	}
	secs := func(what, s string) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			t.Errorf("%s time=%q is not seconds", what, s)
		}
	}
	secs("testsuites", doc.Time)
	if len(doc.Suites) != 1 {
		t.Fatalf("%d test suites", len(doc.Suites))
	}
	s := doc.Suites[0]
	secs("testsuite", s.Time)
	failures, skipped := 0, 0
	for _, c := range s.Cases {
		secs(c.Name, c.Time)
		if c.Name == "" || c.Classname == "" {
			t.Errorf("test case without name or classname: %+v", c)
		}
		if f := c.Failure; f != nil {
			failures++
			if f.Message == "" || f.Type == "" || f.Text == "" {
				t.Errorf("failure without message, type or text: %+v", f)
			}
		}
		if c.Skipped != nil {
			skipped++
		}
	}
	if num("tests", s.Tests) != len(s.Cases) || num("failures", s.Failures) != failures || num("skipped", s.Skipped) != skipped || num("errors", s.Errors) != 0 {
		t.Errorf("suite counts %s/%s/%s/%s, cases %d failed %d skipped %d", s.Tests, s.Failures, s.Skipped, s.Errors, len(s.Cases), failures, skipped)
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != s.Errors {
		t.Errorf("testsuites counts differ from the suite's: %+v", doc)
	}
	return doc
}

func TestReportJUnit(t *testing.T) {
	res := changedRun(t)
	var b bytes.Buffer
	if err := res.WriteJUnit(&b, "login.wsrec.jsonl"); err != nil {
		t.Fatal(err)
	}
	golden(t, "mismatch.junit.xml", b.String())
	doc := parseJUnit(t, b.Bytes())
	s := doc.Suites[0]
	if s.Name != "login.wsrec.jsonl" || doc.Name != s.Name {
		t.Errorf("suite name %q", s.Name)
	}
	var names []string
	for _, c := range s.Cases {
		names = append(names, c.Name)
		if c.Classname != "login.wsrec.jsonl" {
			t.Errorf("classname %q", c.Classname)
		}
	}
	want := "handshake|server message 1 (t=0.025s)|server message 2 (t=0.055s)|server message 3 (t=0.085s)|server message 4 (t=0.115s)|close"
	if strings.Join(names, "|") != want {
		t.Errorf("test cases:\n%s\nwant\n%s", strings.Join(names, "|"), want)
	}
	if s.Failures != "5" || s.Cases[0].Failure != nil {
		t.Errorf("failures %s", s.Failures)
	}
	f := s.Cases[1].Failure
	if f.Type != "mismatch" || f.Message != "server message 1 differs (t=0.025s)" || !strings.Contains(f.Text, `$.user.name: expected "ann", got "bob"`) {
		t.Errorf("failure 1: %+v", f)
	}
	if f := s.Cases[4].Failure; f.Type != "missing" {
		t.Errorf("failure 4 type %q", f.Type)
	}
	if f := s.Cases[5].Failure; f.Type != "close" || !strings.Contains(f.Message, "4000") {
		t.Errorf("close failure %+v", f)
	}
	if len(s.Properties) != 1 || s.Properties[0].Name != "url" {
		t.Errorf("properties %+v", s.Properties)
	}
	if !strings.HasPrefix(s.SystemOut, "replay: 4 messages sent") {
		t.Errorf("system-out %q", s.SystemOut)
	}
}

func TestReportJUnitPassingAndSkipped(t *testing.T) {
	srv := testpeer.NewServer(t, testpeer.ServerOptions{Echo: true})
	// No end in the recording: the close is not asserted.
	sc := newRec(srv.URL(), "").c("a").s("a").script(t)
	res, err := RunClient(testCtx(t), sc, ClientOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("%v\n%s", err, mismatchText(res))
	}
	var b bytes.Buffer
	res.WriteJUnit(&b, "")
	doc := parseJUnit(t, b.Bytes())
	s := doc.Suites[0]
	if s.Name != "wscope replay" || s.Tests != "3" || s.Failures != "0" || s.Skipped != "1" {
		t.Errorf("suite %+v", s)
	}
	if c := s.Cases[2]; c.Name != "close" || c.Skipped == nil || !strings.Contains(c.Skipped.Message, "does not say") {
		t.Errorf("close case %+v", c)
	}
	if !strings.Contains(b.String(), `timestamp="`) {
		t.Error("no timestamp")
	}
	normalize(res)
	b.Reset()
	res.WriteJUnit(&b, "")
	golden(t, "pass.junit.xml", b.String())
}

func TestReportJUnitEscaping(t *testing.T) {
	// Payloads with markup and bytes XML cannot carry still give a
	// well-formed report.
	res := &Result{Steps: []Step{{Kind: StepExpect, Name: `server message 1 (t=0.000s)`, Mismatch: &Mismatch{
		What: "server message 1", Index: 1, Received: 1, Problem: "server message 1 differs",
		Expected: `text <a href="x">&amp;</a>`, Got: "text \x00\x1b]]>", Diff: []string{"- <b>", "+ ]]>\x00"}}}}}
	res.Mismatches = []Mismatch{*res.Steps[0].Mismatch}
	var b bytes.Buffer
	if err := res.WriteJUnit(&b, `suite "<&>"`); err != nil {
		t.Fatal(err)
	}
	doc := parseJUnit(t, b.Bytes())
	if f := doc.Suites[0].Cases[0].Failure; !strings.Contains(f.Text, `<a href="x">&amp;</a>`) {
		t.Errorf("failure text %q", f.Text)
	}
}
