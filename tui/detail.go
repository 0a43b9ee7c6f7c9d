package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// detail is the pane under the list: the selected row explained. Its
// content is made when the selection, the view or the width changes,
// never per frame drawn.
type detail struct {
	id     int         // row shown; -1 none
	want   payloadView // what the user asked for
	width  int
	title  string
	head   []string    // fields
	body   lines       // the payload
	shown  payloadView // the view the payload is in
	note   string      // the payload is shown in part
	off    int         // first line drawn
	height int
	split  bool // head and payload side by side
}

// describeInline is the payload size up to which inspect.Describe sees the
// whole frame; beyond it Describe gets the header alone, so that a large
// payload is never laid out whole.
var describeInline = 16 << 10

// describeFrame returns inspect.Describe of f without the payload part,
// which the detail pane draws itself in the view the user picked.
func describeFrame(f *inspect.Frame) []string {
	g := f
	if len(f.Payload) > describeInline {
		c := *f
		c.Payload = nil
		g = &c
	}
	ls := strings.Split(strings.TrimSuffix(inspect.Describe(g), "\n"), "\n")
	marker := "payload  " + strconv.Itoa(len(g.Payload)) + " bytes"
	for i, l := range ls {
		if i > 0 && strings.HasPrefix(l, marker) {
			ls = ls[:i]
			break
		}
	}
	if g == f {
		return ls
	}
	// Describe saw no payload: put back what depends on its size.
	ls[0] = fmt.Sprintf("frame %d, %s, %d bytes on the wire", f.Seq, f.Dir, f.WireLen())
	arrived := fmt.Sprintf("payload  0 of %d bytes arrived", f.Length)
	if i := slices.Index(ls, arrived); i >= 0 {
		if uint64(len(f.Payload)) == f.Length {
			ls = slices.Delete(ls, i, i+1)
		} else {
			ls[i] = fmt.Sprintf("payload  %d of %d bytes arrived", len(f.Payload), f.Length)
		}
	}
	return ls
}

// refreshDetail remakes the detail when what it shows changed.
func (m *Model) refreshDetail() {
	d := &m.detail
	id, r := m.selectedRow()
	width := m.detailWidth()
	if id == d.id && width == d.width && d.body != nil {
		return
	}
	if id != d.id {
		d.off = 0
	}
	d.id, d.width = id, width
	d.title, d.head, d.body, d.note = "", nil, textLines(nil), ""
	if r == nil {
		return
	}
	m.buildDetail(id, r)
	d.off = min(d.off, max(0, d.total()-d.height))
}

// setView switches the payload view and remakes the detail.
func (m *Model) setView(v payloadView) {
	m.detail.want = v
	m.detail.body = nil
	m.refreshDetail()
}

func (m *Model) buildDetail(id int, r *row) {
	d := &m.detail
	var p []byte
	op := r.op
	label := "payload"
	switch r.kind {
	case inspect.KindFrame:
		f := r.frame()
		d.title = fmt.Sprintf("frame %d · %s %s", r.seq, r.dir, r.op)
		d.head = describeFrame(f)
		p = r.payload
		msg := m.findMessage(id, r)
		if r.has(flagRsv1) {
			if msg != nil {
				d.head = append(d.head, fmt.Sprintf("deflate  message %s on the wire, %s inflated%s",
					size(int64(msg.length)), size(int64(len(msg.payload))), ratio(msg.length, len(msg.payload))))
			} else {
				d.head = append(d.head, "deflate  compressed; its message is not kept")
			}
		}
		switch r.group {
		case groupFirst, groupMiddle, groupLast:
			pos := map[groupMark]string{groupFirst: "first", groupMiddle: "a middle", groupLast: "the last"}[r.group]
			s := "fragment " + pos + " frame of a fragmented message"
			if msg != nil {
				s += " (frames " + seqList(msg.frames()) + ")"
			}
			d.head = append(d.head, s)
		case groupInside:
			d.head = append(d.head, "fragment a control frame between the fragments of a message")
		}
		if r.has(flagRsv1) && msg != nil && d.want != viewHex {
			// The compressed bytes say nothing as text: show the message.
			p, op, label = msg.payload, msg.op, "payload of the message, inflated"
		} else if r.op == inspect.OpContinuation && msg != nil {
			op = msg.op // a continuation reads as what its message is
		}
	case inspect.KindMsg:
		d.title = fmt.Sprintf("message · %s %s", r.dir, r.op)
		s := fmt.Sprintf("message  %s %s, %s bytes", r.dir, r.op, commas(len(r.payload)))
		switch n := r.frameCount(); {
		case n == 1:
			s += ", 1 frame (" + seqList(r.frames()) + ")"
		case n > 1:
			s += fmt.Sprintf(", %d frames (%s)", n, seqList(r.frames()))
		default:
			s += ", frames not recorded"
		}
		d.head = append(d.head, s)
		if r.has(flagDeflated) {
			d.head = append(d.head, fmt.Sprintf("deflate  %s on the wire, %s inflated%s",
				size(int64(r.length)), size(int64(len(r.payload))), ratio(r.length, len(r.payload))))
		}
		for _, v := range r.violations() {
			d.head = append(d.head, "!!       "+v.String())
		}
		p = r.payload
	case inspect.KindOpen:
		d.title = "open"
		d.head = describeOpen(r.more.open)
	case inspect.KindEnd:
		d.title = "end"
		d.head = describeEnd(r.more.end)
	default:
		d.title = r.kind.String()
		if r.more != nil {
			d.head = strings.Split(inspect.TextView([]byte(r.more.text)), "\n")
		}
	}
	for i, l := range d.head {
		d.head[i] = inspect.TextView([]byte(l))
	}
	if d.title != "" && m.multi {
		d.title = "#" + strconv.Itoa(int(r.conn)) + " " + d.title
	}
	if r.kind != inspect.KindFrame && r.kind != inspect.KindMsg {
		d.body = textLines(nil)
		return
	}
	v := d.want
	if v == viewAuto {
		v = chooseView(p, op)
	}
	pw := d.width
	if d.split {
		pw = m.width - d.width - 3
	}
	d.body, d.shown, d.note = payloadLines(p, v, pw)
	about := fmt.Sprintf("%s bytes, %s", commas(len(p)), d.shown)
	if d.note != "" {
		about += " (" + d.note + ")"
	}
	if d.split {
		d.title += " · " + label + " " + about
	} else {
		d.head = append(d.head, label+"  "+about)
	}
}

// findMessage returns the msg row that frame row r (id) is part of, if
// it is kept: it comes after its last frame.
func (m *Model) findMessage(id int, r *row) *row {
	if r.op.IsControl() {
		return nil
	}
	for j := id + 1; j < m.store.next && j <= id+4096; j++ {
		c := m.store.at(j)
		if c.kind != inspect.KindMsg || c.conn != r.conn || c.dir != r.dir {
			continue
		}
		if slices.Contains(c.frames(), r.seq) {
			return c
		}
		if c.has(flagOneFrame) && c.seq > r.seq {
			return nil
		}
	}
	return nil
}

func (d *detail) total() int {
	if d.split {
		return max(len(d.head), d.body.Len())
	}
	return len(d.head) + d.body.Len()
}

// line returns line i of the stacked layout.
func (d *detail) line(i int) string {
	if i < len(d.head) {
		return d.head[i]
	}
	i -= len(d.head)
	if i < d.body.Len() {
		return d.body.Line(i)
	}
	return ""
}

func (d *detail) scroll(delta int) {
	d.off = max(0, min(d.off+delta, d.total()-d.height))
}

// detailView draws the title rule and lay.detailRows lines.
func (m *Model) detailView() string {
	d := &m.detail
	var b strings.Builder
	title := d.title
	if title == "" {
		title = "detail"
	}
	if d.total() > d.height {
		title += fmt.Sprintf(" · %d/%d", min(d.off+d.height, d.total()), d.total())
	}
	title += " · v: " + d.want.String()
	st := m.st.PaneTitle
	if m.focus == focusDetail {
		st = m.st.PaneTitleFocused
	}
	b.WriteString(st.Render(rule(title, m.width)))
	for i := 0; i < d.height; i++ {
		b.WriteByte('\n')
		k := d.off + i
		if !d.split {
			b.WriteString(m.styleDetailLine(fit(d.line(k), m.width), k < len(d.head)))
			continue
		}
		var left, right string
		if k < len(d.head) {
			left = d.head[k]
		}
		if k < d.body.Len() {
			right = d.body.Line(k)
		}
		b.WriteString(m.styleDetailLine(fit(left, d.width), true))
		b.WriteString(m.st.Dim.Render(" │ "))
		b.WriteString(fit(right, m.width-d.width-3))
	}
	return b.String()
}

func (m *Model) styleDetailLine(s string, head bool) string {
	if head && strings.HasPrefix(s, "!!") {
		return m.st.Violation.Render(s)
	}
	return s
}

// rule draws "── title ──────" across w columns.
func rule(title string, w int) string {
	s := "── " + title + " "
	return fit(s+strings.Repeat("─", max(0, w-len([]rune(s)))), w)
}

func ratio(wire uint64, inflated int) string {
	if inflated == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.0f%%)", 100*float64(wire)/float64(inflated))
}

func seqList(seqs []uint64) string {
	if len(seqs) > 8 {
		return fmt.Sprintf("%d…%d", seqs[0], seqs[len(seqs)-1])
	}
	s := make([]string, len(seqs))
	for i, q := range seqs {
		s[i] = strconv.FormatUint(q, 10)
	}
	return strings.Join(s, " ")
}

func describeOpen(o *inspect.Open) []string {
	ls := []string{fmt.Sprintf("open     %s (%s)", o.URL, o.Role)}
	if o.Local != "" || o.Remote != "" {
		ls = append(ls, fmt.Sprintf("address  %s ⇄ %s", o.Local, o.Remote))
	}
	if o.Subprotocol != "" {
		ls = append(ls, "subprotocol "+o.Subprotocol)
	}
	for _, x := range o.Extensions {
		s := "extension " + x.Name
		for _, p := range x.Params {
			s += "; " + p.Name
			if p.Value != "" {
				s += "=" + p.Value
			}
		}
		ls = append(ls, s)
	}
	if t := o.TLS; t != nil {
		ls = append(ls, fmt.Sprintf("TLS      %s %s, server name %q, peer %s", t.Version, t.Cipher, t.SNI, t.PeerSubject))
	}
	if q := o.Request; q.Method != "" {
		ls = append(ls, fmt.Sprintf("> %s %s %s", q.Method, q.Target, q.Proto))
		for _, h := range q.Headers {
			ls = append(ls, "> "+h.Name+": "+h.Value)
		}
	}
	if p := o.Response; p.Status != 0 {
		ls = append(ls, fmt.Sprintf("< %s %d %s", p.Proto, p.Status, p.Reason))
		for _, h := range p.Headers {
			ls = append(ls, "< "+h.Name+": "+h.Value)
		}
	}
	return ls
}

func describeEnd(e *inspect.End) []string {
	ls := []string{"end      " + inspect.DescribeEnd(e)}
	if e.TCP != "" {
		ls = append(ls, "tcp      "+e.TCP)
	}
	return ls
}
