package session

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams, replaceable in tests.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY say whether stdin and stdout are terminals; the
	// mode (TUI, line, pipe) is chosen from them.
	InTTY, OutTTY bool
	// NoScreen says the terminal cannot draw the TUI (TERM=dumb, or no
	// cursor addressing): the line mode stands in for it.
	NoScreen bool
	// Interrupt delivers Ctrl-C; nil in tests that do not send one.
	Interrupt <-chan os.Signal
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	s := &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
	s.NoScreen = s.Interactive() && !screenTerm(os.Getenv("TERM"))
	return s
}

// Interactive reports whether a person sits at both ends.
func (s *IOStreams) Interactive() bool { return s.InTTY && s.OutTTY }

// FullScreen reports whether a person sits at both ends of a terminal
// that can draw the TUI.
func (s *IOStreams) FullScreen() bool { return s.Interactive() && !s.NoScreen }

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
