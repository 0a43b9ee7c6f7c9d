package tui

import (
	"context"
	"errors"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// Defaults for Options.
const (
	// DefaultScrollback is the number of rows kept when Options.Scrollback
	// is zero.
	DefaultScrollback = 100_000
	// DefaultMaxBytes bounds the payload bytes kept when Options.MaxBytes
	// is zero.
	DefaultMaxBytes = 256 << 20
	// historyLimit is the number of send-box lines remembered.
	historyLimit = 1000
)

// Options configure one TUI session. The zero value shows a file's events
// without a send box.
type Options struct {
	// Title is what the session is about: the URL (connect), the listen
	// address (listen, proxy) or the file name (inspect).
	Title string
	// Live says the events come from live connections: the status bar
	// shows their state, and before the first open event the session is
	// "connecting" (or "listening" when Multi is set).
	Live bool
	// Multi says several connections are expected (listen, proxy): rows
	// carry the connection id and the connection list is offered from
	// the start. A second connection turns it on anyway.
	Multi bool
	// Reconnect says the connections are one client's, each after the
	// first a reconnect attempt (connect --reconnect): the status bar
	// shows the latest and counts the attempts and how many failed.
	Reconnect bool
	// Recording is the file --record writes, shown in the status bar;
	// "" means none.
	Recording string

	// Send runs one line typed in the send box, slash commands included
	// ("/ping", "/close 1000 bye", "//text" for a literal "/text"): the
	// command layer parses it, as in the line mode, and sends it on
	// connection conn (0 means every connection, or the only one). The
	// error, if any, is shown in the footer. Send is called outside the
	// Bubble Tea loop, one line at a time in the order typed, so it may
	// block on the network. nil means no send box (inspect).
	//
	// The TUI runs /help, /save FILE and /quit itself and never passes
	// them to Send.
	Send func(conn int, line string) error
	// Commands are the slash commands Send understands, for completion
	// and the help screen. nil means DefaultCommands.
	Commands []Command
	// HistoryFile keeps the send box history across runs, one line per
	// entry; "" keeps it for this run only. The command layer picks the
	// file (in the XDG state directory) or passes "" for --no-history.
	HistoryFile string

	// Save writes events to path as a recording, for /save; the command
	// layer passes the recording writer (internal/record), so redaction
	// and --record-secrets apply as they do to --record. It must not
	// overwrite a file. nil: /save says it is not available.
	Save func(path string, events []*inspect.Event) error

	// Scrollback bounds the rows kept: the oldest are dropped, and the
	// list says how many (they are still in the recording if one runs).
	// Zero means DefaultScrollback.
	Scrollback int
	// MaxBytes bounds the payload bytes kept, dropping the oldest rows
	// like Scrollback. Zero means DefaultMaxBytes.
	MaxBytes int64

	// NoColor draws without colours (NO_COLOR). Run also honours the
	// NO_COLOR environment variable.
	NoColor bool
	// Styles, when set, replaces the style sheet.
	Styles *Styles
	// Keys, when set, replaces the key map.
	Keys *KeyMap

	// Input and Output are the terminal; nil means stdin and stdout.
	Input  io.Reader
	Output io.Writer
}

// Command is one slash command of the send box.
type Command struct {
	Name string // without the slash
	Args string // e.g. "[code [reason]]"
	Help string
}

// DefaultCommands are the line mode's slash commands (cmd/input.go), for
// completion and help.
var DefaultCommands = []Command{
	{"ping", "[data]", "send a ping"},
	{"pong", "[data]", "send an unsolicited pong"},
	{"close", "[code [reason]]", "start the close handshake (default 1000)"},
	{"binary", "<hex>", "send a binary message"},
	{"fragment", "<n> <text>", "send text in frames of n bytes"},
	{"frame", "[key=value...] [payload]", "craft one frame (fin op rsv mask len lenenc hex)"},
}

// localCommands are run by the TUI itself.
var localCommands = []Command{
	{"save", "<file>", "write the rows on screen as a recording"},
	{"help", "", "show keys and commands"},
	{"quit", "", "quit (close 1000)"},
}

// Quit says how the TUI ended, so the command layer can close the
// connection accordingly and exit with the documented status.
type Quit uint8

// The ways a session ends.
const (
	QuitNone      Quit = iota // still running, or ended by an error
	QuitKey                   // q or /quit: close with 1000 Normal Closure
	QuitInterrupt             // Ctrl-C or SIGINT: close with 1001 Going Away
	QuitContext               // the context was cancelled
)

// CloseCode is the close code the command layer should send.
func (q Quit) CloseCode() inspect.CloseCode {
	if q == QuitKey {
		return inspect.CloseNormal
	}
	return inspect.CloseGoingAway
}

func (q Quit) String() string {
	return [...]string{"none", "quit", "interrupt", "context"}[q]
}

// Result is how a session ended.
type Result struct {
	Quit Quit
}

// Run shows events until the user quits or ctx is cancelled. Events
// arrive in batches on events; the TUI keeps them (and the memory their
// payloads point to), so the sender must not modify them afterwards: use
// a Feed, which copies. A closed channel means no more events; the TUI
// stays until the user quits.
//
// Run never touches a socket: the network lives behind opts.Send and
// the producer of events.
func Run(ctx context.Context, opts Options, events <-chan []*inspect.Event) (Result, error) {
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	// Nothing here asks the terminal anything and waits: the first screen
	// is drawn at once even on a terminal that never answers (the model
	// asks for the background in Init, and takes the answer if it comes).
	m := New(opts, events)
	// The size is the terminal's; 80×24 is for an output that is none.
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithWindowSize(80, 24)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	res := m.Result()
	switch {
	case err == nil:
	case errors.Is(err, tea.ErrInterrupted):
		res.Quit, err = QuitInterrupt, nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		res.Quit, err = QuitContext, nil
	}
	return res, err
}
