package tui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wscope/wscope/inspect"
)

// Op classes the o key cycles through.
var (
	opsData    = uint16(1<<inspect.OpText | 1<<inspect.OpBinary | 1<<inspect.OpContinuation)
	opsControl = uint16(1<<inspect.OpClose | 1<<inspect.OpPing | 1<<inspect.OpPong)
)

// key routes a key: Ctrl-C always quits; an overlay or an open input
// takes the keys before the panes do.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	if key.Matches(msg, k.Interrupt) {
		m.quit = QuitInterrupt
		return tea.Quit
	}
	m.notice, m.noticeErr = "", false
	switch m.overlay {
	case overlayHelp:
		switch {
		case key.Matches(msg, k.Help, k.Leave, k.Quit):
			m.overlay = overlayNone
		case key.Matches(msg, k.Up):
			m.helpOff = max(0, m.helpOff-1)
		case key.Matches(msg, k.Down):
			m.helpOff++
		case key.Matches(msg, k.PageUp):
			m.helpOff = max(0, m.helpOff-(m.height-4))
		case key.Matches(msg, k.PageDown):
			m.helpOff += m.height - 4
		}
		lines := strings.Count(m.helpView(), "\n") + 1
		m.helpOff = min(m.helpOff, max(0, lines-(m.height-3)))
		return nil
	case overlayConns:
		m.connsKey(msg)
		return nil
	}
	if m.filterOn {
		return m.filterKey(msg)
	}
	if m.focus == focusSend {
		return m.composeKey(msg)
	}
	cmd := m.browseKey(msg)
	m.refreshDetail()
	return cmd
}

// browseKey handles a key while the list or the detail has the focus.
func (m *Model) browseKey(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	l, d := &m.list, &m.detail
	inDetail := m.focus == focusDetail
	page := max(1, l.rows-1)
	if inDetail {
		page = max(1, d.height-1)
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.quit = QuitKey
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp()
	case key.Matches(msg, k.Up):
		if inDetail {
			d.scroll(-1)
		} else {
			l.move(-1)
		}
	case key.Matches(msg, k.Down):
		if inDetail {
			d.scroll(1)
		} else {
			l.move(1)
		}
	case key.Matches(msg, k.PageUp):
		if inDetail {
			d.scroll(-page)
		} else {
			l.move(-page)
		}
	case key.Matches(msg, k.PageDown):
		if inDetail {
			d.scroll(page)
		} else {
			l.move(page)
		}
	case key.Matches(msg, k.Top):
		if inDetail {
			d.off = 0
		} else {
			l.home()
		}
	case key.Matches(msg, k.Bottom):
		if inDetail {
			d.scroll(d.total())
		} else {
			l.end()
		}
	case key.Matches(msg, k.Follow):
		if l.follow {
			l.pause()
		} else {
			l.end()
		}
	case key.Matches(msg, k.Messages):
		if m.mode == modeFrames {
			m.mode = modeMessages
		} else {
			m.mode = modeFrames
		}
		m.rebuild()
	case key.Matches(msg, k.Filter):
		m.filterOn = true
		m.filterIn.SetValue(m.regex)
		m.filterIn.CursorEnd()
		return m.filterIn.Focus()
	case key.Matches(msg, k.Direction):
		switch m.filter.From {
		case 0:
			m.filter.From = inspect.ClientToServer
		case inspect.ClientToServer:
			m.filter.From = inspect.ServerToClient
		default:
			m.filter.From = 0
		}
		m.rebuild()
	case key.Matches(msg, k.OpClass):
		switch m.filter.Ops {
		case 0:
			m.filter.Ops = opsData
		case opsData:
			m.filter.Ops = opsControl
		default:
			m.filter.Ops = 0
		}
		m.rebuild()
	case key.Matches(msg, k.ClearFilter):
		m.filter, m.regex = inspect.Filter{}, ""
		m.rebuild()
	case key.Matches(msg, k.Conns):
		m.overlay = overlayConns
		m.connSel = max(0, slices.Index(m.conns.ids, m.conn)+1)
	case key.Matches(msg, k.PrevConn):
		m.cycleConn(-1)
	case key.Matches(msg, k.NextConn):
		m.cycleConn(1)
	case key.Matches(msg, k.PayloadView):
		v := d.want
		if v == viewAuto {
			v = d.shown
		}
		m.setView(v.next())
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		m.setSize(m.width, m.height)
	case key.Matches(msg, k.NextPane):
		m.nextPane()
	case key.Matches(msg, k.Leave):
		m.setFocus(focusList)
	case key.Matches(msg, k.Compose):
		if m.live() {
			m.setFocus(focusSend)
		}
	}
	return nil
}

func (m *Model) showHelp() {
	m.overlay, m.helpOff = overlayHelp, 0
}

// filterKey handles a key while the filter input is open.
func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Send):
		if err := m.setFilterRegex(m.filterIn.Value()); err != nil {
			m.setError("filter: %v", err)
			return nil
		}
		m.filterOn = false
		m.filterIn.Blur()
		m.refreshDetail()
		return nil
	case key.Matches(msg, m.keys.Leave):
		m.filterOn = false
		m.filterIn.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.filterIn, cmd = m.filterIn.Update(msg)
	return cmd
}

// connsKey handles a key in the connection list.
func (m *Model) connsKey(msg tea.KeyMsg) {
	k := &m.keys
	n := len(m.conns.ids) + 1
	switch {
	case key.Matches(msg, k.Up):
		m.connSel = max(0, m.connSel-1)
	case key.Matches(msg, k.Down):
		m.connSel = min(n-1, m.connSel+1)
	case key.Matches(msg, k.Send):
		m.overlay = overlayNone
		m.setConn(0)
		if m.connSel > 0 {
			m.setConn(m.conns.ids[m.connSel-1])
		}
	case key.Matches(msg, k.Leave, k.Conns, k.Quit):
		m.overlay = overlayNone
	}
}

// cycleConn moves to the previous or next connection; "all" sits before
// the first.
func (m *Model) cycleConn(delta int) {
	opts := append([]int{0}, m.conns.ids...)
	i := max(0, slices.Index(opts, m.conn))
	m.setConn(opts[(i+delta+len(opts))%len(opts)])
}

func (m *Model) setConn(id int) {
	if id == m.conn {
		return
	}
	m.conn = id
	m.rebuild()
	m.refreshDetail()
}

// nextPane moves the focus list → detail → send box → list.
func (m *Model) nextPane() {
	switch m.focus {
	case focusList:
		m.setFocus(focusDetail)
	case focusDetail:
		if m.live() {
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
	if !m.live() {
		return
	}
	if f == focusSend {
		m.compose.ta.Focus()
	} else {
		m.compose.ta.Blur()
	}
}

// mouse scrolls the pane under the wheel and focuses what is clicked.
func (m *Model) mouse(msg tea.MouseMsg) {
	if m.overlay != overlayNone || msg.Action != tea.MouseActionPress {
		return
	}
	lay := m.lay
	inList := msg.Y >= lay.listTop-1 && msg.Y < lay.listTop+lay.listRows
	inDetail := lay.detailRows > 0 && msg.Y >= lay.detailTop-1 && msg.Y < lay.detailTop+lay.detailRows
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		if inDetail {
			m.detail.scroll(-3)
		} else {
			m.list.move(-3)
		}
	case tea.MouseButtonWheelDown:
		if inDetail {
			m.detail.scroll(3)
		} else {
			m.list.move(3)
		}
	case tea.MouseButtonLeft:
		switch {
		case inList:
			m.list.clickRow(msg.Y - lay.listTop)
			m.setFocus(focusList)
		case inDetail:
			m.setFocus(focusDetail)
		case m.live() && msg.Y >= lay.sendTop && msg.Y < lay.sendTop+lay.sendRows:
			m.setFocus(focusSend)
		}
	}
	m.refreshDetail()
}
