package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var htmlTag = regexp.MustCompile(`(<[^>]*>)+`)

// caseReport is the part of one case's report file (NAME_case_X_Y_Z.json)
// that -check prints.
type caseReport struct {
	ID            string                       `json:"id"`
	Description   string                       `json:"description"`
	Expected      map[string][]json.RawMessage `json:"expected"`
	Received      []json.RawMessage            `json:"received"`
	Result        string                       `json:"result"`
	ResultClose   string                       `json:"resultClose"`
	ExpectedClose struct {
		CloseCode    []int `json:"closeCode"`
		RequireClean bool  `json:"requireClean"`
	} `json:"expectedClose"`
	LocalCloseCode    *int              `json:"localCloseCode"` // the suite's side
	LocalCloseReason  *string           `json:"localCloseReason"`
	RemoteCloseCode   *int              `json:"remoteCloseCode"` // wscope's side
	RemoteCloseReason *string           `json:"remoteCloseReason"`
	WasClean          bool              `json:"wasClean"`
	WasNotCleanReason *string           `json:"wasNotCleanReason"`
	DroppedByMe       bool              `json:"droppedByMe"`
	Wirelog           []json.RawMessage `json:"wirelog"`
	HTTPRequest       string            `json:"httpRequest"`
	HTTPResponse      string            `json:"httpResponse"`
}

func readCaseReport(path string) (*caseReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r caseReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &r, nil
}

// Bounds on what -check prints per case, so that a run where everything
// fails still gives a readable log.
const (
	lineWidth    = 160 // characters of one printed line
	wirelogLines = 10  // last wire-log rows per case
	eventsShown  = 6   // expected or received events per line
	detailCases  = 12  // cases of one run printed in detail; the rest by id
	stderrLines  = 3   // last lines of wscope's stderr
)

// clip shortens s to at most n characters (runes), marking the cut.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// event renders one expected or received event of a report: ["message",
// payload, binary], ["ping", payload], ["pong", payload], ["timeout", tag].
func event(raw json.RawMessage) string {
	var parts []any
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		return clip(string(raw), 40)
	}
	kind := fmt.Sprint(parts[0])
	switch {
	case kind == "message" && len(parts) == 3:
		op := "text"
		if b, _ := parts[2].(bool); b {
			op = "binary"
		}
		return fmt.Sprintf("%s %s", op, strconv.Quote(clip(fmt.Sprint(parts[1]), 24)))
	case (kind == "ping" || kind == "pong") && len(parts) == 2:
		return fmt.Sprintf("%s %s", kind, strconv.Quote(clip(fmt.Sprint(parts[1]), 24)))
	case kind == "timeout" && len(parts) == 2:
		return fmt.Sprintf("timeout %v", parts[1])
	}
	return clip(string(raw), 40)
}

func events(raws []json.RawMessage) string {
	if len(raws) == 0 {
		return "nothing"
	}
	var s []string
	for i, r := range raws {
		if i == eventsShown {
			s = append(s, fmt.Sprintf("... (%d in all)", len(raws)))
			break
		}
		s = append(s, event(r))
	}
	return strings.Join(s, ", ")
}

// wireRow renders one wire-log row from wscope's side; the suite's own
// bytes (TO rows, the frames of its TF rows) give "".
func wireRow(raw json.RawMessage) string {
	var row []any
	if err := json.Unmarshal(raw, &row); err != nil || len(row) == 0 {
		return ""
	}
	kind := fmt.Sprint(row[0])
	at := func(i int) any {
		if i < len(row) {
			return row[i]
		}
		return nil
	}
	payload := func() string {
		p, _ := at(1).([]any)
		if len(p) != 2 {
			return ""
		}
		return fmt.Sprintf("len=%v %s", p[0], strconv.Quote(clip(fmt.Sprint(p[1]), 40)))
	}
	switch kind {
	case "RF": // a frame the suite received: wscope sent it
		return fmt.Sprintf("wscope sent: op=%v fin=%v rsv=%v %s", at(2), at(3), at(4), payload())
	case "RO": // the bytes behind the suite's RF rows, which it may log before their payload
		p, _ := at(1).([]any)
		if len(p) != 2 {
			return ""
		}
		hex := fmt.Sprint(p[1])
		if strings.HasPrefix(hex, "474554") || strings.HasPrefix(hex, "48545450") { // "GET", "HTTP"
			return fmt.Sprintf("wscope's handshake: %v bytes", p[0])
		}
		return fmt.Sprintf("wscope's bytes: %v: %s", p[0], clip(hex, 48))
	case "TF":
		return fmt.Sprintf("suite sent:  op=%v fin=%v rsv=%v %s", at(2), at(3), at(4), payload())
	case "CT":
		return fmt.Sprintf("suite waits %vs (%v)", at(1), at(2))
	case "CTE":
		return fmt.Sprintf("suite's wait %v is over", at(1))
	case "KL":
		return fmt.Sprintf("suite will fail the connection in %vs", at(1))
	case "KLE":
		return "suite fails the connection"
	case "TI":
		return fmt.Sprintf("suite will close in %vs", at(1))
	case "TIE":
		return "suite closes"
	}
	return ""
}

func optInt(p *int) string {
	if p == nil {
		return "none"
	}
	return strconv.Itoa(*p)
}

func optString(p *string) string {
	if p == nil || *p == "" {
		return ""
	}
	return " " + strconv.Quote(clip(*p, 60))
}

// writeCaseDetail prints the key lines of one case's report: what the suite
// expected and received, how the connection closed, the last rows of the
// wire log and of wscope's stderr. Each line is at most lineWidth long.
func writeCaseDetail(w io.Writer, c caseResult) {
	p := func(format string, a ...any) {
		fmt.Fprintln(w, "    "+clip(fmt.Sprintf(format, a...), lineWidth))
	}
	fmt.Fprintln(w, clip(fmt.Sprintf("  %s: %s (close %s); wscope: %s", c.ID, c.Behavior, c.BehaviorClose, orNothing(c.Wscope)), lineWidth+4))
	if c.ReportFile == "" {
		p("no report: the suite did not record this case")
		return
	}
	r, err := readCaseReport(c.ReportFile)
	if err != nil {
		p("report unreadable: %v", err)
		return
	}
	p("case: %s", htmlTag.ReplaceAllString(r.Description, " "))
	p("handshake: %s", handshake(r))
	for _, k := range []string{behaviorOK, behaviorNonStrict, behaviorInformational} {
		if e, ok := r.Expected[k]; ok {
			p("expected for %s: %s", k, events(e))
		}
	}
	p("received: %s", events(r.Received))
	p("result: %s", r.Result)
	p("close: %s; expected code %v from wscope; wscope sent %s%s, suite sent %s%s; %s",
		r.ResultClose, r.ExpectedClose.CloseCode,
		optInt(r.RemoteCloseCode), optString(r.RemoteCloseReason),
		optInt(r.LocalCloseCode), optString(r.LocalCloseReason),
		cleanness(r))
	var rows []string
	for _, raw := range r.Wirelog {
		if s := wireRow(raw); s != "" {
			rows = append(rows, s)
		}
	}
	if r.DroppedByMe {
		rows = append(rows, "suite dropped the TCP connection")
	}
	if len(rows) > wirelogLines {
		p("wire log, last %d of %d rows:", wirelogLines, len(rows))
		rows = rows[len(rows)-wirelogLines:]
	} else if len(rows) == 0 {
		p("wire log: no frames after the handshake")
	} else {
		p("wire log:")
	}
	for _, s := range rows {
		p("  %s", s)
	}
	if c.Stderr != "" {
		lines := strings.Split(strings.TrimRight(c.Stderr, "\n"), "\n")
		if len(lines) > stderrLines {
			lines = lines[len(lines)-stderrLines:]
		}
		for _, l := range lines {
			p("stderr: %s", l)
		}
	}
}

func cleanness(r *caseReport) string {
	if r.WasClean {
		return "clean"
	}
	return "not clean" + optString(r.WasNotCleanReason)
}

func orNothing(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}

// handshake says what the opening handshake agreed on: the answer's status
// when it is not 101, and the extensions offered and answered.
func handshake(r *caseReport) string {
	status, _, _ := strings.Cut(r.HTTPResponse, "\r\n")
	s := ""
	if !strings.Contains(status, " 101 ") {
		s = "answer " + strconv.Quote(status) + "; "
	}
	return s + "extensions offered: " + extensions(r.HTTPRequest) + "; answered: " + extensions(r.HTTPResponse)
}

// extensions is the Sec-WebSocket-Extensions value of an HTTP head, or
// "none".
func extensions(head string) string {
	var v []string
	for _, line := range strings.Split(head, "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") {
			v = append(v, strings.TrimSpace(value))
		}
	}
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}
