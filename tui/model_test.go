package tui

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/record"
)

// sender records what the send box hands to the command layer.
type sender struct {
	mu    sync.Mutex
	lines []string
	conns []int
	err   error
}

func (s *sender) send(conn int, line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
	s.conns = append(s.conns, conn)
	return s.err
}

func (s *sender) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

func liveModel(t *testing.T, s *sender, events []*inspect.Event) *Model {
	t.Helper()
	opts := liveOpts()
	opts.Send = s.send
	return newModel(t, opts, 80, 24, events)
}

// enter presses enter and runs what it starts, as the program would.
func enter(m *Model) bool { return run(m, press(m, "enter")) }

func TestSend(t *testing.T) {
	s := &sender{}
	m := liveModel(t, s, demo().events)
	if m.focus != focusSend {
		t.Fatalf("focus = %v, want the send box in a live session", m.focus)
	}
	typeText(m, "hello there")
	if quit := enter(m); quit {
		t.Fatal("enter quit")
	}
	typeText(m, "/ping x")
	enter(m)
	typeText(m, "//text")
	enter(m)
	if want := []string{"hello there", "/ping x", "//text"}; !slices.Equal(s.got(), want) {
		t.Errorf("sent %q, want %q", s.got(), want)
	}
	if v := m.compose.ta.Value(); v != "" {
		t.Errorf("send box holds %q after sending", v)
	}
	// An empty line is not sent.
	enter(m)
	typeText(m, "   ")
	enter(m)
	if len(s.got()) != 3 {
		t.Errorf("blank lines were sent: %q", s.got())
	}
}

func TestSendError(t *testing.T) {
	s := &sender{err: errors.New("not connected yet")}
	m := liveModel(t, s, nil)
	typeText(m, "hi")
	enter(m)
	if !m.footer.isErr || !strings.Contains(m.footer.notice, "not connected yet") {
		t.Errorf("notice = %q (error %v), want the send error", m.footer.notice, m.footer.isErr)
	}
	if !strings.Contains(plain(m), "not connected yet") {
		t.Error("the error is not on screen")
	}
}

// TestSendOrder: lines go out one at a time, in order, and the update loop
// does not wait for them.
func TestSendOrder(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	opts := liveOpts()
	opts.Send = func(_ int, line string) error {
		<-release
		mu.Lock()
		got = append(got, line)
		mu.Unlock()
		return nil
	}
	m := newModel(t, opts, 80, 24, nil)
	typeText(m, "one")
	first := press(m, "enter")
	typeText(m, "two")
	if cmd := press(m, "enter"); cmd != nil {
		t.Error("a second send started while the first is in flight")
	}
	if len(m.compose.queue) != 1 || !m.compose.sending {
		t.Fatalf("queue %d, sending %v", len(m.compose.queue), m.compose.sending)
	}
	close(release)
	run(m, first) // runs "one", whose result starts "two"
	if want := []string{"one", "two"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if m.compose.sending || len(m.compose.queue) != 0 {
		t.Error("queue not drained")
	}
}

func TestSendToSelectedConnection(t *testing.T) {
	s := &sender{}
	m := liveModel(t, s, twoClients())
	press(m, "esc", "]", "]", "i")
	typeText(m, "hi two")
	enter(m)
	if len(s.conns) != 1 || s.conns[0] != 2 {
		t.Errorf("sent to %v, want connection 2", s.conns)
	}
}

func TestHistory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state", "wscope", "history")
	s := &sender{}
	opts := liveOpts()
	opts.Send, opts.HistoryFile = s.send, file
	m := newModel(t, opts, 80, 24, nil)
	for _, l := range []string{"first", "second", "second", "multi\nline"} {
		m.compose.ta.SetValue(l)
		enter(m)
	}
	typeText(m, "draft")
	value := func() string { return m.compose.ta.Value() }
	press(m, "up")
	if value() != "multi\nline" {
		t.Fatalf("up shows %q", value())
	}
	press(m, "up") // the cursor is on the last line of the entry: it moves up
	press(m, "up")
	if value() != "second" {
		t.Fatalf("up up shows %q, want second (duplicates kept once)", value())
	}
	press(m, "up", "up")
	if value() != "first" {
		t.Fatalf("shows %q at the oldest entry", value())
	}
	press(m, "down")
	if value() != "second" {
		t.Fatalf("down shows %q", value())
	}
	press(m, "down", "down", "down")
	if value() != "draft" {
		t.Fatalf("down past the newest shows %q, want the draft", value())
	}

	// Kept across runs, private to the user.
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", fi.Mode().Perm())
	}
	m2 := newModel(t, opts, 80, 24, nil)
	if want := []string{"first", "second", "multi\nline"}; !slices.Equal(m2.compose.history, want) {
		t.Errorf("history read back %q, want %q", m2.compose.history, want)
	}
	press(m2, "up")
	if v := m2.compose.ta.Value(); v != "multi\nline" {
		t.Errorf("up in a new run shows %q", v)
	}
}

func TestHistoryFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history")
	for _, l := range []string{"plain", `"quoted"`, "two\nlines", "cr\r"} {
		if err := appendHistory(file, l); err != nil {
			t.Fatal(err)
		}
	}
	h, err := loadHistory(file, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"plain", `"quoted"`, "two\nlines", "cr\r"}; !slices.Equal(h, want) {
		t.Errorf("read %q, want %q", h, want)
	}
	// Past twice the limit the file is cut to the newest entries.
	for i := range 25 {
		appendHistory(file, strings.Repeat("x", i+1))
	}
	h, _ = loadHistory(file, 10)
	if len(h) != 10 || h[9] != strings.Repeat("x", 25) {
		t.Fatalf("read %d entries ending %q", len(h), h[len(h)-1])
	}
	b, _ := os.ReadFile(file)
	if n := strings.Count(string(b), "\n"); n != 10 {
		t.Errorf("file has %d lines after the cut, want 10", n)
	}
	if h, err := loadHistory(filepath.Join(t.TempDir(), "none"), 10); err != nil || h != nil {
		t.Errorf("missing file: %q, %v", h, err)
	}
}

func TestMultiLine(t *testing.T) {
	s := &sender{}
	m := liveModel(t, s, nil)
	typeText(m, "a")
	press(m, "alt+enter")
	typeText(m, "b")
	press(m, "ctrl+j")
	typeText(m, "c")
	if v := m.compose.ta.Value(); v != "a\nb\nc" {
		t.Fatalf("value %q", v)
	}
	if m.lay.sendRows != 3 {
		t.Errorf("send box is %d rows, want 3", m.lay.sendRows)
	}
	checkScreen(t, m.Screen(), 80, 24)
	enter(m)
	if want := []string{"a\nb\nc"}; !slices.Equal(s.got(), want) {
		t.Errorf("sent %q, want %q", s.got(), want)
	}
	if m.lay.sendRows != 1 {
		t.Errorf("send box is %d rows after sending, want 1", m.lay.sendRows)
	}
}

func TestCompletion(t *testing.T) {
	m := liveModel(t, &sender{}, nil)
	value := func() string { return m.compose.ta.Value() }

	typeText(m, "/cl")
	press(m, "tab")
	if value() != "/close " {
		t.Errorf("/cl completes to %q", value())
	}
	if !strings.Contains(m.footer.notice, "[code [reason]]") {
		t.Errorf("notice %q does not give the usage", m.footer.notice)
	}

	m.compose.ta.SetValue("/p")
	press(m, "tab")
	if value() != "/p" || !strings.Contains(m.footer.notice, "/ping") || !strings.Contains(m.footer.notice, "/pong") {
		t.Errorf("/p: value %q, notice %q", value(), m.footer.notice)
	}
	m.compose.ta.SetValue("/fr")
	press(m, "tab")
	if value() != "/fra" || !strings.Contains(m.footer.notice, "/fragment  /frame") {
		t.Errorf("/fr: value %q, notice %q", value(), m.footer.notice)
	}
	m.compose.ta.SetValue("/fra")
	press(m, "tab")
	if value() != "/fra" {
		t.Errorf("/fra: %q", value())
	}
	m.compose.ta.SetValue("/sa")
	press(m, "tab")
	if value() != "/save " {
		t.Errorf("local commands complete too: /sa gives %q", value())
	}
	m.compose.ta.SetValue("/zz")
	press(m, "tab")
	if !m.footer.isErr {
		t.Error("no error for an unknown command")
	}
	// Not a command name: tab moves on.
	m.compose.ta.SetValue("hello")
	press(m, "tab")
	if m.focus != focusList {
		t.Errorf("tab on text: focus %v, want the list", m.focus)
	}
}

func TestLocalCommands(t *testing.T) {
	s := &sender{}
	m := liveModel(t, s, demo().events)
	typeText(m, "/help")
	enter(m)
	if m.overlay != overlayHelp {
		t.Error("/help does not show help")
	}
	press(m, "esc")
	if m.overlay != overlayNone {
		t.Error("esc does not close help")
	}
	typeText(m, "/save")
	enter(m)
	if !m.footer.isErr || !strings.Contains(m.footer.notice, "/save FILE") {
		t.Errorf("/save without a file: %q", m.footer.notice)
	}
	m.setFocus(focusSend)
	typeText(m, "/quit")
	if !enter(m) || m.quit != QuitKey {
		t.Errorf("/quit: quit %v", m.quit)
	}
	if len(s.got()) != 0 {
		t.Errorf("local commands reached the sender: %q", s.got())
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	// The command layer passes the recording writer (internal/session).
	saving := fileOpts()
	saving.Save = func(path string, events []*inspect.Event) error {
		return record.WriteFile(path, inspect.RecordingHeader{}, record.WriterOptions{}, events)
	}
	m := newModel(t, saving, 80, 24, demo().events)
	press(m, "d") // c2s only
	path := filepath.Join(dir, "out.wsrec.jsonl")
	run(m, m.saveCmd(path))
	if m.footer.isErr {
		t.Fatal(m.footer.notice)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := record.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for e, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch e.Kind {
		case inspect.KindFrame:
			if e.Frame.Dir != c2s {
				t.Errorf("saved a %s frame with the c2s filter on", e.Frame.Dir)
			}
		case inspect.KindMsg:
			if e.Msg.Dir != c2s {
				t.Errorf("saved a %s message", e.Msg.Dir)
			}
		case inspect.KindOpen:
			for _, h := range e.Open.Request.Headers {
				if h.Name == "Authorization" && h.Value != inspect.Redacted {
					t.Errorf("Authorization saved as %q", h.Value)
				}
			}
		}
		kinds = append(kinds, e.Kind.String())
	}
	// open, the 7 c2s frames, the 3 messages they make, end.
	if got := strings.Join(kinds, " "); got != "open frame msg frame msg frame frame frame frame msg frame end" {
		t.Errorf("saved %s", got)
	}
	if !strings.Contains(m.footer.notice, "saved 12 events") {
		t.Errorf("notice %q", m.footer.notice)
	}
	// It never overwrites.
	run(m, m.saveCmd(path))
	if !m.footer.isErr || !strings.Contains(m.footer.notice, "exists") {
		t.Errorf("saving over a file: %q", m.footer.notice)
	}
	// Without a save function /save says so.
	m0 := newModel(t, fileOpts(), 80, 24, demo().events)
	run(m0, m0.saveCmd(filepath.Join(dir, "none")))
	if !m0.footer.isErr || !strings.Contains(m0.footer.notice, "not available") {
		t.Errorf("/save without a writer: %q", m0.footer.notice)
	}
	// The save function gets the events shown.
	var n int
	opts := fileOpts()
	opts.Save = func(_ string, events []*inspect.Event) error { n = len(events); return nil }
	m2 := newModel(t, opts, 80, 24, demo().events)
	run(m2, m2.saveCmd("x"))
	if n != len(demo().events) {
		t.Errorf("Save got %d events, want %d", n, len(demo().events))
	}
}

func TestFilter(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	all := len(m.list.ids)
	press(m, "/")
	if !m.prompt.open {
		t.Fatal("/ does not open the filter")
	}
	typeText(m, "hel+o")
	if len(m.list.ids) != all {
		t.Error("the filter applies before enter")
	}
	press(m, "enter")
	if m.prompt.open {
		t.Error("enter leaves the filter open")
	}
	if len(m.list.ids) != 2 || m.list.inMode-len(m.list.ids) != all-2 {
		t.Errorf("%d rows shown, %d hidden", len(m.list.ids), m.list.inMode-len(m.list.ids))
	}
	if !strings.Contains(plain(m), "hidden") || !strings.Contains(plain(m), "/hel+o/") {
		t.Error("the screen does not say rows are hidden by /hel+o/")
	}
	// A bad regex is reported and the input stays open.
	press(m, "/", "backspace", "backspace", "backspace", "backspace", "backspace")
	typeText(m, "(")
	press(m, "enter")
	if !m.prompt.open || !m.footer.isErr {
		t.Errorf("bad regex: open %v, error %v %q", m.prompt.open, m.footer.isErr, m.footer.notice)
	}
	press(m, "esc")
	if m.prompt.open || m.d.regex != "hel+o" {
		t.Errorf("esc: open %v, regex %q (want the old one kept)", m.prompt.open, m.d.regex)
	}
	press(m, "x")
	if len(m.list.ids) != all || m.d.regex != "" {
		t.Errorf("x: %d rows, regex %q", len(m.list.ids), m.d.regex)
	}
	// In the send box, / is text.
	l := liveModel(t, &sender{}, demo().events)
	press(l, "/")
	if l.prompt.open || l.compose.ta.Value() != "/" {
		t.Error("/ in the send box opened the filter")
	}
}

func TestToggles(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	dirs := func() (c, s int) {
		for _, id := range m.list.ids {
			switch m.d.store.at(id).dir {
			case c2s:
				c++
			case s2c:
				s++
			}
		}
		return
	}
	press(m, "d")
	if c, s := dirs(); c != 7 || s != 0 {
		t.Errorf("d: %d c2s, %d s2c rows", c, s)
	}
	press(m, "d")
	if c, s := dirs(); c != 0 || s != 6 {
		t.Errorf("d d: %d c2s, %d s2c rows", c, s)
	}
	press(m, "d")
	if c, s := dirs(); c != 7 || s != 6 {
		t.Errorf("d d d: %d c2s, %d s2c rows", c, s)
	}
	ops := func() map[inspect.OpCode]int {
		n := map[inspect.OpCode]int{}
		for _, id := range m.list.ids {
			n[m.d.store.at(id).op]++
		}
		return n
	}
	press(m, "o")
	if n := ops(); n[inspect.OpPing] != 0 || n[inspect.OpClose] != 0 || n[inspect.OpText] == 0 || n[inspect.OpContinuation] != 2 {
		t.Errorf("o (data): %v", n)
	}
	press(m, "o")
	if n := ops(); n[inspect.OpText] != 0 || n[inspect.OpPing] != 1 || n[inspect.OpClose] != 2 {
		t.Errorf("o o (control): %v", n)
	}
	press(m, "o")
	if len(m.list.ids) != m.list.inMode {
		t.Error("o o o does not show everything")
	}

	// m: one row per message; control frames stay.
	press(m, "m")
	if m.d.mode != modeMessages {
		t.Fatal("m does not switch to messages")
	}
	var kinds []string
	for _, id := range m.list.ids {
		r := m.d.store.at(id)
		kinds = append(kinds, r.kind.String()+":"+r.op.String())
	}
	want := "open:cont msg:text msg:text msg:text msg:text frame:ping frame:pong msg:binary msg:text msg:text frame:close frame:close end:cont"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("message rows:\n got %s\nwant %s", got, want)
	}
	press(m, "m")
	if m.d.mode != modeFrames || len(m.list.ids) != 15 {
		t.Errorf("m m: mode %v, %d rows", m.d.mode, len(m.list.ids))
	}
}

func TestFollowAndPause(t *testing.T) {
	s := newSession(1).open("ws://x", "", false)
	for range 50 {
		s.text(s2c, "tick")
	}
	m := newModel(t, fileOpts(), 80, 24, s.events)
	last := func() int { return len(m.list.ids) - 1 }
	if !m.list.follow || m.list.sel != last() {
		t.Fatalf("follow %v, sel %d of %d", m.list.follow, m.list.sel, last())
	}
	press(m, "k")
	if m.list.follow || m.list.sel != last()-1 {
		t.Fatalf("k: follow %v, sel %d", m.list.follow, m.list.sel)
	}
	sel := m.list.selected()
	more := newSession(1)
	more.t, more.seq = s.t, s.seq
	for range 5 {
		more.text(s2c, "new")
	}
	m.Update(batchMsg{events: more.events})
	if m.list.selected() != sel {
		t.Error("the selection moved while paused")
	}
	if m.list.unseen != 5 || !strings.Contains(plain(m), "paused +5") {
		t.Errorf("unseen %d; header %q", m.list.unseen, m.list.header())
	}
	press(m, "G")
	if !m.list.follow || m.list.sel != last() || m.list.unseen != 0 {
		t.Errorf("G: follow %v, sel %d of %d", m.list.follow, m.list.sel, last())
	}
	press(m, "f")
	if m.list.follow {
		t.Error("f does not pause")
	}
	press(m, "f")
	if !m.list.follow || m.list.sel != last() {
		t.Error("f does not resume")
	}
	// Reaching the last row resumes following.
	press(m, "k", "k", "j", "j")
	if !m.list.follow {
		t.Error("j to the last row does not resume following")
	}
}

func TestSelection(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	n := len(m.list.ids)
	check := func(keys string, want int) {
		t.Helper()
		press(m, strings.Fields(keys)...)
		if m.list.sel != want {
			t.Errorf("after %s: sel %d, want %d", keys, m.list.sel, want)
		}
		if m.list.sel < m.list.top || m.list.sel >= m.list.top+m.list.rows {
			t.Errorf("after %s: sel %d outside the rows drawn from %d", keys, m.list.sel, m.list.top)
		}
		if id := m.list.selected(); m.detail.id != id {
			t.Errorf("after %s: detail shows %d, want %d", keys, m.detail.id, id)
		}
	}
	check("g", 0)
	check("j j", 2)
	check("down", 3)
	check("up k", 1)
	check("k k k", 0)
	check("pgdown", m.list.rows-1)
	check("pgup", 0)
	check("end", n-1)
	check("home", 0)
	check("space", m.list.rows-1)
	check("G", n-1)
	check("j", n-1)
}

func TestPanes(t *testing.T) {
	m := liveModel(t, &sender{}, demo().events)
	steps := []struct {
		key  string
		want focus
	}{
		{"esc", focusList}, {"tab", focusDetail}, {"tab", focusSend}, {"tab", focusList},
		{"i", focusSend}, {"esc", focusList}, {"tab", focusDetail}, {"esc", focusList},
	}
	for _, s := range steps {
		press(m, s.key)
		if m.focus != s.want {
			t.Fatalf("%s: focus %v, want %v", s.key, m.focus, s.want)
		}
		if m.compose.ta.Focused() != (s.want == focusSend) {
			t.Fatalf("%s: send box focused %v", s.key, m.compose.ta.Focused())
		}
	}
	// Without a send box, tab cycles list and detail only.
	f := newModel(t, fileOpts(), 80, 24, demo().events)
	press(f, "tab", "tab")
	if f.focus != focusList {
		t.Errorf("inspect: tab tab gives %v", f.focus)
	}
	press(f, "i")
	if f.focus != focusList {
		t.Error("i focused a send box that does not exist")
	}
	// Keys scroll the pane with the focus.
	press(f, "g", "j", "j", "j", "tab")
	sel := f.list.sel
	press(f, "j", "j")
	if f.list.sel != sel || f.detail.off != 2 {
		t.Errorf("j in the detail: list sel %d (was %d), detail off %d", f.list.sel, sel, f.detail.off)
	}
	press(f, "G")
	if f.detail.off != f.detail.total()-f.detail.height {
		t.Errorf("G in the detail: off %d of %d", f.detail.off, f.detail.total())
	}
	press(f, "g")
	if f.detail.off != 0 {
		t.Error("g in the detail")
	}
	press(f, "z")
	if !f.zoom || f.lay.detailRows <= f.lay.listRows {
		t.Errorf("z: detail %d rows, list %d", f.lay.detailRows, f.lay.listRows)
	}
	checkScreen(t, f.Screen(), 80, 24)
}

func TestPayloadView(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	press(m, "g", "j", "j", "j") // the JSON text frame
	if m.detail.shown != viewJSON {
		t.Fatalf("auto view of JSON is %v", m.detail.shown)
	}
	for _, want := range []payloadView{viewHex, viewText, viewJSON, viewHex} {
		press(m, "v")
		if m.detail.shown != want || m.detail.want != want {
			t.Errorf("v: shown %v, want %v", m.detail.shown, want)
		}
	}
	if _, ok := m.detail.body.(hexLines); !ok {
		t.Errorf("hex body is %T", m.detail.body)
	}
	// The choice stays for the next rows; JSON falls back to text.
	press(m, "v", "v", "j", "j")
	if m.detail.want != viewJSON || m.detail.shown != viewText || !strings.Contains(strings.Join(m.detail.head, "\n"), "not JSON") {
		t.Errorf("json on a non-JSON payload: want %v shown %v", m.detail.want, m.detail.shown)
	}
}

func TestQuit(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	if !run(m, press(m, "q")) || m.Result().Quit != QuitKey || m.Result().Quit.CloseCode() != inspect.CloseNormal {
		t.Errorf("q: %v", m.Result())
	}
	l := liveModel(t, &sender{}, nil)
	if run(l, press(l, "q")) {
		t.Error("q in the send box quits")
	}
	if l.compose.ta.Value() != "q" {
		t.Error("q in the send box is not typed")
	}
	if !run(l, press(l, "ctrl+c")) || l.Result().Quit != QuitInterrupt || l.Result().Quit.CloseCode() != inspect.CloseGoingAway {
		t.Errorf("ctrl+c: %v", l.Result())
	}
	// Overlays close with q instead of quitting.
	h := newModel(t, fileOpts(), 80, 24, nil)
	press(h, "?")
	if run(h, press(h, "q")) || h.overlay != overlayNone {
		t.Error("q in help")
	}
}

func TestConnections(t *testing.T) {
	m := newModel(t, Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true}, 80, 24, twoClients())
	if !m.d.multi || !strings.Contains(m.list.header(), "conn") {
		t.Fatal("no connection column")
	}
	conns := func() []int32 {
		var ids []int32
		for _, id := range m.list.ids {
			if c := m.d.store.at(id).conn; !slices.Contains(ids, c) {
				ids = append(ids, c)
			}
		}
		return ids
	}
	press(m, "]")
	if m.d.conn != 1 || !slices.Equal(conns(), []int32{1}) {
		t.Errorf("]: conn %d, rows of %v", m.d.conn, conns())
	}
	press(m, "]")
	if m.d.conn != 2 || !slices.Equal(conns(), []int32{2}) {
		t.Errorf("] ]: conn %d, rows of %v", m.d.conn, conns())
	}
	if !strings.Contains(plain(m), "conn #2") {
		t.Error("status bar does not name the connection")
	}
	press(m, "]")
	if m.d.conn != 0 || len(conns()) != 2 {
		t.Errorf("] ] ]: back to all: conn %d", m.d.conn)
	}
	press(m, "[")
	if m.d.conn != 2 {
		t.Errorf("[: conn %d", m.d.conn)
	}
	press(m, "c")
	if m.overlay != overlayConns || m.picker.sel != 2 {
		t.Fatalf("c: overlay %v sel %d", m.overlay, m.picker.sel)
	}
	press(m, "k", "enter")
	if m.overlay != overlayNone || m.d.conn != 1 {
		t.Errorf("k enter: overlay %v conn %d", m.overlay, m.d.conn)
	}
	press(m, "c", "k", "enter")
	if m.d.conn != 0 {
		t.Errorf("choosing all: conn %d", m.d.conn)
	}
	press(m, "c", "esc")
	if m.overlay != overlayNone {
		t.Error("esc does not close the list")
	}
	// One connection, then a second: the id column appears.
	one := newModel(t, fileOpts(), 80, 24, demo().events)
	if one.d.multi {
		t.Error("multi with one connection")
	}
	one.Update(batchMsg{events: newSession(2).open("ws://y", "", false).events})
	if !one.d.multi {
		t.Error("a second connection does not show ids")
	}
}

func TestMouse(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	wheel := func(b tea.MouseButton, y int) {
		m.Update(tea.MouseWheelMsg{X: 10, Y: y, Button: b})
	}
	last := len(m.list.ids) - 1
	wheel(tea.MouseWheelUp, m.lay.listTop+1)
	if m.list.follow || m.list.sel != last-3 {
		t.Errorf("wheel up: follow %v sel %d", m.list.follow, m.list.sel)
	}
	wheel(tea.MouseWheelDown, m.lay.listTop+1)
	if !m.list.follow {
		t.Error("wheel down to the end does not follow")
	}
	m.Update(tea.MouseClickMsg{X: 10, Y: m.lay.listTop + 2, Button: tea.MouseLeft})
	if m.list.sel != m.list.top+2 || m.list.follow {
		t.Errorf("click: sel %d, top %d", m.list.sel, m.list.top)
	}
	m.Update(tea.MouseClickMsg{X: 10, Y: m.lay.detailTop + 1, Button: tea.MouseLeft})
	if m.focus != focusDetail {
		t.Error("a click in the detail does not focus it")
	}
	wheel(tea.MouseWheelDown, m.lay.detailTop+1)
	if m.detail.off != 3 {
		t.Errorf("wheel in the detail: off %d", m.detail.off)
	}
}

func TestResize(t *testing.T) {
	m := liveModel(t, &sender{}, demo().events)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 15}, {40, 10}, {20, 6}, {200, 60}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkScreen(t, m.Screen(), size[0], size[1])
		press(m, "esc", "?")
		checkScreen(t, m.Screen(), size[0], size[1])
		press(m, "esc", "c")
		checkScreen(t, m.Screen(), size[0], size[1])
		press(m, "esc", "i")
	}
}

func TestScrollback(t *testing.T) {
	s := newSession(1).open("ws://x", "", false)
	for range 600 {
		s.text(c2s, "0123456789")
	}
	opts := fileOpts()
	opts.Scrollback = 100
	opts.Recording = "rec.wsrec.jsonl"
	m := newModel(t, opts, 80, 24, s.events)
	if m.d.store.len() != 100 || m.d.dropped != len(s.events)-100 {
		t.Fatalf("kept %d, dropped %d", m.d.store.len(), m.d.dropped)
	}
	if !strings.Contains(m.list.header(), "1,101 dropped") {
		t.Errorf("header %q", m.list.header())
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if !strings.Contains(m.list.header(), "1,101 dropped, in recording") {
		t.Errorf("header %q", m.list.header())
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if len(m.list.ids) != 50 || m.list.inMode != 50 {
		t.Errorf("%d rows shown of %d", len(m.list.ids), m.list.inMode)
	}
	// The connection's counters cover every frame, kept or not.
	if c := m.d.conns.byID[1]; c.frames[c2s] != 600 {
		t.Errorf("counted %d frames", c.frames[c2s])
	}
	// Payload bytes are bounded too, shared payloads counted once.
	opts.Scrollback, opts.MaxBytes = 0, 1000
	b := newModel(t, opts, 80, 24, s.events)
	// 100 frames of 10 bytes, their messages, and the message of the
	// frame dropped last, whose bytes were counted with that frame.
	if b.d.store.bytes != 1000 || b.d.store.len() != 201 {
		t.Errorf("MaxBytes 1000: %d bytes in %d rows", b.d.store.bytes, b.d.store.len())
	}
	// Paused on a row that is then dropped: the selection stays in range.
	press(m, "g")
	m.Update(batchMsg{events: s.events[1:200]})
	checkScreen(t, m.Screen(), 80, 24)
	if m.list.sel != 0 || m.list.selected() != m.list.ids[0] {
		t.Errorf("sel %d after its row was dropped", m.list.sel)
	}
}

func TestSharedPayload(t *testing.T) {
	s := newSession(1).open("ws://x", "", true)
	s.text(c2s, "shared").deflated(s2c, "not shared").fragmented(c2s, inspect.OpText, "not shared either", 5)
	m := newModel(t, fileOpts(), 80, 24, s.events)
	var shared, msgs int
	for id := m.d.store.first; id < m.d.store.next; id++ {
		r := m.d.store.at(id)
		if r.kind == inspect.KindMsg {
			msgs++
			if r.has(flagShared) {
				shared++
				if string(r.payload) != "shared" {
					t.Errorf("shared %q", r.payload)
				}
			}
		}
	}
	if msgs != 3 || shared != 1 {
		t.Errorf("%d messages, %d shared", msgs, shared)
	}
	if want := int64(len("shared") + len(s.events[3].Frame.Payload) + len("not shared") + len("not shared either")*2); m.d.store.bytes != want {
		t.Errorf("%d payload bytes kept, want %d", m.d.store.bytes, want)
	}
}

func TestRowRoundTrip(t *testing.T) {
	s := demo()
	// Add a frame whose header is not the minimal one and a violation.
	s.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len64, Length: 3}, []byte("odd"))
	s.frame(s2c, inspect.Header{Fin: true, Rsv: inspect.Rsv2, Op: 0x3}, []byte{1})
	m := newModel(t, fileOpts(), 80, 24, s.events)
	for i, e := range s.events {
		got := m.d.store.at(i).event()
		a, b := string(record.AppendEvent(nil, e)), string(record.AppendEvent(nil, got))
		if a != b {
			t.Errorf("event %d:\n got %s\nwant %s", i, b, a)
		}
	}
}

func TestReadBatch(t *testing.T) {
	ch := make(chan []*inspect.Event, 4)
	e := func() *inspect.Event { return &inspect.Event{Kind: inspect.KindNote} }
	first := make([]*inspect.Event, 1, 8)
	first[0] = e()
	ch <- first
	ch <- []*inspect.Event{e(), e()}
	ch <- []*inspect.Event{e()}
	src := &batches{ch: ch}
	b := src.read()
	if len(b.events) != 4 || b.done {
		t.Errorf("gathered %d events, done %v", len(b.events), b.done)
	}
	if &first[:2][1] == &b.events[1] {
		t.Error("appended into the sender's array")
	}
	close(ch)
	if b := src.read(); !b.done || len(b.events) != 0 {
		t.Errorf("closed: %+v", b)
	}
}

// A flood that waited in the Feed leaves in batches of maxBatch, in order,
// so that a key press never waits behind all of it.
func TestReadBatchBounded(t *testing.T) {
	ch := make(chan []*inspect.Event, 2)
	n := 2*maxBatch + 5
	flood := make([]*inspect.Event, n)
	for i := range flood {
		flood[i] = &inspect.Event{Kind: inspect.KindNote, Conn: i}
	}
	ch <- flood
	ch <- []*inspect.Event{{Kind: inspect.KindNote, Conn: n}}
	close(ch)
	src := &batches{ch: ch}
	var sizes []int
	next := 0
	for {
		b := src.read()
		sizes = append(sizes, len(b.events))
		for _, e := range b.events {
			if e.Conn != next {
				t.Fatalf("event %d where %d was due", e.Conn, next)
			}
			next++
		}
		if b.done {
			break
		}
		if len(sizes) > 10 {
			t.Fatalf("no end after batches of %v", sizes)
		}
	}
	if next != n+1 || sizes[0] != maxBatch || sizes[1] != maxBatch {
		t.Errorf("batches of %v, %d events of %d", sizes, next, n+1)
	}
}

func TestNoColor(t *testing.T) {
	m := newModel(t, Options{NoColor: true}, 80, 24, demo().events)
	checkScreen(t, m.Screen(), 80, 24)
	st := PlainStyles()
	all := append([]lipgloss.Style{st.Bar, st.Selected, st.Header, st.Violation, st.Prompt, st.Text, st.Dim}, st.Op[:]...)
	for i, s := range all {
		_, fg := s.GetForeground().(lipgloss.NoColor)
		_, bg := s.GetBackground().(lipgloss.NoColor)
		if !fg || !bg {
			t.Errorf("plain style %d has a colour", i)
		}
	}
}

// TestRun drives Run itself: keys from a pipe, the screen to a buffer.
func TestRun(t *testing.T) {
	t.Run("q", func(t *testing.T) {
		in, w := io.Pipe()
		out := &lockedBuffer{}
		f := NewFeed(0)
		for _, e := range demo().events {
			f.Add(e)
		}
		f.Close()
		done := make(chan struct{})
		var res Result
		var err error
		go func() {
			res, err = Run(context.Background(), Options{Title: "t", NoColor: true, Input: in, Output: out}, f.Events())
			close(done)
		}()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "1000 Normal Closure"); {
			if time.Now().After(deadline) {
				t.Fatalf("the events were not drawn: %q", out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		w.Write([]byte("q"))
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after q")
		}
		if err != nil || res.Quit != QuitKey {
			t.Errorf("Run: %v, %v", res, err)
		}
	})
	t.Run("context", func(t *testing.T) {
		in, _ := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		var res Result
		var err error
		go func() {
			res, err = Run(ctx, Options{Live: true, NoColor: true, Input: in, Output: io.Discard}, nil)
			close(done)
		}()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		if err != nil || res.Quit != QuitContext {
			t.Errorf("Run: %v, %v", res, err)
		}
	})
}

func TestStates(t *testing.T) {
	state := func(opts Options, events []*inspect.Event) string {
		m := newModel(t, opts, 120, 40, events)
		s, _ := m.status.stateText()
		return s
	}
	live := liveOpts()
	listen := Options{Live: true, Multi: true}
	s := newSession(1)
	opened := slices.Clone(s.open("ws://x", "", false).events)
	closing := slices.Clone(s.close(c2s, 4000, "").events)
	ended := slices.Clone(s.end(inspect.CloseAbnormal, "").events)
	cases := []struct {
		name   string
		opts   Options
		events []*inspect.Event
		want   string
	}{
		{"connecting", live, nil, "connecting…"},
		{"listening", listen, nil, "listening"},
		{"failed", live, []*inspect.Event{{Kind: inspect.KindError, Conn: 1, Text: "dial tcp: connection refused"}}, "failed: dial tcp: connection refused"},
		{"open", live, opened, "open"},
		{"closing", live, closing, "closing"},
		{"closed abnormally", live, ended, "closed 1006 Abnormal Closure, not clean"},
		{"clients", listen, twoClients(), "2 connections: 1 open, 1 closed"},
		{"a storm of clients", listen, listenStorm(), "8 connections: 1 open, 1 closed, 6 failed"},
		{"one client", listen, newSession(1).open("ws://x", "", false).events, "open"},
		{"reconnects", Options{Live: true, Reconnect: true, Send: live.Send}, reconnects(), "open · reconnect attempts 7, 6 failed"},
		{"reconnect pending", Options{Live: true, Reconnect: true, Send: live.Send}, reconnects()[:len(reconnects())-1], "failed: dial tcp 127.0.0.1:8080: connect: connection refused · reconnect attempts 6, 6 failed"},
		{"file", fileOpts(), twoClients(), "2 connections"},
		{"empty file", fileOpts(), nil, "reading…"},
	}
	for _, c := range cases {
		if got := state(c.opts, c.events); got != c.want {
			t.Errorf("%s: state %q, want %q", c.name, got, c.want)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestHelpKeys(t *testing.T) {
	m := liveModel(t, &sender{}, demo().events)
	m.Update(keyMsg("f1"))
	if m.overlay != overlayHelp {
		t.Fatal("F1 in the send box does not show help")
	}
	press(m, "j", "j", "pgdown")
	if m.help.off == 0 {
		t.Error("help does not scroll")
	}
	press(m, "pgup")
	if m.help.off != 0 {
		t.Errorf("help offset %d after pgup", m.help.off)
	}
	press(m, "?")
	if m.overlay != overlayNone {
		t.Error("? does not close help")
	}
	press(m, "esc", "?")
	if m.overlay != overlayHelp {
		t.Error("? in the list does not show help")
	}
}

// compressedSession has a compressed message in one frame, one in two
// frames, and plain text around them.
func compressedSession() *session {
	s := newSession(1).open("ws://x", "", true)
	s.text(c2s, "plain hello")
	s.deflated(s2c, "hello from one compressed frame")
	z := deflate([]byte("hello from two compressed frames"))
	s.frame(s2c, inspect.Header{Rsv: inspect.Rsv1, Op: inspect.OpText}, z[:len(z)/2])
	s.ping(c2s, "between")
	s.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpContinuation}, z[len(z)/2:])
	s.text(s2c, "goodbye")
	return s
}

// shownSeqs lists the frame rows shown, by Seq.
func shownSeqs(m *Model) []uint64 {
	var seqs []uint64
	for _, id := range m.list.ids {
		if r := m.d.store.at(id); r.kind == inspect.KindFrame {
			seqs = append(seqs, r.seq)
		}
	}
	return seqs
}

// TestFilterReadsCompressedFrames: the regex reads a compressed frame as
// its message, inflated, whether the filter is set on the rows kept or
// the frames arrive under it, before their message.
func TestFilterReadsCompressedFrames(t *testing.T) {
	events := compressedSession().events
	// Frames 1 (plain), 2 (one compressed frame), 3 and 5 (two), not
	// the ping (4) nor 6 (goodbye).
	want := []uint64{1, 2, 3, 5}

	m := newModel(t, fileOpts(), 80, 24, events)
	press(m, "/")
	typeText(m, "hello")
	press(m, "enter")
	if got := shownSeqs(m); !slices.Equal(got, want) {
		t.Errorf("filter on the rows kept: frames %v shown, want %v", got, want)
	}

	live := newModel(t, fileOpts(), 80, 24, nil)
	if err := live.setFilterRegex("hello"); err != nil {
		t.Fatal(err)
	}
	press(live, "f") // paused: rows shown before the selection move it on
	for _, e := range events {
		live.Update(batchMsg{events: []*inspect.Event{e}})
	}
	if got := shownSeqs(live); !slices.Equal(got, want) {
		t.Errorf("frames arriving under the filter: frames %v shown, want %v", got, want)
	}
	if !slices.IsSorted(live.list.ids) || live.list.unseen != len(live.list.ids) {
		t.Errorf("rows %v, %d unseen", live.list.ids, live.list.unseen)
	}

	// The bytes on the wire are not what the regex reads.
	press(m, "/", "ctrl+u")
	m.prompt.in.SetValue("^J")
	press(m, "enter")
	if got := shownSeqs(m); len(got) != 0 {
		t.Errorf("regex on the compressed bytes matched frames %v", got)
	}
}

// TestHexOfCompressedFrame: the hex view of a compressed frame shows the
// bytes as they crossed, then the message inflated, in lines that fit the
// pane, and the pane scrolls to the end of both.
func TestHexOfCompressedFrame(t *testing.T) {
	for _, w := range []int{80, 120} {
		m := newModel(t, fileOpts(), w, 24, compressedSession().events)
		press(m, "g", "j", "j") // frame 2
		press(m, "v", "v")      // json (not JSON, text), then hex
		if m.detail.shown != viewHex {
			t.Fatalf("%d columns: view %v", w, m.detail.shown)
		}
		right := w
		if m.detail.split {
			right = w - m.detail.fieldsWidth() - 3
		}
		body := m.detail.body
		var text strings.Builder
		for i := range body.Len() {
			l := body.Line(i)
			if len(l) > right {
				t.Fatalf("%d columns: line %d is %d wide, the pane %d: %q", w, i, len(l), right, l)
			}
			text.WriteString(l + "\n")
		}
		if s := text.String(); !strings.Contains(s, "the message inflated, 31 bytes:") || !strings.Contains(s, "|hello fr") {
			t.Errorf("%d columns: no inflated bytes in\n%s", w, s)
		}
		press(m, "tab", "G")
		if m.detail.off == 0 || !strings.Contains(plain(m), "d frame|") {
			t.Errorf("%d columns: G in the detail: off %d\n%s", w, m.detail.off, plain(m))
		}
	}
}

// TestRowPreviews: a continuation previews as what its message is, and an
// RSV1 frame on a connection without permessage-deflate as its opcode
// says, beside its violation.
func TestRowPreviews(t *testing.T) {
	s := newSession(1).open("ws://x", "", false)
	s.frame(s2c, inspect.Header{Op: inspect.OpBinary}, []byte{0, 1})
	s.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpContinuation}, []byte("\t\n\n\n"))
	s.frame(s2c, inspect.Header{Fin: true, Rsv: inspect.Rsv1, Op: inspect.OpText}, []byte("Hello"))
	m := newModel(t, fileOpts(), 120, 40, s.events)
	view := plain(m)
	for _, want := range []string{
		"← cont   F--- - --------        4 [cont 4 B] 09 0a 0a 0a",
		"← text   F1-- - --------        5 !! rsv-without-extension (RFC 6455 5.2) Hello",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("no %q in\n%s", want, view)
		}
	}
}

// The TUI starts in the dark sheet and takes the light one when the
// terminal answers light; NO_COLOR's plain sheet never changes.
func TestBackgroundAnswer(t *testing.T) {
	m := newModel(t, fileOpts(), 80, 24, demo().events)
	if m.st.Bar.GetBackground() != DefaultStyles(true).Bar.GetBackground() {
		t.Fatal("the first screen is not in the dark sheet")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if got, want := m.st.Bar.GetBackground(), DefaultStyles(false).Bar.GetBackground(); got != want {
		t.Errorf("after a light answer the bar is %v, want %v", got, want)
	}
	checkScreen(t, m.Screen(), 80, 24)

	p := newModel(t, Options{NoColor: true}, 80, 24, demo().events)
	p.Update(tea.BackgroundColorMsg{Color: color.White})
	if _, ok := p.st.Bar.GetBackground().(lipgloss.NoColor); !ok {
		t.Error("NO_COLOR took a colour from the background answer")
	}
}

// A batch not taken in within its time goes back to the source whole and
// in order, ahead of what the source holds next, and its end with it.
func TestIngestBudgetPutsBack(t *testing.T) {
	ch := make(chan []*inspect.Event, 1)
	m := New(Options{}, ch)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	events := make([]*inspect.Event, 1000)
	for i := range events {
		events[i] = &inspect.Event{Kind: inspect.KindNote, Conn: 1, Text: strconv.Itoa(i)}
	}
	n := m.ingest(events, time.Now().Add(-time.Second))
	if n == 0 || n >= len(events) {
		t.Fatalf("took %d of %d events past the deadline", n, len(events))
	}
	m.src.putBack(events[n:], true)
	close(ch)
	b := m.src.read()
	if !b.done || len(b.events) != len(events)-n || b.events[0] != events[n] {
		t.Fatalf("read back %d events (done %v), want the %d left", len(b.events), b.done, len(events)-n)
	}
	if m.ingest(b.events, time.Now().Add(time.Minute)) != len(b.events) || m.d.store.len() != len(events) {
		t.Errorf("%d rows kept, want %d", m.d.store.len(), len(events))
	}
}
