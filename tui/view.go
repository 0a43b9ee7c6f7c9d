package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// layout is where each part of the screen goes, in lines from the top.
type layout struct {
	listTop, listRows     int // rows of the list; its header is the line above
	detailTop, detailRows int // lines of the detail; its title is the line above
	sendTop, sendRows     int
}

// setSize lays the screen out for w×h and sizes the panes: two status
// lines, the list, the detail, the send box and a footer line. The list
// and the detail share what is left; below 12 lines of room the detail
// goes.
func (m *Model) setSize(w, h int) {
	m.width, m.height = max(w, 20), max(h, 6)
	send := 0
	if m.d.live() {
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

	body := m.height - 3 // between the status bar and the footer
	m.status.SetSize(m.width, 2)
	m.list.SetSize(m.width, l.listRows+1)
	m.detail.SetSize(m.width, detail)
	if m.d.live() {
		m.compose.SetSize(m.width, send)
	}
	m.prompt.SetSize(m.width, 1)
	m.help.SetSize(m.width, body)
	m.picker.SetSize(m.width, body)
	m.footer.SetSize(m.width, 1)
	if m.focus == focusDetail && l.detailRows == 0 {
		m.setFocus(focusList)
	}
}

// layoutIfSendGrew reflows the screen when the send box changed height.
func (m *Model) layoutIfSendGrew() {
	if m.d.live() && m.compose.rows() != m.lay.sendRows {
		m.setSize(m.width, m.height)
	}
}

// hintSets are the footers of the key map, made once.
type hintSets struct {
	browse, pair, compose, helpScreen, conns []key.Binding
}

func newHintSets(k *KeyMap) hintSets {
	return hintSets{k.ShortHelp(), k.pairHelp(), k.composeHelp(), k.helpScreenHelp(), k.connsHelp()}
}

// hints are the keys the footer offers, for what has the keys.
func (m *Model) hints() []key.Binding {
	switch {
	case m.overlay == overlayHelp:
		return m.hintSets.helpScreen
	case m.overlay == overlayConns:
		return m.hintSets.conns
	case m.focus == focusSend:
		return m.hintSets.compose
	}
	if _, _, ok := corrOf(m.d.row(m.d.messageID(m.list.selected()))); ok {
		return m.hintSets.pair
	}
	return m.hintSets.browse
}

// View is the screen in the alternate buffer, with the mouse on.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Screen())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	return v
}

// Screen draws the screen: exactly m.height lines of m.width columns.
func (m *Model) Screen() string {
	var b strings.Builder
	b.WriteString(m.status.View())
	b.WriteByte('\n')
	switch m.overlay {
	case overlayHelp:
		b.WriteString(m.help.View())
	case overlayConns:
		b.WriteString(m.picker.View())
	default:
		b.WriteString(m.list.View())
		if m.lay.detailRows > 0 {
			b.WriteByte('\n')
			b.WriteString(m.detail.View())
		}
		if m.d.live() {
			b.WriteByte('\n')
			b.WriteString(m.compose.View())
		}
	}
	b.WriteByte('\n')
	if m.prompt.open {
		b.WriteString(fit(m.prompt.View(), m.width))
	} else {
		b.WriteString(m.footer.View())
	}
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
