package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/xo/terminfo"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/tui"
)

// screenTerm reports whether the terminal TERM names can draw the TUI: it
// must move the cursor (terminfo's cursor_address). TERM=dumb, no TERM
// (but on Windows, whose console sets none) and an entry without
// cursor_address get the line mode. A name terminfo does not know is taken
// for a terminal that can, as Bubble Tea takes it.
func screenTerm(name string) bool {
	switch name {
	case "":
		return runtime.GOOS == "windows"
	case "dumb":
		return false
	}
	ti, err := terminfo.Load(name)
	if err != nil {
		return true
	}
	return len(ti.Strings[terminfo.CursorAddress]) > 0
}

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

// tuiCommands are the send language's commands for the TUI's completion
// and help (it runs /help itself).
func tuiCommands() []tui.Command {
	var cs []tui.Command
	for _, c := range commands {
		if c.Name != "help" {
			cs = append(cs, tui.Command{Name: c.Name, Args: c.Args, Help: c.Summary})
		}
	}
	return cs
}

// connectTUI is `wscope connect` at a terminal: the TUI opens at once
// ("connecting"), the dial runs beside it, and quitting closes the
// connection with 1000 (q) or 1001 (Ctrl-C).
func connectTUI(ctx context.Context, opts *ConnectOptions) error {
	ios := opts.IO
	c, err := newClient(opts, quietIO(ios), false)
	if err != nil {
		return err
	}
	defer c.out.close()
	feed := tui.NewFeed(0)
	defer feed.Close()
	c.cfg.OmitSent = false // the TUI shows both directions
	c.observe = append(c.observe, feed.Add)
	c.cfg.OnEvent = c.observe.event

	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dialErr := make(chan error, 1)
	go c.runBeside(tctx, cancel, dialErr)
	res, err := tui.Run(tctx, tui.Options{
		Title:       opts.Dial.URL.String(),
		Live:        true,
		Reconnect:   opts.Reconnect,
		Recording:   opts.Record,
		HistoryFile: historyFile(opts.NoHistory),
		Scrollback:  opts.Scrollback,
		Commands:    tuiCommands(),
		Input:       ios.In,
		Output:      ios.Out,
		Send:        func(_ int, line string) error { return c.sendTyped(line) },
		Save:        saveFunc(opts.recordOptions()),
	}, feed.Events())
	cancel() // no reconnect attempt after the TUI is gone
	select {
	case derr := <-dialErr:
		return reportDialError(ios.ErrOut, derr)
	default:
	}
	if err != nil {
		return Exitf(ExitRuntime, "terminal: %v", err)
	}
	return c.quitTUI(res.Quit)
}

// runBeside dials and, with Reconnect, keeps a connection up while the
// TUI runs; a failed first dial closes the TUI.
func (c *client) runBeside(ctx context.Context, cancel func(), dialErr chan<- error) {
	defer c.ref.stop()
	conn, open, err := c.dial(ctx, c.cfg)
	if err != nil {
		dialErr <- err
		cancel() // the TUI closes; the error is printed after
		return
	}
	c.opened(conn, open)
	if len(c.opts.Execute) > 0 {
		c.pump(c.preamble()) // -x first, then the send box
	}
	for {
		<-conn.Done()
		if ctx.Err() != nil {
			return
		}
		next, err := c.reconnect(ctx, conn)
		if err != nil || next == nil {
			return
		}
		conn = next
	}
}

// sendTyped runs one line typed in the TUI's send box. With Reconnect, a
// line typed while the connection is down waits for the next one, as
// stdin does in the pipe mode.
func (c *client) sendTyped(line string) error {
	conn, _ := c.ref.get()
	if conn == nil {
		return errors.New("not connected yet")
	}
	var a action
	if err := parseTyped(&a, []byte(line), c.opts.Binary); err != nil {
		return err
	}
	if c.opts.Reconnect {
		return c.ref.send(&a, true)
	}
	if err := a.apply(conn); err != nil {
		return err
	}
	return conn.Flush()
}

// quitTUI closes the connection the way the TUI was left and returns the
// exit status.
func (c *client) quitTUI(quit tui.Quit) error {
	conn, _ := c.ref.get()
	if conn == nil {
		return Silent(ExitInterrupted) // quit before the connection opened
	}
	conn.Close(quit.CloseCode(), "")
	if !conn.Wait(10 * c.opts.CloseTimeout) {
		conn.Abort()
		<-conn.Done()
	}
	end := conn.End()
	fmt.Fprintf(c.opts.IO.ErrOut, "closed: %s\n", inspect.DescribeEnd(&end))
	switch {
	case quit == tui.QuitInterrupt:
		return Silent(ExitInterrupted)
	case end.ExitStatus() != inspect.ExitClean || c.hb.failed():
		return Silent(ExitAbnormal)
	}
	return nil
}

// tellTUI shows the TUI of a server, if one runs (feed is not nil), what
// became of client id when it never opened (a failed handshake, a
// refusal), so that the status bar counts every client that came.
func tellTUI(feed *tui.Feed, start time.Time, id int, text string) {
	if feed != nil {
		feed.Add(&inspect.Event{T: time.Since(start), Kind: inspect.KindError, Conn: id, Text: text})
	}
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
		Commands:    tuiCommands(),
		Input:       ios.In,
		Output:      ios.Out,
		Save:        saveFunc(opts.recordOptions()),
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
		return Exitf(ExitRuntime, "terminal: %v", err)
	}
	if res.Quit == tui.QuitInterrupt {
		return Silent(ExitInterrupted)
	}
	return nil
}
