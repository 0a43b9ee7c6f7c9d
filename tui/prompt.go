package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// filterPrompt is the footer's input for the payload regex: enter asks
// the root to apply it (which closes the prompt unless the regex is
// bad), esc closes it and keeps the regex in use.
type filterPrompt struct {
	keys *KeyMap
	in   textinput.Model
	open bool
	out  outbox
}

func newFilterPrompt(st *Styles, keys *KeyMap) filterPrompt {
	in := textinput.New()
	in.Prompt = "filter /"
	in.Placeholder = "regex on payload text, enter applies, esc cancels"
	in.SetStyles(st.textinputStyles())
	return filterPrompt{keys: keys, in: in}
}

// SetSize gives the prompt w columns (it is one line).
func (f *filterPrompt) SetSize(w, _ int) {
	f.in.SetWidth(w - ansi.StringWidth(f.in.Prompt) - 2)
}

// Open shows the prompt holding regex.
func (f *filterPrompt) Open(regex string) tea.Cmd {
	f.open = true
	f.in.SetValue(regex)
	f.in.CursorEnd()
	return f.in.Focus()
}

// restyle takes the style sheet anew (the terminal said its background).
func (f *filterPrompt) restyle(st *Styles) { f.in.SetStyles(st.textinputStyles()) }

// Close puts the prompt away.
func (f *filterPrompt) Close() {
	f.open = false
	f.in.Blur()
}

func (f filterPrompt) Update(msg tea.Msg) (filterPrompt, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, f.keys.Send):
			f.out.post(applyFilterMsg{regex: f.in.Value()})
			return f, nil
		case key.Matches(k, f.keys.Leave):
			f.Close()
			return f, nil
		}
	}
	var cmd tea.Cmd
	f.in, cmd = f.in.Update(msg)
	return f, cmd
}

func (f filterPrompt) View() string { return f.in.View() }
