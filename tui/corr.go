package tui

import (
	"fmt"
	"sort"

	"github.com/wscope/wscope/inspect"
)

// corrKey names the units of one connection that a decoder paired by
// the same correlation key (inspect.Decoded.Corr): the ids of Socket.IO
// acks, JSON-RPC calls, MQTT packets repeat across connections.
type corrKey struct {
	conn int32
	corr string
}

// corrEnd is one message row of a pair and the part its unit plays.
type corrEnd struct {
	id   int
	role inspect.CorrRole
}

// corrIndex finds the other ends of a message's pair without a scan of
// the rows: each key's message rows in arrival order. Rows join it as
// they come and leave it as the scrollback drops them, so it stays as
// large as the rows kept.
type corrIndex map[corrKey][]corrEnd

// corrOf returns the key of the first unit of message row r that a
// decoder paired, and its role; ok is false when no unit is paired.
func corrOf(r *row) (k corrKey, role inspect.CorrRole, ok bool) {
	if r == nil || r.kind != inspect.KindMsg {
		return k, 0, false
	}
	for _, d := range r.decoded() {
		if d.Corr != "" {
			return corrKey{r.conn, d.Corr}, d.CorrRole, true
		}
	}
	return k, 0, false
}

// eachCorr calls f once per distinct key of the paired units of r, with
// the role of the first unit that has it.
func eachCorr(r *row, f func(k corrKey, role inspect.CorrRole)) {
	ds := r.decoded()
next:
	for i, d := range ds {
		if d.Corr == "" {
			continue
		}
		for _, e := range ds[:i] {
			if e.Corr == d.Corr {
				continue next
			}
		}
		f(corrKey{r.conn, d.Corr}, d.CorrRole)
	}
}

// add indexes message row r (id), the newest row.
func (x corrIndex) add(id int, r *row) {
	eachCorr(r, func(k corrKey, role inspect.CorrRole) {
		ends, ok := x[k]
		if !ok {
			ends = make([]corrEnd, 0, 2) // most pairs are a request and its answer: one allocation
		}
		x[k] = append(ends, corrEnd{id, role})
	})
}

// drop forgets row r (id), the oldest row, which the scrollback drops:
// it is the first end of each of its keys.
func (x corrIndex) drop(id int, r *row) {
	eachCorr(r, func(k corrKey, _ inspect.CorrRole) {
		ends := x[k]
		if len(ends) > 0 && ends[0].id == id {
			ends = ends[1:]
		}
		if len(ends) == 0 {
			delete(x, k)
		} else {
			x[k] = ends
		}
	})
}

// pair returns the ends of the pair message row id belongs to under key
// k, in arrival order, and where id is among them. A key may be reused
// (a JSON-RPC id, an Engine.IO ping): a request starts a new pair, and
// its parts and answer run up to the next request.
func (x corrIndex) pair(k corrKey, id int) (ends []corrEnd, at int) {
	all := x[k]
	i := sort.Search(len(all), func(i int) bool { return all[i].id >= id })
	if i == len(all) || all[i].id != id {
		return nil, -1
	}
	start := i
	for start > 0 && all[start].role != inspect.CorrRequest {
		start--
	}
	end := i + 1
	for end < len(all) && all[end].role != inspect.CorrRequest {
		end++
	}
	return all[start:end], i - start
}

// messageID returns the id of the message row that row id is or is a
// frame of, or -1.
func (d *data) messageID(id int) int {
	r := d.row(id)
	switch {
	case r == nil:
		return -1
	case r.kind == inspect.KindMsg:
		return id
	case r.kind == inspect.KindFrame:
		return d.messageIDOf(id, r)
	}
	return -1
}

// listRowOf returns the id of the row the list shows for message row
// msgID in the current mode: the message, or in the frame view its first
// frame; -1 when that frame is no longer kept.
func (d *data) listRowOf(msgID int) int {
	msg := d.row(msgID)
	if msg == nil {
		return -1
	}
	if d.mode == modeMessages || msg.has(flagMsgNoFrames) {
		return msgID
	}
	frames := msg.frames()
	if len(frames) == 0 {
		return -1
	}
	for j := msgID - 1; j >= d.store.first && j >= msgID-4096; j-- {
		r := d.store.at(j)
		if r.kind == inspect.KindFrame && r.conn == msg.conn && r.dir == msg.dir && r.seq == frames[0] {
			return j
		}
	}
	return -1
}

// jumpCorrelated moves the selection from a message (or a frame of one)
// whose decoded unit is paired to the next end of its pair: request,
// parts, answer, and round to the request again.
func (m *Model) jumpCorrelated() {
	d := m.d
	msgID := d.messageID(m.list.selected())
	k, _, ok := corrOf(d.row(msgID))
	if !ok {
		m.setNotice("no request or answer here: the message has no paired decoded unit")
		return
	}
	ends, at := d.corr.pair(k, msgID)
	if len(ends) < 2 {
		m.setNotice("%s: the other end is not in the scrollback", k.corr)
		return
	}
	next := ends[(at+1)%len(ends)]
	target := d.listRowOf(next.id)
	switch {
	case target < 0:
		m.setNotice("%s: the frames of the %s are no longer kept", k.corr, roleName(next.role))
	case !m.list.selectID(target):
		m.setNotice("%s: the %s is hidden by the filter (x clears it)", k.corr, roleName(next.role))
	}
}

func roleName(r inspect.CorrRole) string {
	if s := r.String(); s != "" {
		return s
	}
	return "other end"
}

// describePair is the detail pane's line on the other ends of the pair
// of message row id (key k): where the request, the parts and the answer
// are in the list and how long before or after they came. rowNumber
// gives a row's place in the list (1 the first), 0 when not shown.
func describePair(d *data, k corrKey, id int, rowNumber func(int) int) string {
	ends, at := d.corr.pair(k, id)
	if at < 0 {
		return ""
	}
	me := d.row(id)
	where := func(e corrEnd) string {
		r := d.row(e.id)
		dt := r.t - me.t
		sign := "+"
		if dt < 0 {
			sign, dt = "-", -dt
		}
		var s string
		if n := rowNumber(d.listRowOf(e.id)); n > 0 {
			s = fmt.Sprintf("in row %d", n)
		} else {
			s = "not shown"
		}
		return fmt.Sprintf("%s (%s%s)", s, sign, millis(dt.Seconds()*1000))
	}
	var req, ans, part *corrEnd
	parts := 0
	for i := range ends {
		if i == at {
			continue
		}
		switch e := &ends[i]; e.role {
		case inspect.CorrRequest:
			req = e
		case inspect.CorrAnswer:
			if ans == nil {
				ans = e
			}
		default:
			if part == nil {
				part = e
			}
			parts++
		}
	}
	var out []string
	role := ends[at].role
	if req != nil {
		out = append(out, "request "+where(*req))
	} else if role != inspect.CorrRequest {
		out = append(out, "request not in the scrollback")
	}
	if part != nil {
		s := "part " + where(*part)
		if parts > 1 {
			s = fmt.Sprintf("%d parts, the first %s", parts, where(*part))
		}
		out = append(out, s)
	}
	if ans != nil {
		out = append(out, "answer "+where(*ans))
	} else if role != inspect.CorrAnswer {
		out = append(out, "no answer yet")
	}
	s := "         "
	for i, o := range out {
		if i > 0 {
			s += ", "
		}
		s += o
	}
	return s
}

// millis writes a duration in milliseconds, one decimal.
func millis(ms float64) string {
	return fmt.Sprintf("%.1f ms", ms)
}
