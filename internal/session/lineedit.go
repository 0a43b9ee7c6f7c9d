package session

import (
	"errors"
	"io"
	"os"
	"sync"

	"github.com/chzyer/readline"
	"golang.org/x/term"

	"github.com/wscope/wscope/tui"
)

// errInterrupted is Ctrl-C typed in the line editor, where the terminal
// raises no signal.
var errInterrupted = errors.New("interrupted")

// lineEditor is the line mode at a terminal: line editing, the send
// history the TUI keeps, and received lines printed above the line being
// typed, which is drawn again after them.
type lineEditor struct {
	rl      *readline.Instance
	history string // the history file, "" for none
	buf     []byte

	// typed orders each line's end in readline (its ioloop resets the
	// line buffer, unlocked, before Readline returns) before the writes
	// that follow from it: an answer to the line just sent is drawn
	// above the prompt only after that reset. chzyer/readline 1.5.1 does
	// not order them itself; an answer arriving at the very moment Enter
	// is pressed still races inside it.
	typed sync.Mutex
}

// typedWriter writes under the editor's typed lock.
type typedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l typedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newLineEditor returns the editor for ios, or nil when stdin is not a
// terminal, or one that cannot move the cursor to redraw the line
// (TERM=dumb): the line mode then reads plain lines.
func newLineEditor(ios *IOStreams, history string) *lineEditor {
	f, ok := ios.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || ios.NoScreen {
		return nil
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 "> ",
		HistoryLimit:           1000,
		DisableAutoSaveHistory: true,
		Stdin:                  f,
		Stdout:                 ios.Out,
		Stderr:                 ios.ErrOut,
	})
	if err != nil {
		return nil
	}
	e := &lineEditor{rl: rl, history: history}
	if history != "" {
		lines, _ := tui.LoadHistory(history)
		for _, l := range lines {
			rl.SaveHistory(l)
		}
	}
	return e
}

// Read gives the lines typed, each ended by "\n"; Ctrl-D is the end of
// the input, Ctrl-C errInterrupted.
func (e *lineEditor) Read(p []byte) (int, error) {
	for len(e.buf) == 0 {
		line, err := e.rl.Readline()
		e.typed.Lock()
		//lint:ignore SA2001 an empty critical section: the ordering is the point
		e.typed.Unlock()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			return 0, errInterrupted
		case err != nil:
			return 0, io.EOF
		}
		if line != "" {
			e.rl.SaveHistory(line)
			if e.history != "" {
				tui.AppendHistory(e.history, line)
			}
		}
		e.buf = append(e.buf[:0], line...)
		e.buf = append(e.buf, '\n')
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

// Stdout and Stderr write above the line being typed.
func (e *lineEditor) Stdout() io.Writer { return typedWriter{&e.typed, e.rl.Stdout()} }
func (e *lineEditor) Stderr() io.Writer { return typedWriter{&e.typed, e.rl.Stderr()} }

// Close gives the terminal back.
func (e *lineEditor) Close() { e.rl.Close() }
