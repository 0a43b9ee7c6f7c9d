package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// statusBar is the two lines at the top: what the session is about and
// where its connection stands, then the counters. It keeps no state of
// its own (it draws the data), so it takes no messages.
type statusBar struct {
	d     *data
	st    *Styles
	width int
}

func newStatusBar(d *data, st *Styles) statusBar { return statusBar{d: d, st: st} }

func (sb *statusBar) SetSize(w, _ int) { sb.width = w }

// barLine builds one line of the status bar from styled parts, cutting
// at the width and filling the rest with the bar's background.
type barLine struct {
	st    *Styles
	b     strings.Builder
	w     int
	width int
}

func (l *barLine) add(st lipgloss.Style, s string) {
	room := l.width - l.w
	if room <= 0 || s == "" {
		return
	}
	s = truncate(s, room)
	l.w += ansi.StringWidth(s)
	l.b.WriteString(st.Render(s))
}

func (l *barLine) sep() { l.add(l.st.BarLabel, " │ ") }

func (l *barLine) String() string {
	if l.w < l.width {
		l.b.WriteString(l.st.Bar.Render(strings.Repeat(" ", l.width-l.w)))
	}
	return l.b.String()
}

// View is the two status lines: what and where it stands, then
// the counters. The subprotocol and extensions go on the first line when
// they fit, else on the second.
func (sb statusBar) View() string {
	st := sb.st
	d := sb.d
	c := d.shownConn()
	type part struct {
		label, text string
		st          lipgloss.Style
	}
	var extra []part // sub and ext
	if c != nil && c.open != nil {
		if c.open.Subprotocol != "" {
			extra = append(extra, part{"sub ", inspect.TextView([]byte(c.open.Subprotocol)), st.Bar})
		}
		if len(c.open.Extensions) > 0 {
			names := make([]string, len(c.open.Extensions))
			for i, x := range c.open.Extensions {
				names[i] = x.Name
			}
			extra = append(extra, part{"ext ", inspect.TextView([]byte(strings.Join(names, ", "))), st.Bar})
		}
	}
	width := func(ps []part) int {
		n := 0
		for _, p := range ps {
			n += 3 + ansi.StringWidth(p.label+p.text)
		}
		return n
	}

	state, stateSt := sb.stateText()
	title := d.opts.Title
	if title == "" {
		title = "wscope"
	}
	title = inspect.TextView([]byte(title))
	// The title gives way to the state, never the other way round.
	room := sb.width - 1 - 3 - ansi.StringWidth(state)
	var one1, two1 []part
	used := ansi.StringWidth(title)
	for _, p := range extra {
		if used+width([]part{p}) <= room {
			one1 = append(one1, p)
			used += width([]part{p})
		} else {
			two1 = append(two1, p)
		}
	}
	one := barLine{st: st, width: sb.width}
	one.add(st.Bar, " ")
	one.add(st.BarTitle, truncate(title, max(room-width(one1), 8)))
	one.sep()
	one.add(stateSt, state)
	for _, p := range one1 {
		one.sep()
		one.add(st.BarLabel, p.label)
		one.add(p.st, p.text)
	}

	two := barLine{st: st, width: sb.width}
	var frames, bytes [3]int64
	if c != nil {
		frames, bytes = c.frames, c.bytes
	} else {
		frames, bytes = d.conns.total()
	}
	two.add(st.Bar, " ")
	two.add(st.C2S.Inherit(st.Bar), "→ ")
	two.add(st.Bar, fmt.Sprintf("%s frames %s  ", commas(int(frames[inspect.ClientToServer])), size(bytes[inspect.ClientToServer])))
	two.add(st.S2C.Inherit(st.Bar), "← ")
	two.add(st.Bar, fmt.Sprintf("%s frames %s", commas(int(frames[inspect.ServerToClient])), size(bytes[inspect.ServerToClient])))
	two.sep()
	two.add(st.BarLabel, "rtt ")
	if c != nil && c.hasRTT {
		two.add(st.Bar, c.rtt.Round(time.Microsecond).String())
	} else {
		two.add(st.Bar, "-")
	}
	two.sep()
	if d.opts.Recording != "" {
		two.add(st.Recording, "● rec "+inspect.TextView([]byte(d.opts.Recording)))
	} else {
		two.add(st.BarLabel, "rec off")
	}
	if d.multi {
		two.sep()
		two.add(st.BarLabel, "conn ")
		if d.conn == 0 {
			two.add(st.Bar, fmt.Sprintf("all %d", len(d.conns.ids)))
		} else {
			two.add(st.Bar, fmt.Sprintf("#%d", d.conn))
		}
	}
	if f := sb.filterText(); f != "" {
		two.sep()
		two.add(st.BarLabel, "filter ")
		two.add(st.Bar, f)
	}
	for _, p := range two1 {
		two.sep()
		two.add(st.BarLabel, p.label)
		two.add(p.st, p.text)
	}
	return one.String() + "\n" + two.String()
}

// stateText says where the connection in view stands.
func (sb *statusBar) stateText() (string, lipgloss.Style) {
	st := sb.st
	d := sb.d
	c := d.shownConn()
	if c == nil {
		switch {
		case len(d.conns.ids) == 0 && d.opts.Live && d.opts.Multi:
			return "listening", st.Open
		case len(d.conns.ids) == 0 && d.opts.Live:
			return "connecting…", st.Connecting
		case len(d.conns.ids) == 0 && !d.srcDone:
			return "reading…", st.Connecting
		case len(d.conns.ids) == 0:
			return "no events", st.Closed
		}
		if !d.opts.Live {
			return fmt.Sprintf("%d connections", len(d.conns.ids)), st.Open
		}
		return d.conns.counts().String(), st.Open
	}
	s, stateSt := sb.connState(c)
	if d.opts.Reconnect && len(d.conns.ids) > 1 {
		// Every connection after the first is a reconnect attempt.
		s += fmt.Sprintf(" · reconnect attempts %d", len(d.conns.ids)-1)
		if n := d.conns.counts().failed; n > 0 {
			s += fmt.Sprintf(", %d failed", n)
		}
	}
	return s, stateSt
}

// connState says where connection c stands.
func (sb *statusBar) connState(c *connInfo) (string, lipgloss.Style) {
	st := sb.st
	d := sb.d
	switch c.state {
	case stateConnecting:
		if c.err != "" {
			return "failed: " + c.err, st.Failed
		}
		if !d.opts.Live {
			return "no handshake", st.Closed
		}
		return "connecting…", st.Connecting
	case stateOpen:
		return "open", st.Open
	case stateClosing:
		return "closing", st.Closing
	}
	s := "closed " + c.end.Code.String()
	if !c.end.Clean {
		s += ", not clean"
	}
	if c.end.ExitStatus() == inspect.ExitClean {
		return s, st.Closed
	}
	return s, st.Failed
}

// filterText describes the filter in use, "" for none.
func (sb *statusBar) filterText() string {
	d := sb.d
	var parts []string
	if d.filter.From != 0 {
		parts = append(parts, d.filter.From.String())
	}
	switch d.filter.Ops {
	case opsData:
		parts = append(parts, "data")
	case opsControl:
		parts = append(parts, "control")
	}
	if d.regex != "" {
		parts = append(parts, "/"+d.regex+"/")
	}
	return strings.Join(parts, " ")
}
