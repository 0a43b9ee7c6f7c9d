package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/wscope/wscope/inspect"
)

// Styles is the TUI's one style sheet: every colour the TUI shows is
// named here and nowhere else. There is one sheet for dark and one for
// light terminals; Bubble Tea drops the colours a terminal cannot show,
// and NO_COLOR gets PlainStyles.
type Styles struct {
	// Status bar.
	Bar        lipgloss.Style // both lines of the bar
	BarTitle   lipgloss.Style // the URL or address
	BarLabel   lipgloss.Style // "sub", "ext", "rtt"...
	Connecting lipgloss.Style
	Open       lipgloss.Style
	Closing    lipgloss.Style
	Closed     lipgloss.Style // closed cleanly
	Failed     lipgloss.Style // closed abnormally, or could not connect
	Recording  lipgloss.Style

	// Frame list.
	Header    lipgloss.Style // column titles and counts
	Selected  lipgloss.Style // the selected row, whole width
	Time      lipgloss.Style
	C2S       lipgloss.Style // direction arrows
	S2C       lipgloss.Style
	Op        [16]lipgloss.Style // opcode names, coloured by kind
	Meta      lipgloss.Style     // open, end, note rows
	ErrorRow  lipgloss.Style
	Dim       lipgloss.Style // flags, mask keys, lengths
	Group     lipgloss.Style // the bracket joining fragments
	Violation lipgloss.Style
	Notice    lipgloss.Style // paused, rows dropped, rows hidden

	// Detail pane.
	PaneTitle        lipgloss.Style // the rule above a pane
	PaneTitleFocused lipgloss.Style
	Label            lipgloss.Style // field names in the detail

	// Send box and footer.
	Prompt      lipgloss.Style
	Placeholder lipgloss.Style
	Text        lipgloss.Style
	Message     lipgloss.Style // a notice in the footer
	Error       lipgloss.Style // an error in the footer
	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style
	HelpSep     lipgloss.Style
	// Cursor is the colour of the send box's and the prompt's cursor;
	// nil is the terminal's own.
	Cursor color.Color
}

// palette is every colour of the TUI, for one background.
type palette struct {
	muted, faint, text, barBg, selBg, accent color.Color
	green, yellow, red, magenta, cyan        color.Color
}

// newPalette holds every colour literal of the TUI: of each pair, the
// first is for a light background, the second for a dark one.
func newPalette(dark bool) palette {
	pick := lipgloss.LightDark(dark)
	c := func(l, d string) color.Color { return pick(lipgloss.Color(l), lipgloss.Color(d)) }
	return palette{
		muted:   c("#6C6C6C", "#8A8A8A"),
		faint:   c("#9E9E9E", "#5F5F5F"),
		text:    c("#1C1C1C", "#E4E4E4"),
		barBg:   c("#E4E4E4", "#303030"),
		selBg:   c("#D0E4FF", "#264F78"),
		accent:  c("#005FD7", "#5FAFFF"),
		green:   c("#008700", "#5FD75F"),
		yellow:  c("#AF8700", "#FFD75F"),
		red:     c("#D70000", "#FF5F5F"),
		magenta: c("#AF00AF", "#D787FF"),
		cyan:    c("#008787", "#5FD7D7"),
	}
}

// DefaultStyles returns the colour style sheet for a dark or a light
// background. The TUI starts with the dark one and asks the terminal for
// its background without waiting: a terminal that answers light gets the
// light sheet a moment later, one that never answers keeps the dark.
func DefaultStyles(dark bool) Styles {
	st := lipgloss.NewStyle
	p := newPalette(dark)
	s := Styles{
		Bar:        st().Background(p.barBg).Foreground(p.text),
		BarTitle:   st().Background(p.barBg).Foreground(p.accent).Bold(true),
		BarLabel:   st().Background(p.barBg).Foreground(p.muted),
		Connecting: st().Background(p.barBg).Foreground(p.yellow).Bold(true),
		Open:       st().Background(p.barBg).Foreground(p.green).Bold(true),
		Closing:    st().Background(p.barBg).Foreground(p.yellow).Bold(true),
		Closed:     st().Background(p.barBg).Foreground(p.muted).Bold(true),
		Failed:     st().Background(p.barBg).Foreground(p.red).Bold(true),
		Recording:  st().Background(p.barBg).Foreground(p.red),

		Header:    st().Foreground(p.muted).Bold(true),
		Selected:  st().Background(p.selBg).Foreground(p.text).Bold(true),
		Time:      st().Foreground(p.muted),
		C2S:       st().Foreground(p.accent),
		S2C:       st().Foreground(p.magenta),
		Meta:      st().Foreground(p.cyan),
		ErrorRow:  st().Foreground(p.red),
		Dim:       st().Foreground(p.faint),
		Group:     st().Foreground(p.accent),
		Violation: st().Foreground(p.red).Bold(true),
		Notice:    st().Foreground(p.yellow),

		PaneTitle:        st().Foreground(p.faint),
		PaneTitleFocused: st().Foreground(p.accent).Bold(true),
		Label:            st().Foreground(p.muted),

		Prompt:      st().Foreground(p.accent).Bold(true),
		Placeholder: st().Foreground(p.faint),
		Text:        st().Foreground(p.text),
		Message:     st().Foreground(p.green),
		Error:       st().Foreground(p.red).Bold(true),
		HelpKey:     st().Foreground(p.muted).Bold(true),
		HelpDesc:    st().Foreground(p.faint),
		HelpSep:     st().Foreground(p.faint),
	}
	for op := range s.Op {
		s.Op[op] = opStyle(inspect.OpCode(op), &p)
	}
	s.Cursor = p.text
	return s
}

func opStyle(op inspect.OpCode, p *palette) lipgloss.Style {
	st := lipgloss.NewStyle()
	switch op {
	case inspect.OpText:
		return st.Foreground(p.green)
	case inspect.OpBinary:
		return st.Foreground(p.magenta)
	case inspect.OpContinuation:
		return st.Foreground(p.muted)
	case inspect.OpClose:
		return st.Foreground(p.red).Bold(true)
	case inspect.OpPing, inspect.OpPong:
		return st.Foreground(p.yellow)
	}
	return st.Foreground(p.red).Underline(true) // reserved
}

// PlainStyles returns a style sheet without colours, for NO_COLOR: it
// keeps the attributes (bold, reverse, underline) that NO_COLOR allows.
func PlainStyles() Styles {
	st := lipgloss.NewStyle
	bold := st().Bold(true)
	s := Styles{
		Bar:        st().Reverse(true),
		BarTitle:   st().Reverse(true).Bold(true),
		BarLabel:   st().Reverse(true),
		Connecting: st().Reverse(true).Bold(true),
		Open:       st().Reverse(true).Bold(true),
		Closing:    st().Reverse(true).Bold(true),
		Closed:     st().Reverse(true).Bold(true),
		Failed:     st().Reverse(true).Bold(true).Underline(true),
		Recording:  st().Reverse(true).Bold(true),

		Header:    bold,
		Selected:  st().Reverse(true),
		Violation: bold,
		ErrorRow:  bold,
		Notice:    bold,

		PaneTitleFocused: bold,
		Prompt:           bold,
		Error:            bold,
		HelpKey:          bold,
	}
	for op := range s.Op {
		s.Op[op] = st()
	}
	s.Op[inspect.OpClose] = bold
	return s
}

// helpStyles styles bubbles/help from the sheet.
func (s *Styles) helpStyles() help.Styles {
	return help.Styles{
		Ellipsis:       s.HelpSep,
		ShortKey:       s.HelpKey,
		ShortDesc:      s.HelpDesc,
		ShortSeparator: s.HelpSep,
		FullKey:        s.HelpKey,
		FullDesc:       s.HelpDesc,
		FullSeparator:  s.HelpSep,
	}
}

// textareaStyles styles the send box from the sheet, replacing the
// bubbles defaults (which carry their own colours). The cursor is drawn
// in the text, steady: a blinking one would redraw the screen twice a
// second for nothing.
func (s *Styles) textareaStyles() textarea.Styles {
	focused := textarea.StyleState{
		Base:        lipgloss.NewStyle(),
		Text:        s.Text,
		Prompt:      s.Prompt,
		Placeholder: s.Placeholder,
	}
	blurred := focused
	blurred.Prompt = s.Dim
	blurred.Text = s.Dim
	return textarea.Styles{Focused: focused, Blurred: blurred, Cursor: textarea.CursorStyle{Color: s.Cursor}}
}

// textinputStyles styles the filter prompt from the sheet.
func (s *Styles) textinputStyles() textinput.Styles {
	st := textinput.StyleState{Text: s.Text, Placeholder: s.Placeholder, Prompt: s.Prompt}
	return textinput.Styles{Focused: st, Blurred: st, Cursor: textinput.CursorStyle{Color: s.Cursor}}
}
