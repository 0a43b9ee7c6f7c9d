package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
)

// maxSendRows is the most lines the send box grows to.
const maxSendRows = 5

// composer is the send box: a text area with history and completion of
// slash command names. It sends what is typed through Options.Send, one
// line at a time, in the order typed.
type composer struct {
	d    *data
	keys *KeyMap

	ta       textarea.Model
	history  []string
	pos      int    // entry shown; len(history) is the draft
	draft    string // what was typed before going back in history
	file     string
	commands []Command
	send     func(conn int, line string) error

	queue   []sendJob
	sending bool

	out outbox
}

func newComposer(opts *Options, d *data, st *Styles, keys *KeyMap) (composer, error) {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.SetPromptFunc(2, func(p textarea.PromptInfo) string {
		if p.LineNumber == 0 {
			return "> "
		}
		return ": "
	})
	ta.Placeholder = "type a message, enter sends; /help lists commands"
	ta.CharLimit = 0
	ta.MaxWidth = 0
	ta.SetStyles(st.textareaStyles())
	ta.KeyMap.InsertNewline = keys.Newline
	ta.SetHeight(1)
	c := composer{d: d, keys: keys, ta: ta, file: opts.HistoryFile, send: opts.Send}
	c.commands = append(append(c.commands, opts.Commands...), localCommands...)
	var err error
	if c.file != "" {
		c.history, err = loadHistory(c.file, historyLimit)
	}
	c.pos = len(c.history)
	return c, err
}

// SetSize gives the box w columns and h lines.
func (c *composer) SetSize(w, h int) {
	c.ta.SetWidth(w)
	c.ta.SetHeight(h)
}

func (c *composer) Focus() { c.ta.Focus() }

func (c *composer) Blur() { c.ta.Blur() }

// restyle takes the style sheet anew (the terminal said its background).
func (c *composer) restyle(st *Styles) { c.ta.SetStyles(st.textareaStyles()) }

func (c composer) View() string { return c.ta.View() }

// Update takes keys and what the text area needs (a paste, the cursor),
// and the outcome of a line sent.
func (c composer) Update(msg tea.Msg) (composer, tea.Cmd) {
	k := c.keys
	switch msg := msg.(type) {
	case sentMsg:
		c.sending = false
		if msg.err != nil {
			c.out.post(noticeMsg{text: sprintf("%s: %v", firstLine(msg.line), msg.err), err: true})
		}
		return c, c.nextSend()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Send):
			return c, c.submit()
		case key.Matches(msg, k.HistPrev) && c.ta.Line() == 0:
			c.older()
			return c, nil
		case key.Matches(msg, k.HistNext) && c.ta.Line() == c.ta.LineCount()-1:
			c.newer()
			return c, nil
		case key.Matches(msg, k.Complete):
			if !c.completable() {
				c.out.post(nextPaneMsg{})
				return c, nil
			}
			s, ok := c.complete()
			c.out.post(noticeMsg{text: s, err: !ok})
			return c, nil
		}
	}
	var cmd tea.Cmd
	c.ta, cmd = c.ta.Update(msg)
	return c, cmd
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

// submit runs the box's content: a command of the TUI, or a line for the
// command layer.
func (c *composer) submit() tea.Cmd {
	line := c.ta.Value()
	if strings.TrimSpace(line) == "" {
		return nil
	}
	fresh := c.remember(line)
	c.ta.Reset()
	name, arg, local := localCommand(line)
	c.queue = append(c.queue, sendJob{line: line, conn: c.d.conn, send: !local, history: fresh})
	if local {
		c.out.post(localCmdMsg{name: name, arg: arg})
	}
	return c.nextSend()
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
func (c *composer) nextSend() tea.Cmd {
	if c.sending || len(c.queue) == 0 {
		return nil
	}
	j := c.queue[0]
	c.queue = c.queue[1:]
	c.sending = true
	file, send := c.file, c.send
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
