package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// Op classes the o key cycles through.
var (
	opsData    = uint16(1<<inspect.OpText | 1<<inspect.OpBinary | 1<<inspect.OpContinuation)
	opsControl = uint16(1<<inspect.OpClose | 1<<inspect.OpPing | 1<<inspect.OpPong)
)

// key routes a key. Ctrl-C quits from anywhere. An overlay, the filter
// prompt and the send box take every key but the few that leave them;
// while browsing, the root handles the global keys and the pane with the
// focus gets the rest.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if key.Matches(msg, k.Interrupt) {
		m.quit = QuitInterrupt
		return tea.Quit
	}
	m.footer, _ = m.footer.Update(msg) // a key puts the notice away
	var cmd tea.Cmd
	switch {
	case m.overlay == overlayHelp:
		m.help, cmd = m.help.Update(msg)
		return tea.Batch(cmd, m.handle(m.help.out.take()))
	case m.overlay == overlayConns:
		m.picker, cmd = m.picker.Update(msg)
		return tea.Batch(cmd, m.handle(m.picker.out.take()))
	case m.prompt.open:
		m.prompt, cmd = m.prompt.Update(msg)
		return tea.Batch(cmd, m.handle(m.prompt.out.take()))
	case m.focus == focusSend:
		return m.sendKey(msg)
	}
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	if m.focus == focusDetail {
		m.detail, cmd = m.detail.Update(msg)
		return cmd
	}
	m.list, cmd = m.list.Update(msg)
	return cmd
}

// sendKey routes a key while the send box has the focus: everything is
// text but esc (back to the list), F1 (help), and the page keys, which
// the box has no use for and scroll the list.
func (m *Model) sendKey(msg tea.KeyPressMsg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, m.keys.Leave):
		m.setFocus(focusList)
		return nil
	case msg.Code == tea.KeyF1:
		m.showHelp()
		return nil
	case msg.Code == tea.KeyPgUp, msg.Code == tea.KeyPgDown:
		m.list, cmd = m.list.Update(msg)
		return cmd
	}
	m.compose, cmd = m.compose.Update(msg)
	cmd = tea.Batch(cmd, m.handle(m.compose.out.take()))
	m.layoutIfSendGrew()
	return cmd
}

// globalKey handles the keys that mean the same in the list and in the
// detail, and reports whether msg was one.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	d := m.d
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Quit):
		m.quit = QuitKey
		return tea.Quit, true
	case key.Matches(msg, k.Help):
		m.showHelp()
	case key.Matches(msg, k.Filter):
		return m.prompt.Open(d.regex), true
	case key.Matches(msg, k.Messages):
		if d.mode == modeFrames {
			d.mode = modeMessages
		} else {
			d.mode = modeFrames
		}
		m.rebuild()
	case key.Matches(msg, k.Direction):
		switch d.filter.From {
		case 0:
			d.filter.From = inspect.ClientToServer
		case inspect.ClientToServer:
			d.filter.From = inspect.ServerToClient
		default:
			d.filter.From = 0
		}
		m.rebuild()
	case key.Matches(msg, k.OpClass):
		switch d.filter.Ops {
		case 0:
			d.filter.Ops = opsData
		case opsData:
			d.filter.Ops = opsControl
		default:
			d.filter.Ops = 0
		}
		m.rebuild()
	case key.Matches(msg, k.ClearFilter):
		d.filter, d.regex = inspect.Filter{}, ""
		m.rebuild()
	case key.Matches(msg, k.Conns):
		m.overlay = overlayConns
		m.picker.Open()
	case key.Matches(msg, k.PrevConn):
		m.cycleConn(-1)
	case key.Matches(msg, k.NextConn):
		m.cycleConn(1)
	case key.Matches(msg, k.Correlated):
		m.jumpCorrelated()
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		m.setSize(m.width, m.height)
	case key.Matches(msg, k.NextPane):
		m.nextPane()
	case key.Matches(msg, k.Leave):
		m.setFocus(focusList)
	case key.Matches(msg, k.Compose):
		if d.live() {
			m.setFocus(focusSend)
		}
	case key.Matches(msg, k.PayloadView):
		// The detail's key, wherever the focus is.
		m.detail, cmd = m.detail.Update(msg)
		return cmd, true
	case key.Matches(msg, k.Follow):
		// The list's key, wherever the focus is.
		m.list, cmd = m.list.Update(msg)
		return cmd, true
	default:
		return nil, false
	}
	return nil, true
}

func (m *Model) showHelp() {
	m.overlay = overlayHelp
	m.help.Open()
}

// cycleConn moves to the previous or next connection; "all" sits before
// the first.
func (m *Model) cycleConn(delta int) {
	opts := append([]int{0}, m.d.conns.ids...)
	i := max(0, slices.Index(opts, m.d.conn))
	m.setConn(opts[(i+delta+len(opts))%len(opts)])
}

func (m *Model) setConn(id int) {
	if id == m.d.conn {
		return
	}
	m.d.conn = id
	m.rebuild()
}

// nextPane moves the focus list → detail → send box → list.
func (m *Model) nextPane() {
	switch m.focus {
	case focusList:
		m.setFocus(focusDetail)
	case focusDetail:
		if m.d.live() {
			m.setFocus(focusSend)
		} else {
			m.setFocus(focusList)
		}
	default:
		m.setFocus(focusList)
	}
}

func (m *Model) setFocus(f focus) {
	if f == focusDetail && m.lay.detailRows == 0 {
		f = focusList
	}
	m.focus = f
	m.detail.focused = f == focusDetail
	if !m.d.live() {
		return
	}
	if f == focusSend {
		m.compose.Focus()
	} else {
		m.compose.Blur()
	}
}

// click focuses the pane clicked, and selects the row clicked in the
// list; the list gets the position relative to its first row.
func (m *Model) click(msg tea.MouseClickMsg) {
	if m.overlay != overlayNone || msg.Button != tea.MouseLeft {
		return
	}
	lay := m.lay
	switch {
	case m.inList(msg.Y):
		m.setFocus(focusList)
		msg.Y -= lay.listTop
		m.list, _ = m.list.Update(msg)
	case m.inDetail(msg.Y):
		m.setFocus(focusDetail)
	case m.d.live() && msg.Y >= lay.sendTop && msg.Y < lay.sendTop+lay.sendRows:
		m.setFocus(focusSend)
	}
}

// wheel scrolls the detail when the mouse is over it, else the list.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	switch {
	case m.overlay != overlayNone:
	case m.inDetail(msg.Y):
		m.detail, _ = m.detail.Update(msg)
	default:
		m.list, _ = m.list.Update(msg)
	}
}

// inList and inDetail say whether line y is in that pane, its title line
// included.
func (m *Model) inList(y int) bool {
	return y >= m.lay.listTop-1 && y < m.lay.listTop+m.lay.listRows
}

func (m *Model) inDetail(y int) bool {
	return m.lay.detailRows > 0 && y >= m.lay.detailTop-1 && y < m.lay.detailTop+m.lay.detailRows
}
