package tui

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// frameList is the main pane: the ids of the rows shown, the selection
// and the scroll position, drawn by hand a screen at a time: only the
// rows in view are ever drawn, which is what keeps 100k rows fast.
type frameList struct {
	d    *data
	st   *Styles
	keys *KeyMap

	ids    []int // rows shown, in order
	inMode int   // rows of the mode and connection, shown or filtered out
	sel    int   // index in ids of the selected row
	top    int   // index in ids of the first row drawn
	rows   int   // rows drawn
	width  int
	follow bool // keep the newest row selected
	unseen int  // rows added below while paused
}

func newFrameList(d *data, st *Styles, keys *KeyMap) frameList {
	return frameList{d: d, st: st, keys: keys, follow: true}
}

// SetSize gives the list w columns and h lines, its header included.
func (l *frameList) SetSize(w, h int) {
	l.width, l.rows = w, max(h-1, 0)
	l.settle()
}

// Update moves the selection: keys, the wheel, a click (at the line Y of
// the rows, 0 the first).
func (l frameList) Update(msg tea.Msg) (frameList, tea.Cmd) {
	k := l.keys
	page := max(1, l.rows-1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			l.move(-1)
		case key.Matches(msg, k.Down):
			l.move(1)
		case key.Matches(msg, k.PageUp):
			l.move(-page)
		case key.Matches(msg, k.PageDown):
			l.move(page)
		case key.Matches(msg, k.Top):
			l.home()
		case key.Matches(msg, k.Bottom):
			l.end()
		case key.Matches(msg, k.Follow):
			if l.follow {
				l.pause()
			} else {
				l.end()
			}
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			l.move(-3)
		case tea.MouseWheelDown:
			l.move(3)
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			l.clickRow(msg.Y)
		}
	}
	return l, nil
}

// View is the header line and the rows.
func (l frameList) View() string { return l.header() + "\n" + l.rowsView() }

// selected returns the selected row id, or -1.
func (l *frameList) selected() int {
	if len(l.ids) == 0 {
		return -1
	}
	return l.ids[l.sel]
}

func (l *frameList) push(id int) {
	l.ids = append(l.ids, id)
	if !l.follow {
		l.unseen++
	}
}

// insert shows row id, which came before the last row shown (a frame
// whose message made it match the filter).
func (l *frameList) insert(id int) {
	i, found := slices.BinarySearch(l.ids, id)
	if found {
		return
	}
	l.ids = slices.Insert(l.ids, i, id)
	if l.follow {
		return
	}
	l.unseen++
	if i <= l.sel && len(l.ids) > 1 {
		l.sel++
		l.top++
	}
}

// drop forgets the oldest row if it is shown.
func (l *frameList) drop(id int) {
	if len(l.ids) == 0 || l.ids[0] != id {
		return
	}
	l.ids = l.ids[1:]
	l.sel--
	l.top--
}

// settle puts the selection and the scroll position back in range after
// rows came, went or the height changed.
func (l *frameList) settle() {
	n := len(l.ids)
	if l.follow || l.sel >= n {
		l.sel = n - 1
	}
	if l.sel < 0 {
		l.sel = 0
	}
	if l.follow {
		l.unseen = 0
	}
	if l.top > l.sel {
		l.top = l.sel
	}
	if l.rows > 0 && l.sel >= l.top+l.rows {
		l.top = l.sel - l.rows + 1
	}
	if l.top > n-l.rows {
		l.top = n - l.rows // no empty space below while rows exist above
	}
	if l.top < 0 {
		l.top = 0
	}
}

// move moves the selection by delta rows. Moving up pauses follow mode;
// reaching the last row resumes it.
func (l *frameList) move(delta int) {
	if len(l.ids) == 0 {
		return
	}
	l.sel += delta
	if l.sel < 0 {
		l.sel = 0
	}
	if l.sel >= len(l.ids)-1 {
		l.sel = len(l.ids) - 1
		l.follow = true
	} else if delta < 0 {
		l.follow = false
	}
	l.settle()
}

func (l *frameList) home() {
	l.follow = false
	l.sel = 0
	l.settle()
}

func (l *frameList) end() {
	l.follow = true
	l.settle()
}

// pause stops following without moving.
func (l *frameList) pause() {
	if l.follow {
		l.follow = false
		l.unseen = 0
	}
}

// reselect selects the row id, or the first shown after it, after the ids
// were rebuilt.
func (l *frameList) reselect(id int) {
	if !l.follow && id >= 0 {
		l.sel = sort.SearchInts(l.ids, id)
		l.top = l.sel - l.rows/2
	}
	l.settle()
}

// rowNumber returns where row id is in the list, 1 the first; 0 when it
// is not shown.
func (l *frameList) rowNumber(id int) int {
	i, found := slices.BinarySearch(l.ids, id)
	if id < 0 || !found {
		return 0
	}
	return i + 1
}

// selectID selects row id if it is shown, pausing follow mode so the
// selection stays, and scrolls it to the middle when it was off screen.
func (l *frameList) selectID(id int) bool {
	i, found := slices.BinarySearch(l.ids, id)
	if !found {
		return false
	}
	l.pause()
	l.sel = i
	if i < l.top || i >= l.top+l.rows {
		l.top = i - l.rows/2
	}
	l.settle()
	return true
}

// clickRow selects the row drawn at line y of the list (0 is the first).
func (l *frameList) clickRow(y int) {
	i := l.top + y
	if y < 0 || i >= len(l.ids) {
		return
	}
	l.move(i - l.sel)
	if i < len(l.ids)-1 {
		l.pause()
	}
}

// Column widths of a row.
const (
	colTime  = 8
	colConn  = 4
	colOp    = 6
	colFlags = 4
	colMask  = 10 // "M 9f1c2a7e"
	colLen   = 8
)

// columns says which optional columns fit the width.
type columns struct {
	conn, flags, mask bool
}

func (l *frameList) columns() columns {
	c := columns{conn: l.d.multi, flags: true, mask: true}
	if l.width < 72 {
		c.mask = false
	}
	if l.width < 56 {
		c.flags = false
	}
	return c
}

// header is the line above the rows: column titles, then as many notes
// as fit, most important first: paused, hidden by the filter, dropped for
// the scrollback, the count of rows.
func (l *frameList) header() string {
	c := l.columns()
	var b strings.Builder
	b.WriteString("   ")
	b.WriteString(padLeft("time", colTime))
	b.WriteString(" ")
	if c.conn {
		b.WriteString(pad("conn", colConn))
		b.WriteString(" ")
	}
	b.WriteString("  ")
	b.WriteString(pad("op", colOp))
	b.WriteString(" ")
	if c.flags {
		b.WriteString(pad("F123", colFlags))
		b.WriteString(" ")
	}
	if c.mask {
		b.WriteString(pad("mask", colMask))
		b.WriteString(" ")
	}
	b.WriteString(padLeft("len", colLen))
	left := b.String()

	what := " frames"
	if l.d.mode == modeMessages {
		what = " messages"
	}
	// Each note in a long and a short form.
	var notes [][2]string
	if !l.follow {
		s := "paused"
		if l.unseen > 0 {
			s += " +" + commas(l.unseen)
		}
		notes = append(notes, [2]string{s + " (G follows)", s})
	}
	if hidden := l.inMode - len(l.ids); hidden > 0 {
		notes = append(notes, [2]string{commas(hidden) + " hidden by filter", commas(hidden) + " hidden"})
	}
	if l.d.dropped > 0 {
		s := commas(l.d.dropped) + " dropped"
		long := s + " by scrollback"
		if l.d.opts.Recording != "" {
			long = s + ", in recording"
		}
		notes = append(notes, [2]string{long, s})
	}
	notes = append(notes, [2]string{commas(len(l.ids)) + what, commas(len(l.ids))})
	room := l.width - ansi.StringWidth(left) - 2
	var parts []string
	used := 0
	for _, n := range notes {
		for _, s := range n {
			w := ansi.StringWidth(s)
			if len(parts) > 0 {
				w += 3
			}
			if used+w <= room {
				parts = append(parts, s)
				used += w
				break
			}
		}
	}
	right := strings.Join(parts, " · ")
	if l.width-ansi.StringWidth(left)-used >= len(" payload")+1 {
		left += " payload"
	}
	gap := max(0, l.width-ansi.StringWidth(left)-ansi.StringWidth(right))
	st := l.st.Header
	if !l.follow || l.d.dropped > 0 || l.inMode > len(l.ids) {
		return st.Render(fit(left+strings.Repeat(" ", gap), l.width-ansi.StringWidth(right))) + l.st.Notice.Render(right)
	}
	return st.Render(fit(left+strings.Repeat(" ", gap)+right, l.width))
}

// rowsView draws the visible rows, l.rows lines.
func (l *frameList) rowsView() string {
	var b strings.Builder
	c := l.columns()
	for i := 0; i < l.rows; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		k := l.top + i
		if k >= len(l.ids) {
			if i == 0 && len(l.ids) == 0 {
				b.WriteString(l.st.Dim.Render(fit("   "+l.emptyText(), l.width)))
			} else {
				b.WriteString(strings.Repeat(" ", l.width))
			}
			continue
		}
		r := l.d.store.at(l.ids[k])
		b.WriteString(l.renderRow(r, k == l.sel, c))
	}
	return b.String()
}

func (l *frameList) emptyText() string {
	d := l.d
	switch {
	case l.inMode > 0:
		return "every row is hidden by the filter (x clears it)"
	case d.opts.Live && len(d.conns.ids) == 0 && d.opts.Multi:
		return "waiting for clients…"
	case d.opts.Live && len(d.conns.ids) == 0:
		return "waiting for the connection…"
	case !d.srcDone:
		return "no frames yet"
	}
	return "no frames"
}

// segment is one cell of a row, drawn in a style unless the row is
// selected.
type segment struct {
	text string
	st   *lipgloss.Style
}

// renderRow draws one row in exactly l.width columns. The facts of a
// frame are in the notation of inspect's line renderer.
func (l *frameList) renderRow(r *row, selected bool, c columns) string {
	st := l.st
	var segs [12]segment
	s := segs[:0]
	add := func(text string, st *lipgloss.Style) { s = append(s, segment{text, st}) }
	var buf [32]byte

	mark := " "
	if selected {
		mark = "▸"
	}
	add(mark, nil)
	if r.kind == inspect.KindFrame {
		add(groupGlyph(r.group), &st.Group)
	} else {
		add(" ", nil)
	}
	if r.has(flagViolation) {
		add("!", &st.Violation)
	} else {
		add(" ", nil)
	}
	add(" "+timeCol(r), &st.Time)
	if c.conn {
		add(" "+pad("#"+strconv.Itoa(int(r.conn)), colConn), &st.Dim)
	}
	add(" ", nil)
	switch r.dir {
	case inspect.ClientToServer:
		add("→", &st.C2S)
	case inspect.ServerToClient:
		add("←", &st.S2C)
	default:
		add(" ", nil)
	}
	add(" ", nil)

	var preview string
	prevSt := &st.Text
	switch r.kind {
	case inspect.KindFrame:
		h := r.header()
		add(pad(r.op.String(), colOp), &st.Op[r.op&0xF])
		if c.flags {
			add(string(inspect.AppendFlags(append(buf[:0], ' '), h)), &st.Dim)
		}
		if c.mask {
			add(string(inspect.AppendMask(append(buf[:0], ' '), h)), &st.Dim)
		}
		add(" "+padLeft(string(inspect.AppendLength(buf[:0], h, len(r.payload))), colLen), &st.Dim)
		f := inspect.Frame{Header: h, Payload: r.payload}
		if r.more != nil {
			f.Close = r.more.close
		}
		preview = inspect.FramePreview(&f, r.content(), l.previewRunes(c))
	case inspect.KindMsg:
		add(pad(r.op.String(), colOp), &st.Op[r.op&0xF])
		if c.flags {
			add(" "+pad("×"+strconv.Itoa(r.frameCount()), colFlags), &st.Dim)
		}
		if c.mask {
			z := ""
			if r.has(flagDeflated) && len(r.payload) > 0 {
				z = string(inspect.AppendRatio(append(buf[:0], "ratio="...), int(r.length), len(r.payload)))
			}
			add(" "+pad(z, colMask), &st.Dim)
		}
		add(" "+padLeft(strconv.Itoa(len(r.payload)), colLen), &st.Dim)
		preview = inspect.Summary(r.payload, r.op, l.previewRunes(c))
		if s := r.decodedSummary(); s != "" {
			preview = s // the protocol's label first, then what it says
		}
	default:
		rs := &st.Meta
		if r.kind == inspect.KindError {
			rs = &st.ErrorRow
		}
		add(pad(r.kind.String(), colOp), rs)
		preview, prevSt = metaPreview(r), rs
	}
	if vs := r.violations(); len(vs) > 0 {
		add(" "+string(inspect.AppendViolations(nil, vs)), &st.Violation)
	}
	add(" "+preview, prevSt)

	// Fit the width: the preview is the last cell, cut when too long.
	var b strings.Builder
	w := 0
	for _, sg := range s {
		room := l.width - w
		if room <= 0 {
			break
		}
		t := sg.text
		if tw := ansi.StringWidth(t); tw > room {
			t = ansi.Truncate(t, room, "…")
			w += room
		} else {
			w += tw
		}
		if selected || sg.st == nil {
			b.WriteString(t)
		} else {
			b.WriteString(sg.st.Render(t))
		}
	}
	if w < l.width {
		b.WriteString(strings.Repeat(" ", l.width-w))
	}
	if selected {
		return st.Selected.Render(b.String())
	}
	return b.String()
}

// previewRunes is about the room left for the preview.
func (l *frameList) previewRunes(c columns) int {
	n := l.width - 3 - colTime - 5 - colOp - colLen - 2
	if c.conn {
		n -= colConn + 1
	}
	if c.flags {
		n -= colFlags + 1
	}
	if c.mask {
		n -= colMask + 1
	}
	return max(n, 8)
}

func timeCol(r *row) string {
	var buf [24]byte
	b := strconv.AppendFloat(buf[:0], r.t.Seconds(), 'f', 3, 64)
	return padLeft(string(b), colTime)
}

// groupGlyph joins the frames of a fragmented message in the list.
func groupGlyph(p inspect.Part) string {
	return [...]string{" ", "┌", "│", "└", "┆"}[p]
}

func metaPreview(r *row) string {
	switch r.kind {
	case inspect.KindOpen:
		o := r.more.open
		s := o.URL
		if o.Remote != "" && o.Role != inspect.RoleClient {
			s = o.Remote + " " + o.Request.Target
		}
		if o.Subprotocol != "" {
			s += " sub=" + o.Subprotocol
		}
		for _, x := range o.Extensions {
			s += " ext=" + x.Name
		}
		return inspect.TextView([]byte(s))
	case inspect.KindEnd:
		return inspect.TextView([]byte(inspect.DescribeEnd(r.more.end)))
	}
	if r.more == nil {
		return ""
	}
	return strings.ReplaceAll(inspect.TextView([]byte(r.more.text)), "\n", "⏎")
}
