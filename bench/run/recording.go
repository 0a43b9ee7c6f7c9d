package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// The recording modes, the CI user's: wscope connect with -o json (the
// recording on stdout) and with --record FILE (text on stdout). Their
// rows check the recording too: read back with internal/record, every
// server-to-client msg event, in order, must be an input line.
const (
	modeJSON   = "json"
	modeRecord = "record"
)

// wscopeMode is base (wscope or the baseline) in a mode: "" (text on
// stdout), modeJSON or modeRecord.
func wscopeMode(c *config, base *tool, mode string) *tool {
	if mode == "" {
		return base
	}
	bin := base.bin
	t := &tool{name: base.name + "-" + mode, available: base.available, why: base.why}
	switch mode {
	case modeJSON:
		t.label = base.label + " -o json"
	case modeRecord:
		t.label = base.label + " --record"
	}
	t.run = func(c *config, url string, w *workload, out string) *measurement {
		args := append([]string{"connect", url}, c.wscopeArgs...)
		if mode == modeJSON {
			return runJSON(c, bin, append(args, "-o", "json"), w, out)
		}
		file := out + ".wsrec.jsonl"
		defer os.Remove(file)
		m := runFiles(c, bin, append(args, "--record", file), w, out)
		if m.ok(w) {
			if n, mismatch, err := checkRecording(file, w); err != nil {
				m.err = "--record file: " + err.Error()
			} else if mismatch != "" || n != w.count {
				m.mismatch = fmt.Sprintf("--record file: %d of %d messages intact %s", n, w.count, mismatch)
			}
		}
		return m
	}
	return t
}

// runJSON runs bin args < w.input > out and checks the recording on out.
func runJSON(c *config, bin string, args []string, w *workload, out string) *measurement {
	m := runTool(c, bin, args, w, out)
	if m.err != "" {
		return m
	}
	n, mismatch, err := checkRecording(out, w)
	if err != nil {
		m.err = err.Error()
	}
	m.received, m.mismatch = n, mismatch
	return m
}

// checkRecording reads the recording at path and checks its s2c msg
// events, in order, against the input: how many matched, the first
// difference.
func checkRecording(path string, w *workload) (int, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	chk, err := newChecker(w.input)
	if err != nil {
		return 0, "", err
	}
	defer chk.close()
	r, err := record.NewReader(f)
	if err != nil {
		return 0, "", err
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return chk.n, chk.mismatch, err
		}
		if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
			chk.line(e.Msg.Payload)
		}
	}
	return chk.n, chk.mismatch, nil
}

// recordingRatios is the section comparing wscope with the baseline,
// mode by mode, when both ran.
func (r *report) recordingRatios() string {
	if r.tool("baseline") == nil && r.tool("baseline-json") == nil && r.tool("baseline-record") == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("### wscope ÷ baseline (same run, messages/s)\n\n")
	b.WriteString("| workload | text | -o json | --record |\n| --- | ---: | ---: | ---: |\n")
	for _, w := range r.workloads {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", w.title(), r.ratio(w, "wscope", "baseline"),
			r.ratio(w, "wscope-json", "baseline-json"), r.ratio(w, "wscope-record", "baseline-record"))
	}
	b.WriteString("\n")
	return b.String()
}
