package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wscope/wscope/inspect"
)

// footer is the last line: a notice (what a command did, an error) until
// the next key, else the keys of the pane with the focus.
type footer struct {
	st     *Styles
	help   help.Model
	hints  []key.Binding // set by the root as the focus moves
	notice string
	isErr  bool
	width  int
}

func newFooter(st *Styles) footer {
	h := help.New()
	h.Styles = st.helpStyles()
	return footer{st: st, help: h}
}

func (f *footer) SetSize(w, _ int) {
	f.width = w
	f.help.Width = w
}

// Update shows a notice, and puts it away at the next key.
func (f footer) Update(msg tea.Msg) (footer, tea.Cmd) {
	switch msg := msg.(type) {
	case noticeMsg:
		f.notice, f.isErr = msg.text, msg.err
	case tea.KeyMsg:
		f.notice, f.isErr = "", false
	}
	return f, nil
}

func (f footer) View() string {
	if f.notice != "" {
		st := f.st.Message
		if f.isErr {
			st = f.st.Error
		}
		return st.Render(fit(inspect.TextView([]byte(firstLine(f.notice))), f.width))
	}
	return fit(f.help.ShortHelpView(f.hints), f.width)
}
