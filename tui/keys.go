package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the TUI knows, in one place: the help screen and
// the footer are drawn from it, and Update matches against it.
type KeyMap struct {
	// Moving in the list (and in the detail pane when it has the focus).
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding // also resumes follow mode
	Follow   key.Binding

	// What the list shows.
	Messages    key.Binding // frame rows or message rows
	Filter      key.Binding // regex on payload text
	Direction   key.Binding // cycle both, c2s, s2c
	OpClass     key.Binding // cycle all, data, control
	ClearFilter key.Binding
	Conns       key.Binding // the connection list
	Choose      key.Binding // show the connection selected in the list
	PrevConn    key.Binding
	NextConn    key.Binding

	// Detail pane.
	PayloadView key.Binding // cycle text, JSON, hex
	Correlated  key.Binding // request -> parts -> answer of a decoded pair
	Zoom        key.Binding // the detail takes most of the screen

	// Focus.
	NextPane key.Binding
	Leave    key.Binding // back to the list; closes overlays and inputs
	Compose  key.Binding // focus the send box

	// Send box.
	Send     key.Binding
	Newline  key.Binding
	HistPrev key.Binding
	HistNext key.Binding
	Complete key.Binding

	Help      key.Binding
	Quit      key.Binding
	Interrupt key.Binding
}

// DefaultKeyMap returns the TUI's keys.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g/home", "first"),
		Bottom:   b([]string{"end", "G"}, "G/end", "last, follow"),
		Follow:   b([]string{"f"}, "f", "follow on/off"),

		Messages:    b([]string{"m"}, "m", "frames/msgs"),
		Filter:      b([]string{"/"}, "/", "filter"),
		Direction:   b([]string{"d"}, "d", "direction"),
		OpClass:     b([]string{"o"}, "o", "data/control"),
		ClearFilter: b([]string{"x"}, "x", "clear filter"),
		Conns:       b([]string{"c"}, "c", "connections"),
		Choose:      b([]string{"enter"}, "enter", "show"),
		PrevConn:    b([]string{"["}, "[", "prev conn"),
		NextConn:    b([]string{"]"}, "]", "next conn"),

		PayloadView: b([]string{"v"}, "v", "text/json/hex"),
		Zoom:        b([]string{"z"}, "z", "zoom detail"),
		Correlated:  b([]string{"a"}, "a", "request⇄answer"),

		NextPane: b([]string{"tab"}, "tab", "pane"),
		Leave:    b([]string{"esc"}, "esc", "list"),
		Compose:  b([]string{"i"}, "i", "send box"),

		Send:     b([]string{"enter"}, "enter", "send"),
		Newline:  b([]string{"alt+enter", "ctrl+j"}, "alt+⏎", "new line"),
		HistPrev: b([]string{"up"}, "↑/↓", "history"),
		HistNext: b([]string{"down"}, "↓", "history"),
		Complete: b([]string{"tab"}, "tab", "complete"),

		Help:      b([]string{"?", "f1"}, "?", "help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		Interrupt: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
	}
}

// ShortHelp is the footer while the list or the detail has the focus
// (bubbles/help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Filter, k.Messages, k.PayloadView, k.NextPane, k.Quit}
}

// pairHelp is the footer while the selected message has a decoded
// request or answer.
func (k KeyMap) pairHelp() []key.Binding {
	return []key.Binding{k.Help, k.Filter, k.Messages, k.Correlated, k.PayloadView, k.NextPane, k.Quit}
}

// composeHelp is the footer while the send box has the focus.
func (k KeyMap) composeHelp() []key.Binding {
	return []key.Binding{k.Send, k.Newline, k.HistPrev, k.Complete, k.Leave, k.Interrupt}
}

// helpScreenHelp is the footer of the help screen.
func (k KeyMap) helpScreenHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Leave, k.Interrupt}
}

// connsHelp is the footer of the connection list.
func (k KeyMap) connsHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Choose, k.Leave}
}

// fullHelp is the help screen, one column per group.
func (k KeyMap) fullHelp(live bool) [][]key.Binding {
	cols := [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Follow},
		{k.Messages, k.Filter, k.Direction, k.OpClass, k.ClearFilter, k.PayloadView, k.Zoom, k.Correlated},
		{k.NextPane, k.Leave, k.Conns, k.PrevConn, k.NextConn, k.Help, k.Quit, k.Interrupt},
	}
	if live {
		cols = append(cols, []key.Binding{k.Compose, k.Send, k.Newline, k.HistPrev, k.Complete})
	}
	return cols
}

// FullHelp is the help screen of a live session (bubbles/help.KeyMap).
func (k KeyMap) FullHelp() [][]key.Binding { return k.fullHelp(true) }
