package tui

import (
	"bytes"
	"regexp"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wscope/wscope/inspect"
)

// focus is the pane that receives keys.
type focus uint8

const (
	focusList focus = iota
	focusDetail
	focusSend
)

// overlay is a screen drawn over the list and the detail.
type overlay uint8

const (
	overlayNone overlay = iota
	overlayHelp
	overlayConns
)

// listMode is what one row of the list is.
type listMode uint8

const (
	modeFrames   listMode = iota // one row per frame
	modeMessages                 // one row per reassembled message
)

// Messages of the model.
type (
	// batchMsg carries events read from the source; done means the
	// source is closed (after these events).
	batchMsg struct {
		events []*inspect.Event
		done   bool
	}
	// sentMsg is the outcome of one line of the send box.
	sentMsg struct {
		line string
		err  error
	}
	// savedMsg is the outcome of /save.
	savedMsg struct {
		path string
		n    int
		err  error
	}
)

// maxBatch bounds how many events one batchMsg gathers, so the screen is
// redrawn at least that often under load.
const maxBatch = 1 << 16

// Model is the TUI as a Bubble Tea model: a root that owns the layout and
// routes messages to the frame list, the detail pane, the send box and
// the status bar. Build it with New; Run runs it.
type Model struct {
	opts   Options
	keys   KeyMap
	st     Styles
	events <-chan []*inspect.Event

	store   store
	conns   conns
	dropped int  // rows dropped for the scrollback
	srcDone bool // the source is closed
	multi   bool // more than one connection: show ids

	list   frameList
	mode   listMode
	conn   int // connection shown, 0 for all
	filter inspect.Filter
	regex  string // the source of filter.Grep
	scrEv  inspect.Event
	scrFr  inspect.Frame
	scrMsg inspect.Message

	detail   detail
	compose  composer
	filterIn textinput.Model
	filterOn bool // the filter input is open
	help     help.Model

	focus   focus
	overlay overlay
	zoom    bool // the detail takes most of the screen
	helpOff int  // scroll position of the help screen
	connSel int  // selection in the connection list: 0 is "all"

	width, height int
	lay           layout

	notice    string
	noticeErr bool

	sendQueue []sendJob
	sending   bool

	quit Quit
}

// New returns the model for opts over events (which may be nil).
func New(opts Options, events <-chan []*inspect.Event) *Model {
	if opts.Scrollback <= 0 {
		opts.Scrollback = DefaultScrollback
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Commands == nil {
		opts.Commands = DefaultCommands
	}
	m := &Model{opts: opts, events: events, multi: opts.Multi}
	switch {
	case opts.Styles != nil:
		m.st = *opts.Styles
	case opts.NoColor:
		m.st = PlainStyles()
	default:
		m.st = DefaultStyles()
	}
	m.keys = DefaultKeyMap()
	if opts.Keys != nil {
		m.keys = *opts.Keys
	}
	m.help = help.New()
	m.help.Styles = m.st.helpStyles()
	m.filterIn = textinput.New()
	m.filterIn.Prompt = "filter /"
	m.filterIn.Placeholder = "regex on payload text, enter applies, esc cancels"
	m.filterIn.PromptStyle = m.st.Prompt
	m.filterIn.TextStyle = m.st.Text
	m.filterIn.PlaceholderStyle = m.st.Placeholder
	m.filterIn.Cursor.Style = m.st.Text
	m.list.follow = true
	m.detail.id = -1
	if m.live() {
		var err error
		m.compose, err = newComposer(&m.opts, &m.st, &m.keys)
		if err != nil {
			m.setError("history: %v", err)
		}
		m.focus = focusSend
		m.compose.ta.Focus()
	}
	m.setSize(80, 24)
	return m
}

// live reports whether there is a send box.
func (m *Model) live() bool { return m.opts.Send != nil }

// Result returns how the session ended so far.
func (m *Model) Result() Result { return Result{Quit: m.quit} }

// Init starts reading events.
func (m *Model) Init() tea.Cmd { return m.wait() }

// wait reads the next batch of events: the one place the model waits,
// and it does so in a command, outside the update loop.
func (m *Model) wait() tea.Cmd {
	ch := m.events
	if ch == nil || m.srcDone {
		return nil
	}
	return func() tea.Msg { return readBatch(ch) }
}

// readBatch waits for one batch and gathers the batches already waiting
// behind it, so a fast source makes fewer, larger batches.
func readBatch(ch <-chan []*inspect.Event) batchMsg {
	b, ok := <-ch
	if !ok {
		return batchMsg{done: true}
	}
	for len(b) < maxBatch {
		select {
		case more, ok := <-ch:
			if !ok {
				return batchMsg{events: b, done: true}
			}
			b = append(b[:len(b):len(b)], more...) // never into the sender's array
		default:
			return batchMsg{events: b}
		}
	}
	return batchMsg{events: b}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, nil
	case batchMsg:
		m.ingest(msg.events)
		m.refreshDetail()
		if msg.done {
			m.srcDone = true
			return m, nil
		}
		return m, m.wait()
	case sentMsg:
		m.sending = false
		if msg.err != nil {
			m.setError("%s: %v", firstLine(msg.line), msg.err)
		}
		return m, m.nextSend()
	case savedMsg:
		if msg.err != nil {
			m.setError("/save: %v", msg.err)
		} else {
			m.setNotice("saved %d events to %s", msg.n, msg.path)
		}
		return m, nil
	case tea.KeyMsg:
		return m, m.key(msg)
	case tea.MouseMsg:
		m.mouse(msg)
		return m, nil
	}
	// Anything else (the cursor, a paste) belongs to the input in use.
	return m, m.updateInputs(msg)
}

func (m *Model) updateInputs(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.filterOn:
		m.filterIn, cmd = m.filterIn.Update(msg)
	case m.focus == focusSend:
		m.compose.ta, cmd = m.compose.ta.Update(msg)
		m.layoutIfSendGrew()
	}
	return cmd
}

// ingest adds a batch of events and drops what exceeds the scrollback.
func (m *Model) ingest(events []*inspect.Event) {
	for _, e := range events {
		if e != nil {
			m.add(e)
		}
	}
	m.trim()
	m.list.settle()
}

// add keeps one event as a row.
func (m *Model) add(e *inspect.Event) {
	r := row{t: e.T, conn: int32(e.Conn), kind: e.Kind}
	switch e.Kind {
	case inspect.KindFrame:
		if e.Frame == nil {
			return
		}
		r.setFrame(e.Frame)
	case inspect.KindMsg:
		if e.Msg == nil {
			return
		}
		r.setMsg(e.Msg)
		m.share(&r)
	case inspect.KindOpen:
		if e.Open == nil {
			return
		}
		r.more = &rowMore{open: e.Open}
	case inspect.KindEnd:
		if e.End == nil {
			return
		}
		r.more = &rowMore{end: e.End}
	default:
		r.more = &rowMore{text: e.Text}
	}
	switch {
	case e.Conn == 0 && r.kind != inspect.KindFrame && r.kind != inspect.KindMsg &&
		r.kind != inspect.KindOpen && r.kind != inspect.KindEnd:
		// A note of no connection (a Feed's) makes no connection.
	default:
		m.conns.get(e.Conn).add(e, &r)
	}
	if !m.multi && len(m.conns.ids) > 1 {
		m.multi = true
	}
	id := m.store.push(r)
	p := m.store.at(id)
	if m.inMode(p) {
		m.list.inMode++
		if m.match(p) {
			m.list.push(id)
		}
	}
}

// share makes a message of one uncompressed frame use that frame's
// payload, so the bytes are kept once.
func (m *Model) share(r *row) {
	if !r.has(flagOneFrame) || r.has(flagDeflated) || len(r.payload) == 0 {
		return
	}
	for id := m.store.next - 1; id >= m.store.first && id >= m.store.next-16; id-- {
		f := m.store.at(id)
		if f.kind != inspect.KindFrame || f.conn != r.conn || f.dir != r.dir || f.seq != r.seq {
			continue
		}
		if bytes.Equal(f.payload, r.payload) {
			r.payload = f.payload
			r.flags |= flagShared
		}
		return
	}
}

// trim drops the oldest rows beyond the scrollback.
func (m *Model) trim() {
	for m.store.len() > 1 && (m.store.len() > m.opts.Scrollback || m.store.bytes > m.opts.MaxBytes) {
		id := m.store.first
		if r := m.store.at(id); m.inMode(r) {
			m.list.inMode--
		}
		m.list.drop(id)
		m.store.dropFirst()
		m.dropped++
	}
	if m.detail.id >= 0 && m.detail.id < m.store.first {
		m.detail.id = -1
	}
}

// inMode reports whether r is a row of the current mode and connection,
// before the filter.
func (m *Model) inMode(r *row) bool {
	if m.conn != 0 && int(r.conn) != m.conn {
		return false
	}
	switch r.kind {
	case inspect.KindMsg:
		return m.mode == modeMessages || r.has(flagMsgNoFrames)
	case inspect.KindFrame:
		// Messages mode keeps the frames that are no part of a message:
		// control frames, and frames that break the rules.
		return m.mode == modeFrames || r.op.IsControl() || r.op.IsReserved() || r.has(flagViolation)
	}
	return true
}

// match applies the filter to r.
func (m *Model) match(r *row) bool {
	if !m.filter.Active() {
		return true
	}
	e := &m.scrEv
	e.Kind, e.Conn, e.Frame, e.Msg = r.kind, int(r.conn), nil, nil
	switch r.kind {
	case inspect.KindFrame:
		f := &m.scrFr
		f.Dir, f.Op, f.Payload, f.Rsv = r.dir, r.op, r.payload, 0
		if r.has(flagRsv1) {
			f.Rsv = inspect.Rsv1
		}
		e.Frame = f
	case inspect.KindMsg:
		g := &m.scrMsg
		g.Dir, g.Op, g.Payload = r.dir, r.op, r.payload
		e.Msg = g
	}
	ok := m.filter.Match(e)
	m.scrFr.Payload, m.scrMsg.Payload = nil, nil
	return ok
}

// rebuild recomputes the list after the mode, the connection or the
// filter changed, keeping the selection on the same row if it is still
// shown, or on the nearest one after it.
func (m *Model) rebuild() {
	keep := m.list.selected()
	m.list.ids = m.list.ids[:0]
	m.list.inMode = 0
	for id := m.store.first; id < m.store.next; id++ {
		r := m.store.at(id)
		if m.inMode(r) {
			m.list.inMode++
			if m.match(r) {
				m.list.ids = append(m.list.ids, id)
			}
		}
	}
	m.list.unseen = 0
	m.list.reselect(keep)
}

// setFilterRegex sets the payload regex; "" removes it.
func (m *Model) setFilterRegex(s string) error {
	if s == "" {
		m.filter.Grep, m.regex = nil, ""
		m.rebuild()
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return err
	}
	m.filter.Grep, m.regex = re, s
	m.rebuild()
	return nil
}

// selectedRow returns the selected row, or nil.
func (m *Model) selectedRow() (int, *row) {
	id := m.list.selected()
	if id < 0 || id < m.store.first || id >= m.store.next {
		return -1, nil
	}
	return id, m.store.at(id)
}

func (m *Model) setNotice(format string, args ...any) {
	m.notice, m.noticeErr = sprintf(format, args...), false
}

func (m *Model) setError(format string, args ...any) {
	m.notice, m.noticeErr = sprintf(format, args...), true
}

// shownConn returns the connection the status bar describes: the one
// chosen, or the only one; nil for several.
func (m *Model) shownConn() *connInfo {
	if m.conn != 0 {
		return m.conns.byID[m.conn]
	}
	if len(m.conns.ids) == 1 {
		return m.conns.byID[m.conns.ids[0]]
	}
	return nil
}
