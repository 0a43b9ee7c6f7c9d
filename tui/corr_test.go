package tui

import (
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// paired adds a text message whose decoded unit has correlation key corr
// in role.
func (s *session) paired(dir inspect.Direction, p, corr string, role inspect.CorrRole) *session {
	s.text(dir, p)
	s.events[len(s.events)-1].Msg.Decoded = []inspect.Decoded{{Protocol: "rpc", Type: role.String(), Summary: "rpc " + role.String() + " " + p, Corr: corr, CorrRole: role}}
	return s
}

// selectedMsg returns the message row of the selection (itself, or the
// message of the selected frame).
func selectedMsg(m *Model) *row { return m.d.row(m.d.messageID(m.list.selected())) }

func selectedSummary(m *Model) string {
	r := selectedMsg(m)
	if r == nil || len(r.decoded()) == 0 {
		return ""
	}
	return r.decoded()[0].Summary
}

// a moves from a request to its answer and back in the message view,
// and the detail pane says where the other end is and how long after.
func TestJumpRequestAnswer(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false).
		paired(inspect.ClientToServer, "call", "id 7", inspect.CorrRequest).
		text(inspect.ServerToClient, "unrelated").
		paired(inspect.ServerToClient, "result", "id 7", inspect.CorrAnswer).
		text(inspect.ClientToServer, "later")
	m := newModel(t, Options{}, 120, 30, s.events)
	press(m, "m", "home", "down")
	if got := selectedSummary(m); got != "rpc request call" {
		t.Fatalf("selected %q, want the request", got)
	}
	if v := plain(m); !strings.Contains(v, "answer in row 4 (+3.0 ms)") || !strings.Contains(v, "a request⇄answer") {
		t.Errorf("detail of the request or footer:\n%s", v)
	}
	press(m, "a")
	if got := selectedSummary(m); got != "rpc answer result" {
		t.Fatalf("after a: selected %q, want the answer", got)
	}
	if v := plain(m); !strings.Contains(v, "request in row 2 (-3.0 ms)") {
		t.Errorf("detail of the answer:\n%s", v)
	}
	if m.list.follow {
		t.Error("the jump left follow mode on: new rows would move the selection away")
	}
	press(m, "a")
	if got := selectedSummary(m); got != "rpc request call" {
		t.Errorf("a again: selected %q, want the request", got)
	}
}

// With parts the key cycles request, parts, answer, request; a reused
// key starts a new pair at each request.
func TestJumpCyclesPartsAndReusedKeys(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false).
		paired(inspect.ClientToServer, "sub", "op 1", inspect.CorrRequest).
		paired(inspect.ServerToClient, "next1", "op 1", inspect.CorrPart).
		paired(inspect.ServerToClient, "next2", "op 1", inspect.CorrPart).
		paired(inspect.ServerToClient, "done", "op 1", inspect.CorrAnswer).
		paired(inspect.ClientToServer, "sub again", "op 1", inspect.CorrRequest).
		paired(inspect.ServerToClient, "done again", "op 1", inspect.CorrAnswer)
	m := newModel(t, Options{}, 110, 30, s.events)
	press(m, "m", "home", "down")
	if v := plain(m); !strings.Contains(v, "2 parts, the first in row 3 (+1.5 ms), answer in row 5 (+4.5 ms)") {
		t.Errorf("detail of the request:\n%s", v)
	}
	for _, want := range []string{"rpc part next1", "rpc part next2", "rpc answer done", "rpc request sub"} {
		press(m, "a")
		if got := selectedSummary(m); got != want {
			t.Fatalf("selected %q, want %q", got, want)
		}
	}
	press(m, "end", "a")
	if got := selectedSummary(m); got != "rpc request sub again" {
		t.Errorf("from the second answer: selected %q, want the second request", got)
	}
}

// In the frame view the key moves from a frame of the request to the
// first frame of the answer.
func TestJumpInFrameView(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false).
		paired(inspect.ClientToServer, "call", "id 7", inspect.CorrRequest).
		ping(inspect.ServerToClient, "").
		fragmented(inspect.ServerToClient, inspect.OpText, "result", 3)
	last := s.events[len(s.events)-1]
	last.Msg.Decoded = []inspect.Decoded{{Protocol: "rpc", Summary: "rpc answer", Corr: "id 7", CorrRole: inspect.CorrAnswer}}
	m := newModel(t, Options{}, 120, 30, s.events)
	press(m, "home", "down")
	if r := m.d.row(m.list.selected()); r.kind != inspect.KindFrame || r.seq != 1 {
		t.Fatalf("selected %v seq %d, want frame 1", r.kind, r.seq)
	}
	if h := strings.Join(m.detail.head, "\n"); !strings.Contains(h, "answer in row 4 (+4.5 ms)") {
		t.Errorf("frame detail: no answer row:\n%s", h)
	}
	press(m, "a")
	if r := m.d.row(m.list.selected()); r.kind != inspect.KindFrame || r.seq != 3 {
		t.Fatalf("after a: selected %v seq %d, want frame 3, the answer's first", r.kind, r.seq)
	}
	press(m, "down", "a") // from the answer's second frame
	if r := m.d.row(m.list.selected()); r.seq != 1 {
		t.Errorf("back: selected seq %d, want frame 1", r.seq)
	}
}

// A message without a pair, a request whose answer has not come, and an
// answer hidden by the filter each get a notice and keep the selection.
func TestJumpNowhere(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false).
		text(inspect.ClientToServer, "plain").
		paired(inspect.ClientToServer, "call", "id 7", inspect.CorrRequest).
		paired(inspect.ClientToServer, "call2", "id 8", inspect.CorrRequest).
		paired(inspect.ServerToClient, "answer8", "id 8", inspect.CorrAnswer)
	m := newModel(t, Options{}, 120, 30, s.events)
	press(m, "m", "home", "down", "a")
	if v := plain(m); !strings.Contains(v, "no request or answer here") {
		t.Errorf("no notice for a message without a pair:\n%s", v)
	}
	press(m, "down")
	if v := plain(m); !strings.Contains(v, "no answer yet") {
		t.Errorf("detail of an unanswered request:\n%s", v)
	}
	press(m, "a")
	if v := plain(m); !strings.Contains(v, "id 7: the other end is not in the scrollback") || selectedSummary(m) != "rpc request call" {
		t.Errorf("unanswered request: selected %q:\n%s", selectedSummary(m), v)
	}
	press(m, "down", "d") // c2s only: the answer is hidden
	press(m, "a")
	if v := plain(m); !strings.Contains(v, "id 8: the answer is hidden by the filter") || selectedSummary(m) != "rpc request call2" {
		t.Errorf("hidden answer: selected %q:\n%s", selectedSummary(m), v)
	}
}

// The index holds only the rows the scrollback keeps: a pair whose
// request was dropped leaves it, and its answer has no other end.
func TestCorrIndexFollowsScrollback(t *testing.T) {
	s := newSession(1).open("ws://h/", "", false)
	for i := range 200 {
		k := "id " + string(rune('a'+i%26)) + string(rune('a'+i/26))
		s.paired(inspect.ClientToServer, "call", k, inspect.CorrRequest).
			paired(inspect.ServerToClient, "result", k, inspect.CorrAnswer)
	}
	s.paired(inspect.ServerToClient, "late", "id aa", inspect.CorrAnswer)
	m := newModel(t, Options{Scrollback: 20}, 120, 30, s.events)
	n := 0
	for _, ends := range m.d.corr {
		n += len(ends)
		for _, e := range ends {
			if m.d.row(e.id) == nil {
				t.Fatalf("index holds row %d, dropped", e.id)
			}
		}
	}
	if n > 10 {
		t.Errorf("index holds %d ends for 20 rows kept (10 messages)", n)
	}
	press(m, "m", "end", "a")
	if v := plain(m); !strings.Contains(v, "id aa: the other end is not in the scrollback") {
		t.Errorf("answer of a dropped request:\n%s", v)
	}
}

// Correlation keys pair within one connection: the same JSON-RPC id on
// another connection is another pair.
func TestJumpStaysInConnection(t *testing.T) {
	a := newSession(1).open("ws://h/", "", false).paired(inspect.ClientToServer, "call", "id 1", inspect.CorrRequest)
	b := newSession(2).open("ws://h/", "", false)
	b.t = a.t
	b.paired(inspect.ServerToClient, "other's result", "id 1", inspect.CorrAnswer)
	a.paired(inspect.ServerToClient, "result", "id 1", inspect.CorrAnswer)
	var events []*inspect.Event
	events = append(events, a.events[:3]...)
	events = append(events, b.events...)
	events = append(events, a.events[3:]...)
	m := newModel(t, Options{Multi: true}, 120, 30, events)
	press(m, "m", "end", "a")
	if got := selectedSummary(m); got != "rpc request call" || m.d.row(m.list.selected()).conn != 1 {
		t.Errorf("from conn 1's answer: selected %q on conn %d", got, m.d.row(m.list.selected()).conn)
	}
	press(m, "a")
	if got := selectedSummary(m); got != "rpc answer result" {
		t.Errorf("from conn 1's request: selected %q", got)
	}
}
