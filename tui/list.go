package tui

import (
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// frameList is the main pane: the ids of the rows shown, the selection
// and the scroll position. Only the rows in view are ever drawn.
type frameList struct {
	ids    []int // rows shown, in order
	inMode int   // rows of the mode and connection, shown or filtered out
	sel    int   // index in ids of the selected row
	top    int   // index in ids of the first row drawn
	rows   int   // rows drawn
	follow bool  // keep the newest row selected
	unseen int   // rows added below while paused
}

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
	colMask  = 8
	colLen   = 8
)

// columns says which optional columns fit the width.
type columns struct {
	conn, flags, mask bool
}

func (m *Model) columns() columns {
	c := columns{conn: m.multi, flags: true, mask: true}
	if m.width < 72 {
		c.mask = false
	}
	if m.width < 56 {
		c.flags = false
	}
	return c
}

// listHeader is the line above the rows: column titles, then as many
// notes as fit, most important first: paused, hidden by the filter,
// dropped for the scrollback, the count of rows.
func (m *Model) listHeader() string {
	c := m.columns()
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
	if m.mode == modeMessages {
		what = " messages"
	}
	// Each note in a long and a short form.
	var notes [][2]string
	if !m.list.follow {
		s := "paused"
		if m.list.unseen > 0 {
			s += " +" + commas(m.list.unseen)
		}
		notes = append(notes, [2]string{s + " (G follows)", s})
	}
	if hidden := m.list.inMode - len(m.list.ids); hidden > 0 {
		notes = append(notes, [2]string{commas(hidden) + " hidden by filter", commas(hidden) + " hidden"})
	}
	if m.dropped > 0 {
		s := commas(m.dropped) + " dropped"
		long := s + " by scrollback"
		if m.opts.Recording != "" {
			long = s + ", in recording"
		}
		notes = append(notes, [2]string{long, s})
	}
	notes = append(notes, [2]string{commas(len(m.list.ids)) + what, commas(len(m.list.ids))})
	room := m.width - ansi.StringWidth(left) - 2
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
	if m.width-ansi.StringWidth(left)-used >= len(" payload")+1 {
		left += " payload"
	}
	gap := max(0, m.width-ansi.StringWidth(left)-ansi.StringWidth(right))
	st := m.st.Header
	if !m.list.follow || m.dropped > 0 || m.list.inMode > len(m.list.ids) {
		return st.Render(fit(left+strings.Repeat(" ", gap), m.width-ansi.StringWidth(right))) + m.st.Notice.Render(right)
	}
	return st.Render(fit(left+strings.Repeat(" ", gap)+right, m.width))
}

// listView draws the visible rows, lay.listRows lines.
func (m *Model) listView() string {
	var b strings.Builder
	c := m.columns()
	n := m.lay.listRows
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		k := m.list.top + i
		if k >= len(m.list.ids) {
			if i == 0 && len(m.list.ids) == 0 {
				b.WriteString(m.st.Dim.Render(fit("   "+m.emptyText(), m.width)))
			} else {
				b.WriteString(strings.Repeat(" ", m.width))
			}
			continue
		}
		r := m.store.at(m.list.ids[k])
		b.WriteString(m.renderRow(r, k == m.list.sel, c))
	}
	return b.String()
}

func (m *Model) emptyText() string {
	switch {
	case m.list.inMode > 0:
		return "every row is hidden by the filter (x clears it)"
	case m.opts.Live && len(m.conns.ids) == 0 && m.opts.Multi:
		return "waiting for clients…"
	case m.opts.Live && len(m.conns.ids) == 0:
		return "waiting for the connection…"
	case !m.srcDone:
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

// renderRow draws one row in exactly m.width columns.
func (m *Model) renderRow(r *row, selected bool, c columns) string {
	var segs [12]segment
	s := segs[:0]
	add := func(text string, st *lipgloss.Style) { s = append(s, segment{text, st}) }

	mark := " "
	if selected {
		mark = "▸"
	}
	add(mark, nil)
	if r.kind == inspect.KindFrame {
		add(r.group.String(), &m.st.Group)
	} else {
		add(" ", nil)
	}
	if r.has(flagViolation) {
		add("!", &m.st.Violation)
	} else {
		add(" ", nil)
	}
	add(" "+timeCol(r), &m.st.Time)
	if c.conn {
		add(" "+pad("#"+strconv.Itoa(int(r.conn)), colConn), &m.st.Dim)
	}
	add(" ", nil)
	switch r.dir {
	case inspect.ClientToServer:
		add("→", &m.st.C2S)
	case inspect.ServerToClient:
		add("←", &m.st.S2C)
	default:
		add(" ", nil)
	}
	add(" ", nil)

	var preview string
	prevSt := &m.st.Text
	switch r.kind {
	case inspect.KindFrame:
		add(pad(r.op.String(), colOp), &m.st.Op[r.op&0xF])
		if c.flags {
			add(" "+frameFlags(r), &m.st.Dim)
		}
		if c.mask {
			add(" "+maskCol(r), &m.st.Dim)
		}
		add(" "+padLeft(lenCol(r), colLen), &m.st.Dim)
		preview = framePreview(r, m.previewRunes(c))
	case inspect.KindMsg:
		add(pad(r.op.String(), colOp), &m.st.Op[r.op&0xF])
		if c.flags {
			add(" "+pad("×"+strconv.Itoa(r.frameCount()), colFlags), &m.st.Dim)
		}
		if c.mask {
			z := ""
			if r.has(flagDeflated) {
				z = "deflated"
			}
			add(" "+pad(z, colMask), &m.st.Dim)
		}
		add(" "+padLeft(strconv.Itoa(len(r.payload)), colLen), &m.st.Dim)
		preview = inspect.Summary(r.payload, r.op, m.previewRunes(c))
	default:
		st := &m.st.Meta
		if r.kind == inspect.KindError {
			st = &m.st.ErrorRow
		}
		add(pad(r.kind.String(), colOp), st)
		preview, prevSt = metaPreview(r), st
	}
	if vs := r.violations(); len(vs) > 0 {
		add(" !! "+string(vs[0].Rule), &m.st.Violation)
	}
	add(" "+preview, prevSt)

	// Fit the width: the preview is the last cell, cut when too long.
	var b strings.Builder
	w := 0
	for _, sg := range s {
		room := m.width - w
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
	if w < m.width {
		b.WriteString(strings.Repeat(" ", m.width-w))
	}
	if selected {
		return m.st.Selected.Render(b.String())
	}
	return b.String()
}

// previewRunes is about the room left for the preview.
func (m *Model) previewRunes(c columns) int {
	n := m.width - 3 - colTime - 5 - colOp - colLen - 2
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

func frameFlags(r *row) string {
	b := [4]byte{'-', '-', '-', '-'}
	for i, f := range [4]rowFlags{flagFin, flagRsv1, flagRsv2, flagRsv3} {
		if r.has(f) {
			b[i] = "F123"[i]
		}
	}
	return string(b[:])
}

func maskCol(r *row) string {
	if !r.has(flagMasked) {
		return pad("-", colMask)
	}
	const hexDigits = "0123456789abcdef"
	var b [8]byte
	for i, c := range r.mask {
		b[2*i], b[2*i+1] = hexDigits[c>>4], hexDigits[c&0xF]
	}
	return string(b[:])
}

// lenCol is the declared length, starred when its encoding was not the
// minimal one, with what arrived when that differs.
func lenCol(r *row) string {
	s := strconv.FormatUint(r.length, 10)
	if r.lenEnc != 0 && r.lenEnc != inspect.MinimalLengthEncoding(r.length) {
		s += "*"
	}
	if uint64(len(r.payload)) != r.length {
		s = strconv.Itoa(len(r.payload)) + "/" + s
	}
	return s
}

func framePreview(r *row, limit int) string {
	switch {
	case r.more != nil && r.more.close != nil:
		s := r.more.close.Code.String()
		if r.more.close.Reason != "" {
			s += ": " + inspect.TextView([]byte(r.more.close.Reason))
		}
		return s
	case r.op == inspect.OpClose && len(r.payload) == 0:
		return "(no status)"
	case r.has(flagRsv1):
		return "deflated " + inspect.Summary(r.payload, inspect.OpBinary, limit-9)
	}
	return inspect.Summary(r.payload, r.op, limit)
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
