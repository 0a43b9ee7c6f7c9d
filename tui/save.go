package tui

import (
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// saveCmd writes what is on screen to path, outside the update loop:
// the rows kept for the connection in view that pass the filter, frames
// and messages both, with the open and end events of the connection.
func (m *Model) saveCmd(path string) tea.Cmd {
	save := m.opts.Save
	if save == nil {
		return func() tea.Msg { return savedMsg{path: path, err: errNoSave} }
	}
	events := m.shownEvents()
	return func() tea.Msg {
		return savedMsg{path: path, n: len(events), err: save(path, events)}
	}
}

// errNoSave is /save's answer when the command layer passed no writer.
var errNoSave = errors.New("/save is not available here")

// shownEvents rebuilds the events behind the rows on screen.
func (m *Model) shownEvents() []*inspect.Event {
	var out []*inspect.Event
	d := m.d
	for id := d.store.first; id < d.store.next; id++ {
		r := d.store.at(id)
		if d.conn != 0 && int(r.conn) != d.conn {
			continue
		}
		switch r.kind {
		case inspect.KindFrame, inspect.KindMsg:
			if !m.match(id, r) {
				continue
			}
		}
		out = append(out, r.event())
	}
	return out
}
