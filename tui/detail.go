package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/wscope/wscope/inspect"
)

// detail is the pane under the list: the selected row explained. Its
// content is made when the selection, the view or the width changes,
// never per frame drawn.
type detail struct {
	d    *data
	st   *Styles
	keys *KeyMap

	id      int         // row shown; -1 none
	want    payloadView // what the user asked for
	title   string
	head    []string    // fields
	body    lines       // the payload; nil: to be made
	shown   payloadView // the view the payload is in
	note    string      // the payload is shown in part
	off     int         // first line drawn
	width   int         // of the whole pane
	height  int         // lines under the title
	split   bool        // head and payload side by side
	focused bool

	// The line on the other ends of the shown message's pair, made anew
	// each Show: the answer comes later, rows move in the list.
	pairLine  int // index in head, -1 none
	pairMsg   int // the message row paired
	pairKey   corrKey
	rowNumber func(id int) int // a row's place in the list, 0 not shown
}

// splitWidth is the width from which the detail shows the header fields
// and the payload side by side.
const splitWidth = 120

func newDetail(d *data, st *Styles, keys *KeyMap) detail {
	return detail{d: d, st: st, keys: keys, id: -1, pairLine: -1, rowNumber: func(int) int { return 0 }}
}

// SetSize gives the pane w columns and h lines, its title included.
func (p *detail) SetSize(w, h int) {
	split := w >= splitWidth
	if w != p.width || split != p.split {
		p.body = nil // laid out for another width
	}
	p.width, p.height, p.split = w, max(h-1, 0), split
	p.Show(p.id)
}

// Show makes the pane explain row id (-1: none).
func (p *detail) Show(id int) {
	r := p.d.row(id)
	if r == nil {
		id = -1
	}
	if id == p.id && p.body != nil {
		p.refreshPair()
		return
	}
	if id != p.id {
		p.off = 0
	}
	p.id = id
	p.title, p.head, p.body, p.note = "", nil, textLines(nil), ""
	p.pairLine = -1
	if r != nil {
		p.build(id, r)
	}
	p.refreshPair()
	p.off = min(p.off, max(0, p.total()-p.height))
}

// Update scrolls (keys, the wheel) and switches the payload view.
func (p detail) Update(msg tea.Msg) (detail, tea.Cmd) {
	k := p.keys
	page := max(1, p.height-1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			p.scroll(-1)
		case key.Matches(msg, k.Down):
			p.scroll(1)
		case key.Matches(msg, k.PageUp):
			p.scroll(-page)
		case key.Matches(msg, k.PageDown):
			p.scroll(page)
		case key.Matches(msg, k.Top):
			p.off = 0
		case key.Matches(msg, k.Bottom):
			p.scroll(p.total())
		case key.Matches(msg, k.PayloadView):
			v := p.want
			if v == viewAuto {
				v = p.shown
			}
			p.want, p.body = v.next(), nil
			p.Show(p.id)
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			p.scroll(-3)
		case tea.MouseWheelDown:
			p.scroll(3)
		}
	}
	return p, nil
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

// build lays out row r (id).
func (p *detail) build(id int, r *row) {
	var pl []byte
	op := r.op
	label := "payload"
	var inflated *row // the message of a compressed frame, shown with it
	switch r.kind {
	case inspect.KindFrame:
		f := r.frame()
		p.title = fmt.Sprintf("frame %d · %s %s", r.seq, r.dir, r.op)
		p.head = describeFrame(f)
		pl = r.payload
		msgID := p.d.messageIDOf(id, r)
		msg := p.d.row(msgID)
		if r.has(flagCompressed) {
			if msg != nil {
				p.head = append(p.head, fmt.Sprintf("deflate  message %s on the wire, %s inflated%s",
					size(int64(msg.length)), size(int64(len(msg.payload))), ratio(msg.length, len(msg.payload))))
			} else {
				p.head = append(p.head, "deflate  compressed; its message is not kept")
			}
		}
		switch r.group {
		case inspect.PartFirst, inspect.PartMiddle, inspect.PartLast:
			pos := map[inspect.Part]string{inspect.PartFirst: "first", inspect.PartMiddle: "a middle", inspect.PartLast: "the last"}[r.group]
			s := "fragment " + pos + " frame of a fragmented message"
			if msg != nil {
				s += " (frames " + seqList(msg.frames()) + ")"
			}
			p.head = append(p.head, s)
		case inspect.PartBetween:
			p.head = append(p.head, "fragment a control frame between the fragments of a message")
		}
		if msg != nil {
			p.head = append(p.head, describeDecoded(msg.decoded())...)
			p.markPair(msgID, msg)
		}
		switch {
		case r.has(flagCompressed) && msg != nil && p.want == viewHex:
			inflated = msg // the bytes as they crossed, then inflated
		case r.has(flagCompressed) && msg != nil:
			// The compressed bytes say nothing as text: show the message.
			pl, op, label = msg.payload, msg.op, "payload of the message, inflated"
		case r.op == inspect.OpContinuation:
			op = r.content().Op // a continuation reads as what its message is
		}
	case inspect.KindMsg:
		p.title = fmt.Sprintf("message · %s %s", r.dir, r.op)
		s := fmt.Sprintf("message  %s %s, %s bytes", r.dir, r.op, commas(len(r.payload)))
		switch n := r.frameCount(); {
		case n == 1:
			s += ", 1 frame (" + seqList(r.frames()) + ")"
		case n > 1:
			s += fmt.Sprintf(", %d frames (%s)", n, seqList(r.frames()))
		default:
			s += ", frames not recorded"
		}
		p.head = append(p.head, s)
		if r.has(flagDeflated) {
			p.head = append(p.head, fmt.Sprintf("deflate  %s on the wire, %s inflated%s",
				size(int64(r.length)), size(int64(len(r.payload))), ratio(r.length, len(r.payload))))
		}
		for _, v := range r.violations() {
			p.head = append(p.head, "!!       "+v.String())
		}
		p.head = append(p.head, describeDecoded(r.decoded())...)
		p.markPair(id, r)
		pl = r.payload
	case inspect.KindOpen:
		p.title = "open"
		p.head = describeOpen(r.more.open)
	case inspect.KindEnd:
		p.title = "end"
		p.head = describeEnd(r.more.end)
	default:
		p.title = r.kind.String()
		if r.more != nil {
			p.head = strings.Split(inspect.TextView([]byte(r.more.text)), "\n")
		}
	}
	for i, l := range p.head {
		p.head[i] = inspect.TextView([]byte(l))
	}
	if p.title != "" && p.d.multi {
		p.title = "#" + strconv.Itoa(int(r.conn)) + " " + p.title
	}
	if r.kind != inspect.KindFrame && r.kind != inspect.KindMsg {
		p.body = textLines(nil)
		return
	}
	v := p.want
	if v == viewAuto {
		v = chooseView(pl, op)
	}
	pw := p.width
	if p.split {
		pw = p.width - p.fieldsWidth() - 3
	}
	p.body, p.shown, p.note = payloadLines(pl, v, pw)
	about := fmt.Sprintf("%s bytes, %s", commas(len(pl)), p.shown)
	if inflated != nil {
		// Both: the bytes as they crossed, then the message inflated.
		about = fmt.Sprintf("%s bytes on the wire, then %s inflated, hex", commas(len(pl)), commas(len(inflated.payload)))
		p.body = stack{p.body, textLines{"", fmt.Sprintf("the message inflated, %s bytes:", commas(len(inflated.payload)))}, hexLines{p: inflated.payload, per: hexPerLine(pw)}}
	}
	if p.note != "" {
		about += " (" + p.note + ")"
	}
	if p.split {
		p.title += " · " + label + " " + about
	} else {
		p.head = append(p.head, label+"  "+about)
	}
}

// markPair makes room after the decoded section for the line on the
// pair of message row msg (id), if a unit of it is paired.
func (p *detail) markPair(id int, msg *row) {
	k, role, ok := corrOf(msg)
	if !ok {
		return
	}
	at := len(p.head) // under the unit's "request of …" line, else last
	if i := slices.Index(p.head, "         "+role.String()+" of "+k.corr); i >= 0 {
		at = i + 1
	}
	p.pairLine, p.pairMsg, p.pairKey = at, id, k
	p.head = slices.Insert(p.head, at, "")
}

// refreshPair writes the pair line for where the rows are now.
func (p *detail) refreshPair() {
	if p.pairLine >= 0 && p.pairLine < len(p.head) {
		p.head[p.pairLine] = describePair(p.d, p.pairKey, p.pairMsg, p.rowNumber)
	}
}

// fieldsWidth is the width of the fields column when split.
func (p *detail) fieldsWidth() int {
	if p.split {
		return max(56, min(72, p.width*55/100))
	}
	return p.width
}

func (p *detail) total() int {
	if p.split {
		return max(len(p.head), p.body.Len())
	}
	return len(p.head) + p.body.Len()
}

// line returns line i of the stacked layout.
func (p *detail) line(i int) string {
	if i < len(p.head) {
		return p.head[i]
	}
	i -= len(p.head)
	if i < p.body.Len() {
		return p.body.Line(i)
	}
	return ""
}

func (p *detail) scroll(delta int) {
	p.off = max(0, min(p.off+delta, p.total()-p.height))
}

// View draws the title rule and the lines under it.
func (p detail) View() string {
	var b strings.Builder
	title := p.title
	if title == "" {
		title = "detail"
	}
	if p.total() > p.height {
		title += fmt.Sprintf(" · %d/%d", min(p.off+p.height, p.total()), p.total())
	}
	title += " · v: " + p.want.String()
	st := p.st.PaneTitle
	if p.focused {
		st = p.st.PaneTitleFocused
	}
	b.WriteString(st.Render(rule(title, p.width)))
	fw := p.fieldsWidth()
	for i := 0; i < p.height; i++ {
		b.WriteByte('\n')
		k := p.off + i
		if !p.split {
			b.WriteString(p.styleLine(fit(p.line(k), p.width), k < len(p.head)))
			continue
		}
		var left, right string
		if k < len(p.head) {
			left = p.head[k]
		}
		if k < p.body.Len() {
			right = p.body.Line(k)
		}
		b.WriteString(p.styleLine(fit(left, fw), true))
		b.WriteString(p.st.Dim.Render(" │ "))
		b.WriteString(fit(right, p.width-fw-3))
	}
	return b.String()
}

func (p *detail) styleLine(s string, head bool) string {
	if head && strings.HasPrefix(s, "!!") {
		return p.st.Violation.Render(s)
	}
	return s
}

// rule draws "── title ──────" across w columns.
func rule(title string, w int) string {
	s := "── " + title + " "
	return fit(s+strings.Repeat("─", max(0, w-len([]rune(s)))), w)
}

// ratio is a deflated message's ratio in inspect's notation, for a
// sentence.
func ratio(wire uint64, inflated int) string {
	if inflated == 0 {
		return ""
	}
	return ", ratio " + string(inspect.AppendRatio(nil, int(wire), inflated))
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
	if o.Decoder != "" {
		ls = append(ls, "decoder  "+o.Decoder+" ("+o.DecoderWhy+")")
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
		ls = append(ls, "TLS      "+t.Describe())
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

// describeDecoded is the detail pane's section on what the application
// protocol decoder read in a message: each unit's summary, its pairing,
// then its fields.
func describeDecoded(ds []inspect.Decoded) []string {
	var ls []string
	for _, d := range ds {
		ls = append(ls, "decoded  "+d.Summary)
		if d.Corr != "" {
			ls = append(ls, "         "+d.CorrRole.String()+" of "+d.Corr)
		}
		if d.Err != "" {
			ls = append(ls, "!!       "+d.Err)
		}
		for _, f := range d.Fields {
			v := f.Value
			if len(v) > 200 {
				v = v[:200] + "…"
			}
			ls = append(ls, "  "+f.Key+": "+v)
		}
	}
	return ls
}
