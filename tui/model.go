package tui

import (
	"bytes"
	"regexp"
	"time"

	tea "charm.land/bubbletea/v2"

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

// maxBatch bounds how many events one batchMsg carries, so the screen is
// redrawn at least that often under load.
const maxBatch = 1 << 16

// ingestBudget is how long one batch may be taken in before the rest waits
// for the next turn, behind the keys pressed meanwhile.
const ingestBudget = 20 * time.Millisecond

// data is what the panes show: the rows kept, the connections, and what
// of them is in view. The root writes it; the panes read it.
type data struct {
	opts    *Options
	store   store
	conns   conns
	dropped int  // rows dropped for the scrollback
	srcDone bool // the source is closed
	multi   bool // more than one connection: show ids

	mode   listMode
	conn   int // connection shown, 0 for all
	filter inspect.Filter
	regex  string // the source of filter.Grep

	corr corrIndex // the paired message rows kept, by correlation key
}

// live reports whether there is a send box.
func (d *data) live() bool { return d.opts.Send != nil }

// shownConn returns the connection the status bar describes: the one
// chosen, or the only one, or with Reconnect the latest; nil for several.
func (d *data) shownConn() *connInfo {
	switch n := len(d.conns.ids); {
	case d.conn != 0:
		return d.conns.byID[d.conn]
	case n == 1, n > 1 && d.opts.Reconnect:
		return d.conns.byID[d.conns.ids[n-1]]
	}
	return nil
}

// row returns the row id if it is kept, else nil.
func (d *data) row(id int) *row {
	if id < 0 || id < d.store.first || id >= d.store.next {
		return nil
	}
	return d.store.at(id)
}

// messageOf returns the msg row that frame row r (id) is part of, if it
// is kept.
func (d *data) messageOf(id int, r *row) *row { return d.row(d.messageIDOf(id, r)) }

// messageIDOf returns the id of the msg row that frame row r (id) is part
// of, or -1 if it is not kept: it comes after its last frame.
func (d *data) messageIDOf(id int, r *row) int {
	if r.op.IsControl() {
		return -1
	}
	for j := id + 1; j < d.store.next && j <= id+4096; j++ {
		c := d.store.at(j)
		if c.kind != inspect.KindMsg || c.conn != r.conn || c.dir != r.dir {
			continue
		}
		for _, seq := range c.frames() {
			if seq == r.seq {
				return j
			}
		}
		if c.has(flagOneFrame) && c.seq > r.seq {
			return -1
		}
	}
	return -1
}

// outbox holds what a pane asks of the root during one Update: a focus
// move, a notice, a command the TUI runs. The root handles each in that
// same update, before the next key, which a tea.Cmd would not promise.
type outbox struct{ msgs []tea.Msg }

func (o *outbox) post(msg tea.Msg) { o.msgs = append(o.msgs, msg) }

func (o *outbox) take() []tea.Msg {
	msgs := o.msgs
	o.msgs = nil
	return msgs
}

// What the panes ask of the root.
type (
	nextPaneMsg     struct{}               // move the focus on
	closeOverlayMsg struct{}               // put the overlay away
	chooseConnMsg   struct{ id int }       // show connection id, 0 for all
	applyFilterMsg  struct{ regex string } // the filter prompt's enter
	localCmdMsg     struct{ name, arg string }
	noticeMsg       struct {
		text string
		err  bool
	}
)

// Model is the TUI as a Bubble Tea model: a root that owns the layout,
// the rows and the filter, and routes messages to its panes: the frame
// list, the detail pane, the send box, the filter prompt, the help screen
// and the connection list, with the status bar above and the footer
// below. Build it with New; Run runs it.
type Model struct {
	opts   Options
	keys   KeyMap
	st     Styles
	events <-chan []*inspect.Event
	src    batches

	d *data

	status  statusBar
	list    frameList
	detail  detail
	compose composer
	prompt  filterPrompt
	help    helpScreen
	picker  connList
	footer  footer

	scrEv  inspect.Event
	scrFr  inspect.Frame
	scrMsg inspect.Message

	hintSets hintSets

	// askBackground says the colours follow the terminal's background,
	// which Init asks for without waiting for the answer.
	askBackground bool

	focus   focus
	overlay overlay
	zoom    bool // the detail takes most of the screen

	width, height int
	lay           layout

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
	m := &Model{opts: opts, events: events, src: batches{ch: events}}
	switch {
	case opts.Styles != nil:
		m.st = *opts.Styles
	case opts.NoColor:
		m.st = PlainStyles()
	default:
		m.st = DefaultStyles(true)
		m.askBackground = true
	}
	m.keys = DefaultKeyMap()
	if opts.Keys != nil {
		m.keys = *opts.Keys
	}
	m.hintSets = newHintSets(&m.keys)
	m.d = &data{opts: &m.opts, multi: opts.Multi, corr: corrIndex{}}
	m.status = newStatusBar(m.d, &m.st)
	m.list = newFrameList(m.d, &m.st, &m.keys)
	m.detail = newDetail(m.d, &m.st, &m.keys)
	m.detail.rowNumber = func(id int) int { return m.list.rowNumber(id) }
	m.prompt = newFilterPrompt(&m.st, &m.keys)
	m.picker = newConnList(m.d, &m.st, &m.keys)
	m.footer = newFooter(&m.st)
	var commands []Command
	if m.d.live() {
		var err error
		m.compose, err = newComposer(&m.opts, m.d, &m.st, &m.keys)
		if err != nil {
			m.setError("history: %v", err)
		}
		commands = m.compose.commands
		m.focus = focusSend
		m.compose.Focus()
	}
	m.help = newHelpScreen(&m.st, &m.keys, commands, m.d.live())
	m.setSize(80, 24)
	return m
}

// Result returns how the session ended so far.
func (m *Model) Result() Result { return Result{Quit: m.quit} }

// Init starts reading events and asks the terminal for its background.
// Nothing waits for the answer: the first screen is drawn at once in the
// dark sheet, and a terminal that never answers keeps it.
func (m *Model) Init() tea.Cmd {
	if m.askBackground {
		return tea.Batch(m.wait(), tea.RequestBackgroundColor)
	}
	return m.wait()
}

// restyle takes the style sheet for the background the terminal has.
func (m *Model) restyle(dark bool) {
	m.st = DefaultStyles(dark)
	m.footer.restyle(&m.st)
	m.help.restyle(&m.st)
	m.prompt.restyle(&m.st)
	if m.d.live() {
		m.compose.restyle(&m.st)
	}
}

// wait reads the next batch of events: the one place the model waits,
// and it does so in a command, outside the update loop.
func (m *Model) wait() tea.Cmd {
	if m.events == nil || m.d.srcDone {
		return nil
	}
	src := &m.src
	return func() tea.Msg { return src.read() }
}

// batches reads the event source in batches of at most maxBatch events.
// The one wait command in flight touches it, or Update when none is.
type batches struct {
	ch     <-chan []*inspect.Event
	rest   []*inspect.Event // read, not yet handed out
	closed bool             // ch is closed: rest is all there is
}

// read waits for events unless some are left from the last read, and
// gathers those already waiting behind them, so a fast source makes fewer,
// larger batches; what is over maxBatch waits for the next read.
func (s *batches) read() batchMsg {
	b := s.rest
	s.rest = nil
	if s.closed {
		return batchMsg{events: b, done: true}
	}
	if len(b) == 0 {
		var ok bool
		if b, ok = <-s.ch; !ok {
			return batchMsg{done: true}
		}
	}
	for len(b) < maxBatch {
		select {
		case more, ok := <-s.ch:
			if !ok {
				return batchMsg{events: b, done: true}
			}
			b = append(b[:len(b):len(b)], more...) // never into the sender's array
		default:
			return batchMsg{events: b}
		}
	}
	b, s.rest = b[:maxBatch:maxBatch], b[maxBatch:]
	return batchMsg{events: b}
}

// putBack returns events not taken in, to be read first; done says the
// source ended after them.
func (s *batches) putBack(events []*inspect.Event, done bool) {
	s.rest = events
	s.closed = done
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
	case batchMsg:
		// What is not taken in within the budget goes back to the
		// source, ahead of what comes next: keys pressed meanwhile are
		// handled first.
		n := m.ingest(msg.events, time.Now().Add(ingestBudget))
		if n < len(msg.events) {
			m.src.putBack(msg.events[n:], msg.done)
			msg.done = false
		}
		if msg.done {
			m.d.srcDone = true
		} else {
			cmd = m.wait()
		}
	case sentMsg:
		m.compose, cmd = m.compose.Update(msg)
		cmd = tea.Batch(cmd, m.handle(m.compose.out.take()))
	case savedMsg:
		if msg.err != nil {
			m.setError("/save: %v", msg.err)
		} else {
			m.setNotice("saved %d events to %s", msg.n, msg.path)
		}
	case tea.BackgroundColorMsg:
		if m.askBackground {
			m.restyle(msg.IsDark())
		}
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	case tea.MouseClickMsg:
		m.click(msg)
	case tea.MouseWheelMsg:
		m.wheel(msg)
	case tea.KeyReleaseMsg, tea.MouseMsg:
		// Releases and motion mean nothing here.
	default:
		// Anything else (the cursor, a paste) belongs to the input in use.
		cmd = m.updateInput(msg)
	}
	m.detail.Show(m.list.selected())
	m.footer.hints = m.hints()
	return m, cmd
}

// updateInput passes msg to the text input in use.
func (m *Model) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.prompt.open:
		m.prompt, cmd = m.prompt.Update(msg)
		return tea.Batch(cmd, m.handle(m.prompt.out.take()))
	case m.focus == focusSend:
		m.compose, cmd = m.compose.Update(msg)
		cmd = tea.Batch(cmd, m.handle(m.compose.out.take()))
		m.layoutIfSendGrew()
	}
	return cmd
}

// handle does what the panes asked for.
func (m *Model) handle(msgs []tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, msg := range msgs {
		switch msg := msg.(type) {
		case nextPaneMsg:
			m.nextPane()
		case noticeMsg:
			m.footer, _ = m.footer.Update(msg)
		case closeOverlayMsg:
			m.overlay = overlayNone
		case chooseConnMsg:
			m.overlay = overlayNone
			m.setConn(msg.id)
		case applyFilterMsg:
			if err := m.setFilterRegex(msg.regex); err != nil {
				m.setError("filter: %v", err)
				break
			}
			m.prompt.Close()
		case localCmdMsg:
			cmds = append(cmds, m.local(msg))
		}
	}
	return tea.Batch(cmds...)
}

// local runs a command of the send box that the TUI runs itself.
func (m *Model) local(c localCmdMsg) tea.Cmd {
	switch c.name {
	case "help":
		m.showHelp()
	case "quit":
		m.quit = QuitKey
		return tea.Quit
	case "save":
		if c.arg == "" {
			m.setError("usage: /save FILE")
			return nil
		}
		return m.saveCmd(c.arg)
	}
	return nil
}

// ingest adds a batch of events and drops what exceeds the scrollback.
// ingest keeps events as rows until the deadline passes (checked every
// few hundred events), and returns how many it took.
func (m *Model) ingest(events []*inspect.Event, deadline time.Time) int {
	n := 0
	for n < len(events) {
		if n%256 == 255 && time.Now().After(deadline) {
			break
		}
		if e := events[n]; e != nil {
			m.add(e)
		}
		n++
	}
	m.trim()
	m.list.settle()
	return n
}

// add keeps one event as a row.
func (m *Model) add(e *inspect.Event) {
	d := m.d
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
		d.conns.get(e.Conn).add(e, &r)
	}
	if !d.multi && len(d.conns.ids) > 1 {
		d.multi = true
	}
	id := d.store.push(r)
	p := d.store.at(id)
	if p.kind == inspect.KindMsg && len(p.decoded()) > 0 {
		d.corr.add(id, p)
	}
	if m.inMode(p) {
		m.list.inMode++
		if m.match(id, p) {
			m.list.push(id)
		}
	}
	if p.kind == inspect.KindMsg && p.has(flagDeflated) && d.filter.Grep != nil {
		m.revealFrames(id, p)
	}
}

// revealFrames shows the compressed frames of message row msg (id) that
// the filter's regex matches now that their inflated text is known.
func (m *Model) revealFrames(id int, msg *row) {
	frames := msg.frames()
	for j := id - 1; j >= m.d.store.first && j >= id-4096 && len(frames) > 0; j-- {
		r := m.d.store.at(j)
		if r.kind != inspect.KindFrame || r.conn != msg.conn || r.dir != msg.dir || r.seq != frames[len(frames)-1] {
			continue
		}
		frames = frames[:len(frames)-1]
		if r.has(flagCompressed) && m.inMode(r) && m.match(j, r) {
			m.list.insert(j)
		}
	}
}

// share makes a message of one uncompressed frame use that frame's
// payload, so the bytes are kept once.
func (m *Model) share(r *row) {
	if !r.has(flagOneFrame) || r.has(flagDeflated) || len(r.payload) == 0 {
		return
	}
	s := &m.d.store
	for id := s.next - 1; id >= s.first && id >= s.next-16; id-- {
		f := s.at(id)
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
	d := m.d
	for d.store.len() > 1 && (d.store.len() > m.opts.Scrollback || d.store.bytes > m.opts.MaxBytes) {
		id := d.store.first
		if r := d.store.at(id); m.inMode(r) {
			m.list.inMode--
		}
		m.list.drop(id)
		if r := d.store.at(id); r.kind == inspect.KindMsg && len(r.decoded()) > 0 {
			d.corr.drop(id, r)
		}
		d.store.dropFirst()
		d.dropped++
	}
}

// inMode reports whether r is a row of the current mode and connection,
// before the filter.
func (m *Model) inMode(r *row) bool {
	d := m.d
	if d.conn != 0 && int(r.conn) != d.conn {
		return false
	}
	switch r.kind {
	case inspect.KindMsg:
		return d.mode == modeMessages || r.has(flagMsgNoFrames)
	case inspect.KindFrame:
		// Messages mode keeps the frames that are no part of a message:
		// control frames, and frames that break the rules.
		return d.mode == modeFrames || r.op.IsControl() || r.op.IsReserved() || r.has(flagViolation)
	}
	return true
}

// match applies the filter to row r (id). The regex reads a compressed
// frame's message, inflated, as the message view does: the bytes on the
// wire say nothing.
func (m *Model) match(id int, r *row) bool {
	f := &m.d.filter
	if !f.Active() {
		return true
	}
	e := &m.scrEv
	e.Kind, e.Conn, e.Frame, e.Msg = r.kind, int(r.conn), nil, nil
	switch r.kind {
	case inspect.KindFrame:
		fr := &m.scrFr
		fr.Dir, fr.Op, fr.Payload = r.dir, r.op, r.payload
		e.Frame = fr
	case inspect.KindMsg:
		g := &m.scrMsg
		g.Dir, g.Op, g.Payload, g.Decoded = r.dir, r.op, r.payload, r.decoded() // the filter matches decoded fields too
		e.Msg = g
	}
	var ok bool
	if r.kind == inspect.KindFrame && r.has(flagCompressed) && f.Grep != nil {
		noGrep := *f
		noGrep.Grep = nil
		msg := m.d.messageOf(id, r)
		ok = noGrep.Match(e) && msg != nil && f.Grep.Match(msg.payload)
	} else {
		ok = f.Match(e)
	}
	m.scrFr.Payload, m.scrMsg.Payload, m.scrMsg.Decoded = nil, nil, nil
	return ok
}

// rebuild recomputes the list after the mode, the connection or the
// filter changed, keeping the selection on the same row if it is still
// shown, or on the nearest one after it.
func (m *Model) rebuild() {
	keep := m.list.selected()
	l := &m.list
	l.ids = l.ids[:0]
	l.inMode = 0
	s := &m.d.store
	for id := s.first; id < s.next; id++ {
		r := s.at(id)
		if m.inMode(r) {
			l.inMode++
			if m.match(id, r) {
				l.ids = append(l.ids, id)
			}
		}
	}
	l.unseen = 0
	l.reselect(keep)
}

// setFilterRegex sets the payload regex; "" removes it.
func (m *Model) setFilterRegex(s string) error {
	d := m.d
	if s == "" {
		d.filter.Grep, d.regex = nil, ""
		m.rebuild()
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return err
	}
	d.filter.Grep, d.regex = re, s
	m.rebuild()
	return nil
}

func (m *Model) setNotice(format string, args ...any) {
	m.footer, _ = m.footer.Update(noticeMsg{text: sprintf(format, args...)})
}

func (m *Model) setError(format string, args ...any) {
	m.footer, _ = m.footer.Update(noticeMsg{text: sprintf(format, args...), err: true})
}
