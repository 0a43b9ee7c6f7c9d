package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	tea "github.com/charmbracelet/bubbletea"
)

// maxSendRows is the most lines the send box grows to.
const maxSendRows = 5

// composer is the send box: a text area with history and completion of
// slash command names.
type composer struct {
	ta       textarea.Model
	history  []string
	pos      int    // entry shown; len(history) is the draft
	draft    string // what was typed before going back in history
	file     string
	commands []Command
}

func newComposer(opts *Options, st *Styles, keys *KeyMap) (composer, error) {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.SetPromptFunc(2, func(line int) string {
		if line == 0 {
			return "> "
		}
		return ": "
	})
	ta.Placeholder = "type a message, enter sends; /help lists commands"
	ta.CharLimit = 0
	ta.MaxWidth = 0
	ta.FocusedStyle, ta.BlurredStyle = st.textareaStyles()
	ta.KeyMap.InsertNewline = keys.Newline
	ta.Cursor.SetMode(cursor.CursorStatic)
	ta.Cursor.Style = st.Text
	ta.SetHeight(1)
	c := composer{ta: ta, file: opts.HistoryFile}
	c.commands = append(append(c.commands, opts.Commands...), localCommands...)
	var err error
	if c.file != "" {
		c.history, err = loadHistory(c.file, historyLimit)
	}
	c.pos = len(c.history)
	return c, err
}

// rows is the height the send box wants.
func (c *composer) rows() int { return min(max(c.ta.LineCount(), 1), maxSendRows) }

// remember adds a sent line to the history, and reports whether it is
// new (a repeat of the last entry is kept once).
func (c *composer) remember(line string) bool {
	c.pos, c.draft = len(c.history), ""
	if n := len(c.history); n > 0 && c.history[n-1] == line {
		return false
	}
	c.history = append(c.history, line)
	if len(c.history) > historyLimit {
		c.history = c.history[len(c.history)-historyLimit:]
	}
	c.pos = len(c.history)
	return true
}

// older shows the previous history entry.
func (c *composer) older() {
	if c.pos == 0 {
		return
	}
	if c.pos == len(c.history) {
		c.draft = c.ta.Value()
	}
	c.pos--
	c.ta.SetValue(c.history[c.pos])
}

// newer shows the next history entry, and the draft after the last.
func (c *composer) newer() {
	if c.pos >= len(c.history) {
		return
	}
	c.pos++
	if c.pos == len(c.history) {
		c.ta.SetValue(c.draft)
		return
	}
	c.ta.SetValue(c.history[c.pos])
}

// completable reports whether the box holds the start of a command name.
func (c *composer) completable() bool {
	v := c.ta.Value()
	return strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.ContainsAny(v, " \t\n")
}

// complete extends the command name typed as far as it is unambiguous and
// returns what to tell the user: the usage of the command, or the names
// that still match.
func (c *composer) complete() (string, bool) {
	prefix := c.ta.Value()[1:]
	var match []Command
	for _, cmd := range c.commands {
		if strings.HasPrefix(cmd.Name, prefix) {
			match = append(match, cmd)
		}
	}
	switch len(match) {
	case 0:
		return "no command starts with /" + prefix, false
	case 1:
		c.ta.SetValue("/" + match[0].Name + " ")
		return usage(match[0]), true
	}
	common := match[0].Name
	names := make([]string, len(match))
	for i, cmd := range match {
		names[i] = "/" + cmd.Name
		for !strings.HasPrefix(cmd.Name, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(prefix) {
		c.ta.SetValue("/" + common)
	}
	return strings.Join(names, "  "), true
}

func usage(c Command) string {
	s := "/" + c.Name
	if c.Args != "" {
		s += " " + c.Args
	}
	return s + "  " + c.Help
}

// localCommand splits a line of the send box that the TUI runs itself.
func localCommand(line string) (name, arg string, ok bool) {
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		return "", "", false
	}
	name, arg, _ = strings.Cut(strings.TrimSpace(line[1:]), " ")
	for _, c := range localCommands {
		if c.Name == name {
			return name, strings.TrimSpace(arg), true
		}
	}
	if name == "?" {
		return "help", "", true
	}
	return "", "", false
}

// composeKey handles a key while the send box has the focus.
func (m *Model) composeKey(msg tea.KeyMsg) tea.Cmd {
	k, c := &m.keys, &m.compose
	switch {
	case key.Matches(msg, k.Send):
		return m.submit()
	case key.Matches(msg, k.Leave):
		m.setFocus(focusList)
		return nil
	case msg.Type == tea.KeyF1:
		m.showHelp()
		return nil
	case key.Matches(msg, k.HistPrev) && c.ta.Line() == 0:
		c.older()
	case key.Matches(msg, k.HistNext) && c.ta.Line() == c.ta.LineCount()-1:
		c.newer()
	case key.Matches(msg, k.Complete):
		if !c.completable() {
			m.nextPane()
			return nil
		}
		s, ok := c.complete()
		if ok {
			m.setNotice("%s", s)
		} else {
			m.setError("%s", s)
		}
	case msg.Type == tea.KeyPgUp:
		m.list.move(-max(1, m.list.rows-1))
		m.refreshDetail()
		return nil
	case msg.Type == tea.KeyPgDown:
		m.list.move(max(1, m.list.rows-1))
		m.refreshDetail()
		return nil
	default:
		var cmd tea.Cmd
		c.ta, cmd = c.ta.Update(msg)
		m.layoutIfSendGrew()
		return cmd
	}
	m.layoutIfSendGrew()
	return nil
}

// layoutIfSendGrew reflows the screen when the send box changed height.
func (m *Model) layoutIfSendGrew() {
	if m.live() && m.compose.rows() != m.lay.sendRows {
		m.setSize(m.width, m.height)
	}
}

// submit runs the send box's content: a command of the TUI, or a line
// for the command layer.
func (m *Model) submit() tea.Cmd {
	c := &m.compose
	line := c.ta.Value()
	if strings.TrimSpace(line) == "" {
		return nil
	}
	fresh := c.remember(line)
	c.ta.Reset()
	m.layoutIfSendGrew()
	name, arg, local := localCommand(line)
	m.sendQueue = append(m.sendQueue, sendJob{line: line, conn: m.conn, send: !local, history: fresh})
	cmd := m.nextSend()
	if !local {
		return cmd
	}
	switch name {
	case "help":
		m.showHelp()
	case "quit":
		m.quit = QuitKey
		return tea.Batch(cmd, tea.Quit)
	case "save":
		if arg == "" {
			m.setError("usage: /save FILE")
			return cmd
		}
		return tea.Batch(cmd, m.saveCmd(arg))
	}
	return cmd
}

// sendJob is one line of the send box on its way out: written to the
// history file, then (unless the TUI ran it) handed to Options.Send.
type sendJob struct {
	line    string
	conn    int
	send    bool
	history bool
}

// nextSend starts the oldest waiting job unless one is running: lines
// reach the connection one at a time, in the order typed, and the update
// loop never waits for them.
func (m *Model) nextSend() tea.Cmd {
	if m.sending || len(m.sendQueue) == 0 {
		return nil
	}
	j := m.sendQueue[0]
	m.sendQueue = m.sendQueue[1:]
	m.sending = true
	file, send := m.compose.file, m.opts.Send
	return func() tea.Msg {
		var herr error
		if file != "" && j.history {
			herr = appendHistory(file, j.line)
		}
		var err error
		if j.send && send != nil {
			err = send(j.conn, j.line)
		}
		if err == nil && herr != nil {
			err = herr
			j.line = "history"
		}
		return sentMsg{line: j.line, err: err}
	}
}
