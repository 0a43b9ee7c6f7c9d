package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/lipgloss"

	"github.com/wscope/wscope/inspect"
)

// Styles is the TUI's one style sheet: every colour the TUI shows is
// named here and nowhere else. Colours are adaptive (one for light, one
// for dark terminals); lipgloss drops them when the terminal cannot show
// them or NO_COLOR is set.
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
}

// Palette: every colour literal of the TUI.
var (
	colMuted   = lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	colFaint   = lipgloss.AdaptiveColor{Light: "#9E9E9E", Dark: "#5F5F5F"}
	colText    = lipgloss.AdaptiveColor{Light: "#1C1C1C", Dark: "#E4E4E4"}
	colBarBg   = lipgloss.AdaptiveColor{Light: "#E4E4E4", Dark: "#303030"}
	colSelBg   = lipgloss.AdaptiveColor{Light: "#D0E4FF", Dark: "#264F78"}
	colAccent  = lipgloss.AdaptiveColor{Light: "#005FD7", Dark: "#5FAFFF"}
	colGreen   = lipgloss.AdaptiveColor{Light: "#008700", Dark: "#5FD75F"}
	colYellow  = lipgloss.AdaptiveColor{Light: "#AF8700", Dark: "#FFD75F"}
	colRed     = lipgloss.AdaptiveColor{Light: "#D70000", Dark: "#FF5F5F"}
	colMagenta = lipgloss.AdaptiveColor{Light: "#AF00AF", Dark: "#D787FF"}
	colCyan    = lipgloss.AdaptiveColor{Light: "#008787", Dark: "#5FD7D7"}
)

// DefaultStyles returns the colour style sheet.
func DefaultStyles() Styles {
	st := lipgloss.NewStyle
	s := Styles{
		Bar:        st().Background(colBarBg).Foreground(colText),
		BarTitle:   st().Background(colBarBg).Foreground(colAccent).Bold(true),
		BarLabel:   st().Background(colBarBg).Foreground(colMuted),
		Connecting: st().Background(colBarBg).Foreground(colYellow).Bold(true),
		Open:       st().Background(colBarBg).Foreground(colGreen).Bold(true),
		Closing:    st().Background(colBarBg).Foreground(colYellow).Bold(true),
		Closed:     st().Background(colBarBg).Foreground(colMuted).Bold(true),
		Failed:     st().Background(colBarBg).Foreground(colRed).Bold(true),
		Recording:  st().Background(colBarBg).Foreground(colRed),

		Header:    st().Foreground(colMuted).Bold(true),
		Selected:  st().Background(colSelBg).Foreground(colText).Bold(true),
		Time:      st().Foreground(colMuted),
		C2S:       st().Foreground(colAccent),
		S2C:       st().Foreground(colMagenta),
		Meta:      st().Foreground(colCyan),
		ErrorRow:  st().Foreground(colRed),
		Dim:       st().Foreground(colFaint),
		Group:     st().Foreground(colAccent),
		Violation: st().Foreground(colRed).Bold(true),
		Notice:    st().Foreground(colYellow),

		PaneTitle:        st().Foreground(colFaint),
		PaneTitleFocused: st().Foreground(colAccent).Bold(true),
		Label:            st().Foreground(colMuted),

		Prompt:      st().Foreground(colAccent).Bold(true),
		Placeholder: st().Foreground(colFaint),
		Text:        st().Foreground(colText),
		Message:     st().Foreground(colGreen),
		Error:       st().Foreground(colRed).Bold(true),
		HelpKey:     st().Foreground(colMuted).Bold(true),
		HelpDesc:    st().Foreground(colFaint),
		HelpSep:     st().Foreground(colFaint),
	}
	for op := range s.Op {
		s.Op[op] = opStyle(inspect.OpCode(op))
	}
	return s
}

func opStyle(op inspect.OpCode) lipgloss.Style {
	st := lipgloss.NewStyle()
	switch op {
	case inspect.OpText:
		return st.Foreground(colGreen)
	case inspect.OpBinary:
		return st.Foreground(colMagenta)
	case inspect.OpContinuation:
		return st.Foreground(colMuted)
	case inspect.OpClose:
		return st.Foreground(colRed).Bold(true)
	case inspect.OpPing, inspect.OpPong:
		return st.Foreground(colYellow)
	}
	return st.Foreground(colRed).Underline(true) // reserved
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
// bubbles defaults (which carry their own colours).
func (s *Styles) textareaStyles() (focused, blurred textarea.Style) {
	focused = textarea.Style{
		Base:        lipgloss.NewStyle(),
		Text:        s.Text,
		Prompt:      s.Prompt,
		Placeholder: s.Placeholder,
	}
	blurred = focused
	blurred.Prompt = s.Dim
	blurred.Text = s.Dim
	return focused, blurred
}
