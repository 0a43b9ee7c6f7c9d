package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

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

// restyle takes the style sheet anew (the terminal said its background).
func (f *footer) restyle(st *Styles) { f.help.Styles = st.helpStyles() }

func (f *footer) SetSize(w, _ int) {
	f.width = w
	f.help.SetWidth(w)
}

// Update shows a notice, and puts it away at the next key.
func (f footer) Update(msg tea.Msg) (footer, tea.Cmd) {
	switch msg := msg.(type) {
	case noticeMsg:
		f.notice, f.isErr = msg.text, msg.err
	case tea.KeyPressMsg:
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
