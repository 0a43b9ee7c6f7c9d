package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// layout is where each part of the screen goes, in lines from the top.
type layout struct {
	listTop, listRows     int // rows of the list; its header is the line above
	detailTop, detailRows int // lines of the detail; its title is the line above
	sendTop, sendRows     int
}

// splitWidth is the width from which the detail shows the header fields
// and the payload side by side.
const splitWidth = 120

// setSize lays the screen out for w×h: two status lines, the list, the
// detail, the send box and a footer line. The list and the detail share
// what is left; below 12 lines of room the detail goes.
func (m *Model) setSize(w, h int) {
	m.width, m.height = max(w, 20), max(h, 6)
	send := 0
	if m.live() {
		send = m.compose.rows()
	}
	rest := m.height - 2 - 1 - send - 1 // status, footer, send, list header
	detail := 0
	switch {
	case rest >= 8 && m.zoom:
		detail = rest - max(3, rest/5)
	case rest >= 12:
		detail = rest / 2
	}
	l := layout{listTop: 3, listRows: rest - detail}
	if detail > 0 {
		l.detailTop, l.detailRows = l.listTop+l.listRows+1, detail-1
	}
	l.sendTop, l.sendRows = l.listTop+l.listRows+detail, send
	m.lay = l
	m.list.rows = l.listRows
	m.list.settle()
	m.detail.height = l.detailRows
	m.detail.split = m.width >= splitWidth
	if m.live() {
		m.compose.ta.SetWidth(m.width)
		m.compose.ta.SetHeight(send)
	}
	m.filterIn.Width = m.width - ansi.StringWidth(m.filterIn.Prompt) - 2
	m.help.Width = m.width
	if m.focus == focusDetail && l.detailRows == 0 {
		m.setFocus(focusList)
	}
	m.refreshDetail()
}

// detailWidth is the width of the detail's fields column.
func (m *Model) detailWidth() int {
	if m.detail.split {
		return max(56, min(72, m.width*55/100))
	}
	return m.width
}

// View draws the screen: exactly m.height lines of m.width columns.
func (m *Model) View() string {
	var b strings.Builder
	b.WriteString(m.statusView())
	b.WriteByte('\n')
	body := m.height - 3
	switch m.overlay {
	case overlayHelp:
		help := strings.Split(m.helpView(), "\n")
		b.WriteString(block(strings.Join(help[min(m.helpOff, len(help)):], "\n"), body, m.width))
	case overlayConns:
		b.WriteString(block(m.connsView(), body, m.width))
	default:
		b.WriteString(m.listHeader())
		b.WriteByte('\n')
		b.WriteString(m.listView())
		if m.lay.detailRows > 0 {
			b.WriteByte('\n')
			b.WriteString(m.detailView())
		}
		if m.live() {
			b.WriteByte('\n')
			b.WriteString(m.compose.ta.View())
		}
	}
	b.WriteByte('\n')
	b.WriteString(m.footerView())
	return b.String()
}

// block cuts or pads s to exactly h lines of w columns.
func block(s string, h, w int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > h {
		ls = ls[:h]
	}
	for len(ls) < h {
		ls = append(ls, "")
	}
	for i, l := range ls {
		if d := w - ansi.StringWidth(l); d > 0 {
			ls[i] = l + strings.Repeat(" ", d)
		} else if d < 0 {
			ls[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(ls, "\n")
}

// barLine builds one line of the status bar from styled parts, cutting
// at the width and filling the rest with the bar's background.
type barLine struct {
	st    *Styles
	b     strings.Builder
	w     int
	width int
}

func (l *barLine) add(st lipgloss.Style, s string) {
	room := l.width - l.w
	if room <= 0 || s == "" {
		return
	}
	s = truncate(s, room)
	l.w += ansi.StringWidth(s)
	l.b.WriteString(st.Render(s))
}

func (l *barLine) sep() { l.add(l.st.BarLabel, " │ ") }

func (l *barLine) String() string {
	if l.w < l.width {
		l.b.WriteString(l.st.Bar.Render(strings.Repeat(" ", l.width-l.w)))
	}
	return l.b.String()
}

// statusView is the two status lines: what and where it stands, then
// the counters. The subprotocol and extensions go on the first line when
// they fit, else on the second.
func (m *Model) statusView() string {
	st := &m.st
	c := m.shownConn()
	type part struct {
		label, text string
		st          lipgloss.Style
	}
	var extra []part // sub and ext
	if c != nil && c.open != nil {
		if c.open.Subprotocol != "" {
			extra = append(extra, part{"sub ", inspect.TextView([]byte(c.open.Subprotocol)), st.Bar})
		}
		if len(c.open.Extensions) > 0 {
			names := make([]string, len(c.open.Extensions))
			for i, x := range c.open.Extensions {
				names[i] = x.Name
			}
			extra = append(extra, part{"ext ", inspect.TextView([]byte(strings.Join(names, ", "))), st.Bar})
		}
	}
	width := func(ps []part) int {
		n := 0
		for _, p := range ps {
			n += 3 + ansi.StringWidth(p.label+p.text)
		}
		return n
	}

	state, stateSt := m.stateText()
	title := m.opts.Title
	if title == "" {
		title = "wscope"
	}
	title = inspect.TextView([]byte(title))
	// The title gives way to the state, never the other way round.
	room := m.width - 1 - 3 - ansi.StringWidth(state)
	var one1, two1 []part
	used := ansi.StringWidth(title)
	for _, p := range extra {
		if used+width([]part{p}) <= room {
			one1 = append(one1, p)
			used += width([]part{p})
		} else {
			two1 = append(two1, p)
		}
	}
	one := barLine{st: st, width: m.width}
	one.add(st.Bar, " ")
	one.add(st.BarTitle, truncate(title, max(room-width(one1), 8)))
	one.sep()
	one.add(stateSt, state)
	for _, p := range one1 {
		one.sep()
		one.add(st.BarLabel, p.label)
		one.add(p.st, p.text)
	}

	two := barLine{st: st, width: m.width}
	var frames, bytes [3]int64
	if c != nil {
		frames, bytes = c.frames, c.bytes
	} else {
		frames, bytes, _, _ = m.conns.total()
	}
	two.add(st.Bar, " ")
	two.add(st.C2S.Inherit(st.Bar), "→ ")
	two.add(st.Bar, fmt.Sprintf("%s frames %s  ", commas(int(frames[inspect.ClientToServer])), size(bytes[inspect.ClientToServer])))
	two.add(st.S2C.Inherit(st.Bar), "← ")
	two.add(st.Bar, fmt.Sprintf("%s frames %s", commas(int(frames[inspect.ServerToClient])), size(bytes[inspect.ServerToClient])))
	two.sep()
	two.add(st.BarLabel, "rtt ")
	if c != nil && c.hasRTT {
		two.add(st.Bar, c.rtt.Round(time.Microsecond).String())
	} else {
		two.add(st.Bar, "-")
	}
	two.sep()
	if m.opts.Recording != "" {
		two.add(st.Recording, "● rec "+inspect.TextView([]byte(m.opts.Recording)))
	} else {
		two.add(st.BarLabel, "rec off")
	}
	if m.multi {
		two.sep()
		two.add(st.BarLabel, "conn ")
		if m.conn == 0 {
			two.add(st.Bar, fmt.Sprintf("all %d", len(m.conns.ids)))
		} else {
			two.add(st.Bar, fmt.Sprintf("#%d", m.conn))
		}
	}
	if f := m.filterText(); f != "" {
		two.sep()
		two.add(st.BarLabel, "filter ")
		two.add(st.Bar, f)
	}
	for _, p := range two1 {
		two.sep()
		two.add(st.BarLabel, p.label)
		two.add(p.st, p.text)
	}
	return one.String() + "\n" + two.String()
}

// stateText says where the connection in view stands.
func (m *Model) stateText() (string, lipgloss.Style) {
	st := &m.st
	c := m.shownConn()
	if c == nil {
		switch {
		case len(m.conns.ids) == 0 && m.opts.Live && m.opts.Multi:
			return "listening", st.Open
		case len(m.conns.ids) == 0 && m.opts.Live:
			return "connecting…", st.Connecting
		case len(m.conns.ids) == 0 && !m.srcDone:
			return "reading…", st.Connecting
		case len(m.conns.ids) == 0:
			return "no events", st.Closed
		}
		_, _, open, closed := m.conns.total()
		s := fmt.Sprintf("%d open, %d closed", open, closed)
		if !m.opts.Live {
			s = fmt.Sprintf("%d connections", len(m.conns.ids))
		}
		return s, st.Open
	}
	switch c.state {
	case stateConnecting:
		if c.err != "" {
			return "failed: " + c.err, st.Failed
		}
		if !m.opts.Live {
			return "no handshake", st.Closed
		}
		return "connecting…", st.Connecting
	case stateOpen:
		return "open", st.Open
	case stateClosing:
		return "closing", st.Closing
	}
	s := "closed " + c.end.Code.String()
	if !c.end.Clean {
		s += ", not clean"
	}
	if c.end.ExitStatus() == inspect.ExitClean {
		return s, st.Closed
	}
	return s, st.Failed
}

// filterText describes the filter in use, "" for none.
func (m *Model) filterText() string {
	var parts []string
	if m.filter.From != 0 {
		parts = append(parts, m.filter.From.String())
	}
	switch m.filter.Ops {
	case opsData:
		parts = append(parts, "data")
	case opsControl:
		parts = append(parts, "control")
	}
	if m.regex != "" {
		parts = append(parts, "/"+m.regex+"/")
	}
	return strings.Join(parts, " ")
}

// footerView is the last line: the filter input, a notice, or the keys.
func (m *Model) footerView() string {
	switch {
	case m.filterOn:
		return fit(m.filterIn.View(), m.width)
	case m.notice != "":
		st := m.st.Message
		if m.noticeErr {
			st = m.st.Error
		}
		return st.Render(fit(inspect.TextView([]byte(firstLine(m.notice))), m.width))
	}
	var keys []key.Binding
	switch {
	case m.overlay == overlayHelp:
		keys = []key.Binding{m.keys.Up, m.keys.Down, m.keys.Leave, m.keys.Interrupt}
	case m.overlay == overlayConns:
		show := key.NewBinding(key.WithKeys(m.keys.Send.Keys()...), key.WithHelp(m.keys.Send.Help().Key, "show"))
		keys = []key.Binding{m.keys.Up, m.keys.Down, show, m.keys.Leave}
	case m.focus == focusSend:
		keys = m.keys.composeKeys()
	default:
		keys = m.keys.listKeys()
	}
	return fit(m.help.ShortHelpView(keys), m.width)
}

// helpView is the help screen: every key from the key map, then the slash
// commands of the send box.
func (m *Model) helpView() string {
	var groups []string
	for _, g := range m.keys.fullHelp(m.live()) {
		groups = append(groups, m.help.FullHelpView([][]key.Binding{g}))
	}
	// As many groups side by side as fit, the rest below.
	var rows []string
	var line []string
	w := 0
	for _, g := range groups {
		gw := lipgloss.Width(g) + 4
		if len(line) > 0 && w+gw > m.width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...))
			line, w = nil, 0
		}
		line = append(line, lipgloss.NewStyle().PaddingRight(4).Render(g))
		w += gw
	}
	if len(line) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...))
	}
	out := m.st.Header.Render("keys") + "\n" + strings.Join(rows, "\n\n")
	if m.live() {
		out += "\n\n" + m.st.Header.Render("commands in the send box") + "\n"
		cmds := append(append([]Command(nil), m.compose.commands...), Command{Name: "/text", Help: "send \"/text\""})
		for _, c := range cmds {
			u := "/" + c.Name
			if c.Args != "" {
				u += " " + c.Args
			}
			out += m.st.HelpKey.Render(pad(u, 28)) + " " + m.st.HelpDesc.Render(c.Help) + "\n"
		}
	}
	return out
}

// connsView is the connection list: "all", then each connection.
func (m *Model) connsView() string {
	var b strings.Builder
	b.WriteString(m.st.Header.Render("connections (enter shows one, esc goes back)"))
	item := func(i int, s string) {
		b.WriteByte('\n')
		mark := "  "
		if i == m.connSel {
			mark = "▸ "
			b.WriteString(m.st.Selected.Render(fit(mark+s, m.width)))
			return
		}
		b.WriteString(mark + s)
	}
	_, _, open, closed := m.conns.total()
	item(0, fmt.Sprintf("all, interleaved (%d open, %d closed)", open, closed))
	for i, id := range m.conns.ids {
		c := m.conns.byID[id]
		where := ""
		if c.open != nil {
			where = c.open.Remote + " " + c.open.Request.Target
			if c.open.Role == inspect.RoleClient {
				where = c.open.URL
			}
		}
		state := [...]string{"connecting", "open", "closing", "closed"}[c.state]
		if c.state == stateClosed && c.end != nil {
			state += " " + fmt.Sprint(uint16(c.end.Code))
		}
		item(i+1, fmt.Sprintf("#%-4d %-11s c2s %-7s s2c %-7s %s", id, state,
			commas(int(c.frames[inspect.ClientToServer])), commas(int(c.frames[inspect.ServerToClient])),
			inspect.TextView([]byte(where))))
	}
	return b.String()
}
