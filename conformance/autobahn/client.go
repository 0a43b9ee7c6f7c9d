package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// runClientRole tests wscope connect: one fuzzingserver serves every mode,
// each under its own agent name; each case is one wscope connect --echo
// with stdin held open, so that it runs until the suite closes.
func runClientRole(ctx context.Context, c *config, ms []mode) []runResult {
	dir := filepath.Join(c.work, "client")
	reports := filepath.Join(dir, "reports")
	fail := func(err error) []runResult {
		var out []runResult
		for _, m := range ms {
			out = append(out, runResult{Role: clientRole, Mode: m, Err: err})
		}
		return out
	}
	if err := os.MkdirAll(reports, 0o755); err != nil {
		return fail(err)
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	base := fmt.Sprintf("ws://127.0.0.1:%d", port)
	spec, err := json.MarshalIndent(map[string]any{
		"url": base, "outdir": reports, "cases": c.patterns,
		"exclude-cases": []string{}, "exclude-agent-cases": map[string]any{},
	}, "", "  ")
	if err != nil {
		return fail(err)
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return fail(err)
	}
	suite, err := startSuite(c.wstest, c.root, filepath.Join(dir, "wstest.log"), "-m", "fuzzingserver", "-s", specPath, "-u", "0")
	if err != nil {
		return fail(err)
	}
	defer suite.kill()
	if err := waitListening(ctx, fmt.Sprintf("127.0.0.1:%d", port), suite, 2*time.Minute); err != nil {
		return fail(err)
	}
	ids, err := caseList(ctx, base)
	if err != nil {
		return fail(fmt.Errorf("%v%s", err, suite.problem()))
	}
	c.logf("client: the suite runs %d cases", len(ids))

	var results []runResult
	for _, m := range ms {
		start := time.Now()
		said, stderr := map[string]string{}, map[string]string{}
		var runErr error
		run := m.casesRun(ids)
		for i, id := range ids {
			if !m.runs(id) {
				continue
			}
			if ctx.Err() != nil {
				runErr = context.Cause(ctx)
				break
			}
			url := fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i+1, m.agent())
			t0 := time.Now()
			said[id], stderr[id] = connectCase(ctx, c, url, m)
			c.verbosef("client %s %s: %s (%s)", m.agent(), id, said[id], time.Since(t0).Round(time.Millisecond))
			c.progress("client", m, len(said), len(run), start)
		}
		// The cases that ran are reported even when the run was cut
		// short.
		if _, err := ask(context.WithoutCancel(ctx), base+"/updateReports?agent="+m.agent(), 5*time.Minute); err != nil && runErr == nil {
			runErr = fmt.Errorf("updateReports: %v", err)
		}
		elapsed := time.Since(start)
		cases := casesOf(reports, m.agent(), run, said, stderr, &runErr)
		results = append(results, runResult{Role: clientRole, Mode: m, Cases: cases, Elapsed: elapsed, Err: runErr})
	}
	if _, err := ask(context.WithoutCancel(ctx), base+"/stopServer", 10*time.Second); err == nil {
		select {
		case <-suite.done:
		case <-time.After(10 * time.Second):
		}
	}
	return results
}

// casesOf reads the reports of agent; a report that cannot be read becomes
// the run's error (if it has none yet) and every case missing.
func casesOf(reports, agent string, ids []string, said, stderr map[string]string, runErr *error) []caseResult {
	index, err := readIndex(filepath.Join(reports, "index.json"))
	if err != nil && *runErr == nil {
		*runErr = fmt.Errorf("reading the suite's report: %v", err)
	}
	return joinIndex(index, reports, agent, ids, said, stderr)
}

var errCaseTimeout = errors.New("case timeout")

// connectCase runs one wscope connect against a case and says how it
// ended: "exit N", or "killed after D" past the case timeout. Its stdin is
// a pipe held open until it exits (stdin EOF would start the close
// handshake); its stdout goes to /dev/null, the end of its stderr is kept.
func connectCase(ctx context.Context, c *config, url string, m mode) (said, stderr string) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.caseTimeout, errCaseTimeout)
	defer cancel()
	args := append([]string{"connect", url, "--echo", "-o", "text"}, m.flags()...)
	cmd := exec.CommandContext(ctx, c.wscope, args...)
	stdin, hold, err := os.Pipe()
	if err != nil {
		return "not started: " + err.Error(), ""
	}
	defer hold.Close()
	cmd.Stdin = stdin
	errBuf := &tailBuffer{max: 2048}
	cmd.Stderr = errBuf
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	stdin.Close()
	if err != nil {
		return "not started: " + err.Error(), ""
	}
	err = cmd.Wait()
	if errors.Is(context.Cause(ctx), errCaseTimeout) {
		return "killed after " + c.caseTimeout.String(), errBuf.String()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "exit 0", errBuf.String()
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return "exit " + strconv.Itoa(exit.ExitCode()), errBuf.String()
	}
	return err.Error(), errBuf.String()
}
