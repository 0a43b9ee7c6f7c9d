package tui

import (
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

// The root routes each key to what has the focus; these tests press keys
// at a model and look at which pane moved.

// longDetail returns a live model at 80x24 over many rows, paused on a
// row whose detail is longer than its pane, with the focus on the list.
func longDetail(t *testing.T) *Model {
	t.Helper()
	s := newSession(1).open("ws://x", "", false)
	for range 40 {
		s.text(s2c, "tick")
	}
	m := liveModel(t, &sender{}, s.events)
	press(m, "esc", "k", "k")
	if m.focus != focusList || m.detail.total() <= m.detail.height {
		t.Fatalf("focus %v, detail %d lines in %d", m.focus, m.detail.total(), m.detail.height)
	}
	return m
}

func TestKeysGoToTheFocusedPane(t *testing.T) {
	m := longDetail(t)
	sel, off := m.list.sel, m.detail.off

	// The list has the focus: j and k move the selection, not the detail.
	press(m, "k")
	if m.list.sel != sel-1 || m.detail.off != off {
		t.Fatalf("k in the list: sel %d (was %d), detail off %d", m.list.sel, sel, m.detail.off)
	}
	sel = m.list.sel

	// The detail has it: the same keys scroll the detail.
	press(m, "tab")
	press(m, "j", "j")
	if m.list.sel != sel || m.detail.off != 2 {
		t.Fatalf("j j in the detail: sel %d (was %d), detail off %d", m.list.sel, sel, m.detail.off)
	}
	press(m, "pgdown")
	if m.list.sel != sel || m.detail.off <= 2 {
		t.Fatalf("pgdown in the detail: sel %d, off %d", m.list.sel, m.detail.off)
	}

	// The send box has it: keys are text, even the global ones.
	press(m, "i")
	if m.focus != focusSend || !m.compose.ta.Focused() {
		t.Fatalf("i: focus %v", m.focus)
	}
	mode, follow := m.d.mode, m.list.follow
	typeText(m, "jkmdvzfqx?c")
	if v := m.compose.ta.Value(); v != "jkmdvzfqx?c" {
		t.Errorf("typed %q into the send box", v)
	}
	if m.d.mode != mode || m.list.follow != follow || m.list.sel != sel || m.overlay != overlayNone || m.zoom || m.quit != QuitNone {
		t.Errorf("a letter typed in the send box reached the root: mode %v, follow %v, sel %d, overlay %v, zoom %v, quit %v",
			m.d.mode, m.list.follow, m.list.sel, m.overlay, m.zoom, m.quit)
	}
	// but the page keys, which the box has no use for, scroll the list,
	press(m, "pgup")
	if m.list.sel >= sel || m.focus != focusSend {
		t.Errorf("pgup in the send box: sel %d (was %d), focus %v", m.list.sel, sel, m.focus)
	}
	// and esc leaves it.
	press(m, "esc")
	if m.focus != focusList || m.compose.ta.Focused() {
		t.Errorf("esc in the send box: focus %v", m.focus)
	}
}

// TestGlobalKeys: the keys of the root mean the same in the list and in
// the detail.
func TestGlobalKeys(t *testing.T) {
	for _, pane := range []focus{focusList, focusDetail} {
		m := longDetail(t)
		m.setFocus(pane)
		check := func(what string, ok bool) {
			t.Helper()
			if !ok {
				t.Errorf("focus %v: %s", pane, what)
			}
			if m.focus != pane {
				t.Errorf("focus %v: %s moved the focus to %v", pane, what, m.focus)
			}
		}
		press(m, "m")
		check("m shows messages", m.d.mode == modeMessages)
		press(m, "m")
		press(m, "d")
		check("d filters by direction", m.d.filter.From == c2s)
		press(m, "x")
		check("x clears the filter", !m.d.filter.Active())
		press(m, "v")
		check("v switches the payload view", m.detail.want != viewAuto)
		press(m, "f")
		check("f follows", m.list.follow)
		press(m, "z")
		check("z zooms", m.zoom)
		press(m, "z")
		press(m, "?")
		if m.overlay != overlayHelp {
			t.Errorf("focus %v: ? does not show help", pane)
		}
		press(m, "esc")
		press(m, "c")
		if m.overlay != overlayConns {
			t.Errorf("focus %v: c does not show the connections", pane)
		}
		press(m, "esc")
		m.setFocus(pane)
		press(m, "/")
		if !m.prompt.open {
			t.Errorf("focus %v: / does not open the filter", pane)
		}
		press(m, "esc")
		if !run(m, press(m, "q")) || m.quit != QuitKey {
			t.Errorf("focus %v: q does not quit", pane)
		}
	}
}

// TestOverlaysTakeTheKeys: the help screen, the connection list and the
// filter prompt take every key but their own way out.
func TestOverlaysTakeTheKeys(t *testing.T) {
	m := newModel(t, Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true, Send: liveOpts().Send}, 80, 24, twoClients())
	press(m, "esc")
	sel, mode := m.list.sel, m.d.mode

	press(m, "?", "j", "j", "m", "d")
	if m.overlay != overlayHelp || m.help.off != 2 || m.list.sel != sel || m.d.mode != mode || m.d.filter.Active() {
		t.Errorf("help: overlay %v, off %d, list sel %d, mode %v, filter %v", m.overlay, m.help.off, m.list.sel, m.d.mode, m.d.filter.Active())
	}
	if run(m, press(m, "q")) || m.overlay != overlayNone {
		t.Errorf("q in help: overlay %v, quit %v", m.overlay, m.quit)
	}

	press(m, "c", "j", "m")
	if m.overlay != overlayConns || m.picker.sel != 1 || m.list.sel != sel || m.d.mode != mode {
		t.Errorf("connections: overlay %v, sel %d, list sel %d, mode %v", m.overlay, m.picker.sel, m.list.sel, m.d.mode)
	}
	press(m, "enter")
	if m.overlay != overlayNone || m.d.conn != 1 {
		t.Errorf("enter in the connections: overlay %v, conn %d", m.overlay, m.d.conn)
	}

	press(m, "/")
	typeText(m, "mq")
	if !m.prompt.open || m.prompt.in.Value() != "mq" || m.d.mode != mode || m.quit != QuitNone {
		t.Errorf("filter prompt: open %v, value %q, mode %v, quit %v", m.prompt.open, m.prompt.in.Value(), m.d.mode, m.quit)
	}
	press(m, "esc")
	if m.prompt.open || m.d.regex != "" {
		t.Errorf("esc in the prompt: open %v, regex %q", m.prompt.open, m.d.regex)
	}
}

// TestInterruptEverywhere: Ctrl-C quits from every pane and overlay.
func TestInterruptEverywhere(t *testing.T) {
	for _, keys := range [][]string{
		{},                 // the send box
		{"esc"},            // the list
		{"esc", "tab"},     // the detail
		{"esc", "?"},       // help
		{"esc", "c"},       // connections
		{"esc", "/", "ab"}, // the filter prompt
	} {
		m := liveModel(t, &sender{}, demo().events)
		press(m, keys...)
		if !run(m, press(m, "ctrl+c")) || m.quit != QuitInterrupt {
			t.Errorf("after %q: ctrl+c gives quit %v", keys, m.quit)
		}
	}
}

// TestFooterFollowsTheFocus: the footer offers the keys of what has the
// focus, from the key map.
func TestFooterFollowsTheFocus(t *testing.T) {
	m := liveModel(t, &sender{}, demo().events)
	k := m.keys
	for _, c := range []struct {
		keys []string
		want []string
	}{
		{nil, helpKeys(k.composeHelp())},
		{[]string{"esc"}, helpKeys(k.ShortHelp())},
		{[]string{"?"}, helpKeys(k.helpScreenHelp())},
		{[]string{"esc", "c"}, helpKeys(k.connsHelp())},
	} {
		press(m, c.keys...)
		if got := helpKeys(m.footer.hints); !slices.Equal(got, c.want) {
			t.Errorf("after %q: footer %q, want %q", c.keys, got, c.want)
		}
	}
	// A notice stays until the next key.
	m.setNotice("saved")
	if !strings.Contains(plain(m), "saved") {
		t.Fatal("the notice is not on screen")
	}
	m.Update(keyMsg("down"))
	if m.footer.notice != "" {
		t.Error("the notice outlived a key")
	}
}

func helpKeys(bs []key.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Help().Key)
	}
	return out
}
