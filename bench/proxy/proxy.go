package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/wscope/wscope/bench/internal/harness"
)

// mode is one way of reaching the echo server: directly, or through
// `wscope proxy` run as a user debugging would run it.
type mode struct {
	name   string   // direct, tcp, bare, text, frames, record
	label  string   // as shown in the tables
	args   []string // wscope proxy's flags, besides --listen, --upstream and --once
	record bool     // --record a file in the work directory
	floor  bool     // bench/barerelay instead of wscope: what any proxy costs
}

var modes = []*mode{
	{name: "direct", label: "direct"},
	{name: "tcp", label: "floor: TCP byte copy (bench/barerelay)", floor: true},
	{name: "bare", label: "floor: bare gobwas/ws frame relay (bench/barerelay --frames)", args: []string{"--frames"}, floor: true},
	{name: "text", label: "proxy, text output to /dev/null"},
	{name: "frames", label: "proxy, `-o frames` to /dev/null", args: []string{"-o", "frames"}},
	{name: "record", label: "proxy, text output to /dev/null + `--record FILE`", record: true},
}

func (m *mode) direct() bool { return m.name == "direct" }

// binaries are the programs a proxy mode runs.
type binaries struct{ wscope, relay string }

// proxyProc is a running `wscope proxy --once`, started through the
// launcher so that its CPU time and peak RSS are its own.
type proxyProc struct {
	url    string // ws://127.0.0.1:PORT
	l      *harness.Launched
	stderr *harness.TailBuffer
	done   chan struct{} // its stderr is closed: it has exited
}

// relayingLine is what wscope proxy prints on stderr once it listens.
var relayingLine = regexp.MustCompile(`^relaying (ws://127\.0\.0\.1:\d+) to `)

// startProxy runs bin proxy on a free loopback port towards upstream,
// stdout to /dev/null, and waits for its "relaying ..." line. A floor mode
// runs bench/barerelay, which takes the same arguments, instead.
func startProxy(ctx context.Context, bins binaries, m *mode, upstream, recordPath string) (*proxyProc, error) {
	bin := bins.wscope
	if m.floor {
		bin = bins.relay
	}
	args := []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--once"}
	args = append(args, m.args...)
	if m.record {
		args = append(args, "--record", recordPath)
	}
	l, err := harness.Launch(ctx, bin, args...)
	if err != nil {
		return nil, err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	l.Cmd.Stdin, l.Cmd.Stdout, l.Cmd.Stderr = devnull, devnull, pw
	if err := l.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("starting %s proxy: %w", filepath.Base(bin), err)
	}
	pw.Close()
	p := &proxyProc{l: l, stderr: &harness.TailBuffer{Max: 4096}, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(p.done)
		defer pr.Close()
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			p.stderr.Write([]byte(line))
			if mm := relayingLine.FindStringSubmatch(line); mm != nil {
				select {
				case ready <- mm[1]:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case p.url = <-ready:
		return p, nil
	case <-p.done:
		p.wait(time.Second)
		return nil, fmt.Errorf("wscope proxy exited before listening: %s", harness.LastLine(p.stderr.String()))
	case <-time.After(10 * time.Second):
		p.l.Cmd.Cancel()
		p.wait(time.Second)
		return nil, errors.New("wscope proxy did not print its \"relaying\" line within 10s")
	case <-ctx.Done():
		p.wait(time.Second)
		return nil, ctx.Err()
	}
}

// wait waits for the proxy to exit by itself (it runs with --once), at
// most d, then kills it; it returns what it used.
func (p *proxyProc) wait(d time.Duration) (harness.Usage, error) {
	t := time.AfterFunc(d, func() { p.l.Cmd.Cancel() })
	defer t.Stop()
	u, err := p.l.Wait()
	<-p.done
	if err != nil {
		return u, fmt.Errorf("wscope proxy: %w", err)
	}
	if u.Exit != 0 {
		return u, fmt.Errorf("wscope proxy exited with status %d: %s", u.Exit, harness.LastLine(p.stderr.String()))
	}
	return u, nil
}

// fileSize is the size of path, 0 if it is not there.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
