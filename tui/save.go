package tui

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// saveCmd writes what is on screen to path, outside the update loop:
// the rows kept for the connection in view that pass the filter, frames
// and messages both, with the open and end events of the connection.
func (m *Model) saveCmd(path string) tea.Cmd {
	events := m.shownEvents()
	save := m.opts.Save
	if save == nil {
		save = saveRecording
	}
	return func() tea.Msg {
		return savedMsg{path: path, n: len(events), err: save(path, events)}
	}
}

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

// saveRecording writes events as a recording (docs/recording-format.md)
// with credentials redacted. It will not overwrite a file: the one a
// --record is writing could be that file.
func saveRecording(path string, events []*inspect.Event) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return errors.New(path + " exists; /save does not overwrite")
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	h := inspect.RecordingHeader{Created: time.Now(), Tool: "wscope", Source: "live", Redacted: inspect.CredentialHeaders}
	buf := append(h.AppendJSON(nil), '\n')
	for _, e := range events {
		if e.Kind == inspect.KindOpen && e.Open != nil {
			o := *e.Open
			o.Request.Headers, _ = inspect.RedactHeaders(o.Request.Headers)
			o.Response.Headers, _ = inspect.RedactHeaders(o.Response.Headers)
			c := *e
			c.Open = &o
			e = &c
		}
		buf = append(e.AppendJSON(buf), '\n')
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				f.Close()
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
