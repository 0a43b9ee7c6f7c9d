package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// connList is the overlay that picks the connection shown: "all", then
// each connection.
type connList struct {
	d      *data
	st     *Styles
	keys   *KeyMap
	sel    int // 0 is "all"
	width  int
	height int
	out    outbox
}

func newConnList(d *data, st *Styles, keys *KeyMap) connList {
	return connList{d: d, st: st, keys: keys}
}

func (c *connList) SetSize(w, h int) { c.width, c.height = w, h }

// Open selects the connection shown.
func (c *connList) Open() { c.sel = max(0, slices.Index(c.d.conns.ids, c.d.conn)+1) }

// Update moves the selection; enter shows the one selected; esc, c and q
// go back.
func (c connList) Update(msg tea.Msg) (connList, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return c, nil
	}
	n := len(c.d.conns.ids) + 1
	switch km := c.keys; {
	case key.Matches(k, km.Up):
		c.sel = max(0, c.sel-1)
	case key.Matches(k, km.Down):
		c.sel = min(n-1, c.sel+1)
	case key.Matches(k, km.Choose):
		id := 0
		if c.sel > 0 {
			id = c.d.conns.ids[c.sel-1]
		}
		c.out.post(chooseConnMsg{id: id})
	case key.Matches(k, km.Leave, km.Conns, km.Quit):
		c.out.post(closeOverlayMsg{})
	}
	return c, nil
}

func (c connList) View() string {
	var b strings.Builder
	b.WriteString(c.st.Header.Render("connections (enter shows one, esc goes back)"))
	item := func(i int, s string) {
		b.WriteByte('\n')
		if i == c.sel {
			b.WriteString(c.st.Selected.Render(fit("▸ "+s, c.width)))
			return
		}
		b.WriteString("  " + s)
	}
	d := c.d
	item(0, fmt.Sprintf("all, interleaved (%s)", d.conns.counts()))
	for i, id := range d.conns.ids {
		ci := d.conns.byID[id]
		where := ""
		if ci.open != nil {
			where = ci.open.Remote + " " + ci.open.Request.Target
			if ci.open.Role == inspect.RoleClient {
				where = ci.open.URL
			}
		}
		state := [...]string{"connecting", "open", "closing", "closed"}[ci.state]
		if ci.failed() {
			state, where = "failed", ci.err
		}
		if ci.state == stateClosed && ci.end != nil {
			state += " " + fmt.Sprint(uint16(ci.end.Code))
		}
		item(i+1, fmt.Sprintf("#%-4d %-11s c2s %-7s s2c %-7s %s", id, state,
			commas(int(ci.frames[inspect.ClientToServer])), commas(int(ci.frames[inspect.ServerToClient])),
			inspect.TextView([]byte(where))))
	}
	return block(b.String(), c.height, c.width)
}
