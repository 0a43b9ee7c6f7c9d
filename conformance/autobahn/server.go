package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runServerRole tests wscope listen: for each mode a fresh wscope listen
// --echo and a fuzzingclient run against it until the suite exits.
func runServerRole(ctx context.Context, c *config, ms []mode) []runResult {
	var results []runResult
	for _, m := range ms {
		if ctx.Err() != nil {
			results = append(results, runResult{Role: serverRole, Mode: m, Err: context.Cause(ctx)})
			continue
		}
		results = append(results, serverRun(ctx, c, m))
	}
	return results
}

// listenLog follows wscope listen's stderr: where it listens, each
// connection's arrival, the notes about it and how it ended.
type listenLog struct {
	mu        sync.Mutex
	addr      chan string
	connected int
	last      time.Time // the last arrival
	ends      map[int]string
	notes     map[int]*tailBuffer
}

var (
	listeningLine = regexp.MustCompile(`listening on ws://(127\.0\.0\.1:\d+)`)
	connLine      = regexp.MustCompile(`^\[(\d+)\] (.*)$`)
	noteLine      = regexp.MustCompile(`^wscope: \[(\d+)\] (.*)$`)
	quoted        = regexp.MustCompile(`\s*"(?:[^"\\]|\\.)*"`)
)

// endOf is a connection's end line without the quoted close reason, so
// that equal ends count together: "closed: 1000 Normal Closure by client,
// clean".
func endOf(line string) string {
	return strings.Join(strings.Fields(quoted.ReplaceAllString(line, "")), " ")
}

func (l *listenLog) follow(r io.Reader, log io.Writer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		l.mu.Lock()
		if m := listeningLine.FindStringSubmatch(line); m != nil && l.addr != nil {
			l.addr <- m[1]
			l.addr = nil
		} else if m := connLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if strings.HasPrefix(m[2], "connected") {
				l.connected, l.last = max(l.connected, n), time.Now()
			} else {
				l.ends[n] = endOf(m[2])
			}
		} else if m := noteLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if l.notes[n] == nil {
				l.notes[n] = &tailBuffer{max: 1024}
			}
			fmt.Fprintln(l.notes[n], m[2])
		}
		l.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (l *listenLog) progress() (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected, l.last
}

func serverRun(ctx context.Context, c *config, m mode) runResult {
	res := runResult{Role: serverRole, Mode: m}
	start := time.Now()
	dir := filepath.Join(c.work, "server-"+m.name)
	reports := filepath.Join(dir, "reports")
	if err := os.MkdirAll(reports, 0o755); err != nil {
		res.Err = err
		return res
	}
	listenLogFile, err := os.Create(filepath.Join(dir, "listen.log"))
	if err != nil {
		res.Err = err
		return res
	}
	defer listenLogFile.Close()

	// wscope listen, stdin held open (it sends stdin lines to clients),
	// what clients send to /dev/null so that printing is no bottleneck.
	args := append([]string{"listen", "127.0.0.1:0", "--echo", "--no-tui", "-o", "text"}, m.flags()...)
	listen := exec.Command(c.wscope, args...)
	stdin, hold, err := os.Pipe()
	if err != nil {
		res.Err = err
		return res
	}
	defer hold.Close()
	listen.Stdin = stdin
	stderr, err := listen.StderrPipe()
	if err != nil {
		res.Err = err
		return res
	}
	if err := listen.Start(); err != nil {
		res.Err = fmt.Errorf("starting wscope listen: %v", err)
		return res
	}
	stdin.Close()
	ll := &listenLog{addr: make(chan string, 1), ends: map[int]string{}, notes: map[int]*tailBuffer{}}
	followed := make(chan struct{})
	go func() { ll.follow(stderr, listenLogFile); close(followed) }()
	listenDone := make(chan error, 1)
	go func() { <-followed; listenDone <- listen.Wait() }()
	stopListen := func() {
		_ = listen.Process.Signal(syscall.SIGINT)
		select {
		case <-listenDone:
		case <-time.After(10 * time.Second):
			_ = listen.Process.Kill()
			<-listenDone
		}
	}

	var addr string
	select {
	case addr = <-ll.addr:
	case err := <-listenDone:
		res.Err = fmt.Errorf("wscope listen exited (%v) before listening; see %s", err, listenLogFile.Name())
		return res
	case <-time.After(10 * time.Second):
		stopListen()
		res.Err = fmt.Errorf("wscope listen did not say where it listens within 10s")
		return res
	}

	spec, err := json.MarshalIndent(map[string]any{
		"outdir":  reports,
		"options": map[string]any{"failByDrop": false},
		"servers": []map[string]any{{"agent": m.agent(), "url": "ws://" + addr}},
		"cases":   c.patterns, "exclude-cases": m.excluded(), "exclude-agent-cases": map[string]any{},
	}, "", "  ")
	if err != nil {
		stopListen()
		res.Err = err
		return res
	}
	specPath := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		stopListen()
		res.Err = err
		return res
	}
	suite, err := startSuite(c.wstest, c.root, filepath.Join(dir, "wstest.log"), "-m", "fuzzingclient", "-s", specPath)
	if err != nil {
		stopListen()
		res.Err = err
		return res
	}

	// Wait for the suite, bounding each case: no new connection within the
	// case timeout stops it.
	var runErr error
	tick := time.NewTicker(time.Second)
	reported := 0
wait:
	for {
		select {
		case <-suite.done:
			if suite.err != nil {
				runErr = fmt.Errorf("wstest: %v:\n%s", suite.err, suite.logTail())
			}
			break wait
		case err := <-listenDone:
			listenDone <- err
			suite.kill()
			runErr = fmt.Errorf("wscope listen exited (%v) while the suite ran; see %s", err, listenLogFile.Name())
			break wait
		case <-ctx.Done():
			suite.kill()
			runErr = context.Cause(ctx)
			break wait
		case <-tick.C:
			n, last := ll.progress()
			if last.IsZero() {
				last = start
			}
			if time.Since(last) > c.caseTimeout {
				suite.kill()
				runErr = fmt.Errorf("no new connection from the suite for %s after its connection %d: stopped%s", c.caseTimeout, n, suite.problem())
				break wait
			}
			for ; reported < n; reported++ {
				c.progress("server", m, reported+1, 0, start)
			}
		}
	}
	tick.Stop()
	stopListen()
	res.Elapsed = time.Since(start)

	index, err := readIndex(filepath.Join(reports, "index.json"))
	if err != nil && runErr == nil {
		runErr = fmt.Errorf("reading the suite's report: %v", err)
	}
	ids := m.casesRun(suiteCases(suite.log))
	if ids == nil {
		for id := range index[m.agent()] {
			ids = append(ids, id)
		}
		sortCases(ids)
	}
	// The suite runs the cases one connection at a time, in order: wscope's
	// connection n is case n.
	said, notes := map[string]string{}, map[string]string{}
	ll.mu.Lock()
	for i, id := range ids {
		said[id] = ll.ends[i+1]
		if t := ll.notes[i+1]; t != nil {
			notes[id] = t.String()
		}
	}
	ll.mu.Unlock()
	res.Cases = joinIndex(index, reports, m.agent(), ids, said, notes)
	res.Err = runErr
	return res
}

var casesLine = regexp.MustCompile(`(?m)^Cases = \[(.*)\]\s*$`)

// suiteCases reads the case ids the suite says it will run ("Cases =
// ['1.1.1', ...]") from its log; nil when it has not said.
func suiteCases(logPath string) []string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return nil
	}
	m := casesLine.FindSubmatch(data)
	if m == nil {
		return nil
	}
	var ids []string
	for _, f := range strings.Split(string(m[1]), ",") {
		// Python's repr of a list of strings: '1.1.1' (or u'1.1.1').
		if id := strings.TrimLeft(strings.Trim(strings.TrimSpace(f), `'"`), "u'"); id != "" {
			ids = append(ids, id)
		}
	}
	sortCases(ids)
	return ids
}
