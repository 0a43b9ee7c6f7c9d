package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
	"github.com/wscope/wscope/tui"
)

// historyFile is where the TUI keeps its send history: the XDG state
// directory, unless --no-history.
func historyFile(off bool) string {
	if off {
		return ""
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "wscope", "history")
}

// quietIO is ios with stdout and stderr swallowed: the TUI owns the
// terminal (what they would say is on screen as events), and the sink
// only writes the --record file.
func quietIO(ios *IOStreams) *IOStreams {
	q := *ios
	q.Out, q.ErrOut = io.Discard, io.Discard
	return &q
}

// sendLine runs one line typed in the TUI's send box on c.
func sendLine(c *wire.Conn, line string, binary bool) error {
	var a action
	if err := parseTyped(&a, []byte(line), binary); err != nil {
		return err
	}
	if err := a.apply(c); err != nil {
		return err
	}
	return c.Flush()
}

// connectTUI is `wscope connect` at a terminal: the TUI opens at once
// ("connecting"), the dial runs beside it, and quitting closes the
// connection with 1000 (q) or 1001 (Ctrl-C).
func connectTUI(ctx context.Context, opts *ConnectOptions, dopts wire.DialOptions) error {
	ios := opts.IO
	snk, err := opts.sink(quietIO(ios), inspect.ServerToClient, false)
	if err != nil {
		return err
	}
	defer snk.close()
	feed := tui.NewFeed(0)
	defer feed.Close()

	start := time.Now()
	cfg := opts.config(1, start)
	cfg.OmitSent = false // the TUI shows both directions
	var conn atomic.Pointer[wire.Conn]
	hb := opts.heartbeat(snk)
	cfg.OnEvent = func(e *inspect.Event) {
		snk.event(e)
		feed.Add(e)
		hb.event(e)
		if opts.Echo && e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
			conn.Load().WriteMessage(e.Msg.Op, e.Msg.Payload)
		}
	}

	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		dialErr error
	)
	emit := func(e *inspect.Event) {
		snk.event(e)
		feed.Add(e)
	}
	ref := newConnRef(nil)
	go func() {
		defer ref.stop()
		c, open, err := opts.dial(tctx, dopts, cfg)
		if err != nil {
			mu.Lock()
			dialErr = err
			mu.Unlock()
			cancel() // the TUI closes; the error is printed below
			return
		}
		emit(&inspect.Event{T: time.Since(start), Kind: inspect.KindOpen, Conn: 1, Open: open})
		for id := 1; ; {
			conn.Store(c)
			ref.set(c)
			if hb != nil {
				hb.reset()
				go hb.run(c)
			}
			end := c.Run()
			if !opts.Reconnect || !endedByPeer(&end) || tctx.Err() != nil {
				return
			}
			// The TUI shows each attempt; stderr is the TUI's.
			next, nextID, _ := opts.redial(tctx, dopts, cfg, emit, snk, id, inspect.DescribeEnd(&end))
			if next == nil {
				return
			}
			c, id = next, nextID
		}
	}()

	res, err := tui.Run(tctx, tui.Options{
		Title:       dopts.URL.String(),
		Live:        true,
		Recording:   opts.Record,
		HistoryFile: historyFile(opts.NoHistory),
		Scrollback:  opts.Scrollback,
		Input:       ios.In,
		Output:      ios.Out,
		Send: func(_ int, line string) error {
			c := conn.Load()
			if c == nil {
				return errors.New("not connected yet")
			}
			if !opts.Reconnect {
				return sendLine(c, line, opts.Binary)
			}
			// A line typed while the connection is down waits for the
			// next one, as stdin does in the pipe mode.
			var a action
			if err := parseTyped(&a, []byte(line), opts.Binary); err != nil {
				return err
			}
			return ref.send(&a, true)
		},
	}, feed.Events())
	mu.Lock()
	derr := dialErr
	mu.Unlock()
	cancel() // no reconnect attempt after the TUI is gone
	if derr != nil {
		return reportDialError(ios.ErrOut, derr, opts.Verbose)
	}
	if err != nil {
		return exitf(ExitRuntime, "terminal: %v", err)
	}
	c := conn.Load()
	if c == nil {
		return silent(ExitInterrupted) // quit before the connection opened
	}
	c.Close(res.Quit.CloseCode(), "")
	if !c.Wait(10 * opts.CloseTimeout) {
		c.Abort()
		<-c.Done()
	}
	end := c.End()
	fmt.Fprintf(ios.ErrOut, "closed: %s\n", inspect.DescribeEnd(&end))
	if res.Quit == tui.QuitInterrupt {
		return silent(ExitInterrupted)
	}
	if end.ExitStatus() != inspect.ExitClean || hb.failed() {
		return silent(ExitAbnormal)
	}
	return nil
}

// listenTUI is `wscope listen` at a terminal: one TUI over every client.
// A line typed in the send box goes to the selected client, or to all.
func listenTUI(ctx context.Context, s *server, feed *tui.Feed) error {
	opts, ios := s.opts, s.opts.IO
	res, err := tui.Run(ctx, tui.Options{
		Title:       s.url + opts.Path,
		Live:        true,
		Multi:       true,
		Recording:   opts.Record,
		HistoryFile: historyFile(opts.NoHistory),
		Scrollback:  opts.Scrollback,
		Input:       ios.In,
		Output:      ios.Out,
		Send: func(conn int, line string) error {
			var a action
			if err := parseTyped(&a, []byte(line), opts.Binary); err != nil {
				return err
			}
			if conn == 0 {
				s.toAll(&a)
				return s.flushAll()
			}
			c := s.conn(conn)
			if c == nil {
				return fmt.Errorf("connection %d is gone", conn)
			}
			if err := a.apply(c); err != nil {
				return err
			}
			return c.Flush()
		},
	}, feed.Events())
	s.closeAll(res.Quit.CloseCode())
	if err != nil {
		return exitf(ExitRuntime, "terminal: %v", err)
	}
	if res.Quit == tui.QuitInterrupt {
		return silent(ExitInterrupted)
	}
	return nil
}

// inspectTUI shows a file in the TUI: the file is read beside it, every
// event that passes the filters fed in as it is read.
func inspectTUI(opts *InspectOptions, filter inspect.Filter) error {
	ios := opts.IO
	feed := tui.NewFeed(0)
	quiet := newSink(io.Discard, io.Discard, formatText, 0)
	var readErr atomic.Pointer[error]
	go func() {
		err := readSession(opts, quiet, func(e *inspect.Event) error {
			if filter.Match(e) {
				feed.Add(e)
			}
			return nil
		})
		if err != nil {
			readErr.Store(&err)
			feed.Add(&inspect.Event{Kind: inspect.KindError, Text: err.Error()})
		}
		feed.Close()
	}()
	_, err := tui.Run(context.Background(), tui.Options{Title: opts.File, Input: ios.In, Output: ios.Out}, feed.Events())
	if err != nil {
		return exitf(ExitRuntime, "terminal: %v", err)
	}
	if p := readErr.Load(); p != nil {
		return exitf(ExitUsage, "%s: %v", opts.File, *p)
	}
	return nil
}
