package tui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/wscope/wscope/inspect"
)

// liveOpts is a connect session; fileOpts an inspect one.
func liveOpts() Options {
	return Options{
		Title:     "ws://127.0.0.1:8080/echo",
		Live:      true,
		Recording: "session.wsrec.jsonl",
		Send:      func(int, string) error { return nil },
	}
}

func fileOpts() Options { return Options{Title: "session.wsrec.jsonl"} }

// A screen is a model state reached from events and keys, run in a real
// Bubble Tea program by teatest.
type screen struct {
	name   string
	opts   Options
	events []*inspect.Event
	keys   []string // key names, or "type:text"
}

func screens() []screen {
	all := demo().events
	// The first half of the demo: still open, mid-traffic.
	openOnly := newSession(1).open("ws://127.0.0.1:8080/echo", "chat", true)
	openOnly.text(c2s, "hello").text(s2c, "hello")
	openOnly.text(c2s, `{"op":"subscribe","channel":"ticker"}`)
	openOnly.text(s2c, `{"type":"snapshot","channel":"ticker","data":{"BTC-USD":{"bid":"64123.5"}}}`)
	openOnly.ping(c2s, "p1").pong(s2c, "p1")

	// rowsTo selects the row whose index in the frame list is i.
	rowsTo := func(i int) []string {
		keys := []string{"g"}
		for range i {
			keys = append(keys, "j")
		}
		return keys
	}
	browse := func(keys ...string) []string { return append([]string{"esc"}, keys...) }

	return []screen{
		{name: "connecting", opts: liveOpts()},
		{name: "live_list", opts: liveOpts(), events: openOnly.events},
		{name: "detail_text", opts: fileOpts(), events: all, keys: rowsTo(3)},
		{name: "detail_binary", opts: fileOpts(), events: all, keys: rowsTo(7)},
		{name: "detail_fragmented", opts: fileOpts(), events: all, keys: rowsTo(8)},
		{name: "detail_fragmented_message", opts: fileOpts(), events: all, keys: append([]string{"m"}, rowsTo(8)...)},
		{name: "detail_compressed", opts: fileOpts(), events: all, keys: rowsTo(11)},
		{name: "detail_compressed_hex", opts: fileOpts(), events: all, keys: append(rowsTo(11), "v", "v")},
		{name: "detail_close", opts: fileOpts(), events: all, keys: rowsTo(12)},
		{name: "detail_close_zoom", opts: fileOpts(), events: all, keys: append(rowsTo(12), "z")},
		{name: "detail_text_zoom", opts: fileOpts(), events: all, keys: append(rowsTo(3), "z")},
		{name: "detail_open", opts: fileOpts(), events: all, keys: rowsTo(0)},
		{name: "filter_active", opts: liveOpts(), events: all, keys: browse("/", "type:ticker|hello", "enter", "d")},
		{name: "filter_input", opts: fileOpts(), events: all, keys: []string{"o", "/", "type:sub"}},
		{name: "help", opts: liveOpts(), events: all, keys: browse("?")},
		{name: "help_scrolled", opts: liveOpts(), events: all, keys: browse("?", "pgdown")},
		{name: "paused", opts: liveOpts(), events: openOnly.events, keys: browse("k", "k")},
		{name: "violations", opts: fileOpts(), events: violations(), keys: rowsTo(1)},
		{name: "previews", opts: fileOpts(), events: previews(), keys: rowsTo(2)},
		{name: "violations_messages", opts: fileOpts(), events: violations(), keys: []string{"m", "g", "j", "j", "j", "j", "j", "j"}},
		{name: "listen", opts: Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true, Send: liveOpts().Send}, events: twoClients()},
		{name: "listen_storm", opts: Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true, Send: liveOpts().Send}, events: listenStorm()},
		{name: "listen_storm_connections", opts: Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true, Send: liveOpts().Send}, events: listenStorm(), keys: browse("c")},
		{name: "reconnects", opts: Options{Title: "ws://127.0.0.1:8080/echo", Live: true, Reconnect: true, Send: liveOpts().Send}, events: reconnects()},
		{name: "correlated_jump", opts: fileOpts(), events: rpcPairs(), keys: []string{"m", "g", "j", "a"}},
		{name: "connections", opts: Options{Title: "ws://127.0.0.1:8080", Live: true, Multi: true, Send: liveOpts().Send}, events: twoClients(), keys: browse("c", "j", "j")},
	}
}

// rpcPairs is a JSON-RPC client whose calls a decoder paired with their
// answers, one answered out of order.
func rpcPairs() []*inspect.Event {
	s := newSession(1).open("ws://127.0.0.1:8080/rpc", "", false)
	rpc := func(dir inspect.Direction, p, typ, summary, id string, role inspect.CorrRole) {
		s.text(dir, p)
		s.events[len(s.events)-1].Msg.Decoded = []inspect.Decoded{{Protocol: "rpc", Type: typ, Summary: summary, Corr: "id " + id, CorrRole: role}}
	}
	rpc(c2s, `{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}`, "call", "rpc call sum id=1 [1,2]", "1", inspect.CorrRequest)
	rpc(c2s, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, "call", "rpc call ping id=2", "2", inspect.CorrRequest)
	rpc(s2c, `{"jsonrpc":"2.0","id":2,"result":"pong"}`, "result", `rpc result id=2 "pong"`, "2", inspect.CorrAnswer)
	rpc(s2c, `{"jsonrpc":"2.0","id":1,"result":3}`, "result", "rpc result id=1 3", "1", inspect.CorrAnswer)
	return s.events
}

// violations is a server that breaks the rules, one frame at a time.
func violations() []*inspect.Event {
	v := newSession(1).open("ws://127.0.0.1:8080/bad", "", false)
	text := func(p string) []byte { return []byte(p) }
	v.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpText, Masked: true, Mask: testMask}, text("masked by the server"))
	v.frame(s2c, inspect.Header{Fin: true, Rsv: inspect.Rsv2, Op: inspect.OpText}, text("rsv2 without extension"))
	v.frame(s2c, inspect.Header{Fin: true, Op: 0x3}, text("reserved opcode"))
	v.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len64}, text("length in 64 bits"))
	v.frame(s2c, inspect.Header{Fin: false, Op: inspect.OpPing}, text("fragmented ping"))
	v.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpContinuation}, text("orphan continuation"))
	v.text(s2c, "bad utf-8 \xff\xfe here")
	v.close(s2c, 999, "bad code")
	v.end(inspect.CloseProtocolError, "server")
	return v.events
}

// previews are payloads whose preview depends on more than their bytes:
// the continuations of a binary message that happen to be printable, and
// RSV1 on a connection that negotiated no extension.
func previews() []*inspect.Event {
	s := newSession(1).open("ws://127.0.0.1:8080/p", "", false)
	s.frame(s2c, inspect.Header{Op: inspect.OpBinary}, []byte{0x89, 'P', 'N', 'G'})
	s.frame(s2c, inspect.Header{Op: inspect.OpContinuation}, []byte("\t\n\n\n"))
	s.frame(s2c, inspect.Header{Fin: true, Op: inspect.OpContinuation}, []byte("IHDR"))
	s.frame(s2c, inspect.Header{Fin: true, Rsv: inspect.Rsv1, Op: inspect.OpText}, []byte("Hello"))
	return s.events
}

// listenStorm is what listen sees of 8 clients: one came and went, one
// stays, six failed their handshake.
func listenStorm() []*inspect.Event {
	var out []*inspect.Event
	t := time.Duration(0)
	for id := 1; id <= 8; id++ {
		t += time.Millisecond
		remote := fmt.Sprintf("127.0.0.1:%d", 50000+id)
		if id > 2 {
			out = append(out, &inspect.Event{T: t, Kind: inspect.KindError, Conn: id, Text: remote + ": handshake: missing Upgrade: websocket"})
			continue
		}
		s := newSession(id)
		s.t = t
		s.emit(&inspect.Event{T: s.tick(), Kind: inspect.KindOpen, Conn: id, Open: &inspect.Open{
			URL: "ws://127.0.0.1:8080", Role: inspect.RoleServer, Remote: remote, Local: "127.0.0.1:8080",
			Request: inspect.Request{Method: "GET", Target: "/ws", Proto: "HTTP/1.1"},
		}})
		if id == 1 {
			s.close(c2s, inspect.CloseNormal, "").close(s2c, inspect.CloseNormal, "").end(inspect.CloseNormal, "client")
		}
		out = append(out, s.events...)
		t = s.t
	}
	return out
}

// reconnects is connect --reconnect after 7 attempts: the first
// connection dropped, six dials failed, the seventh is open.
func reconnects() []*inspect.Event {
	first := newSession(1).open("ws://127.0.0.1:8080/echo", "", false)
	first.text(c2s, "hello").text(s2c, "hello").end(inspect.CloseAbnormal, "")
	out := first.events
	t := first.t
	for id := 2; id <= 7; id++ {
		t += 250 * time.Millisecond
		out = append(out,
			&inspect.Event{T: t, Kind: inspect.KindNote, Conn: id - 1, Text: fmt.Sprintf("reconnect attempt %d in 250ms", id-1)},
			&inspect.Event{T: t + time.Millisecond, Kind: inspect.KindError, Conn: id, Text: "dial tcp 127.0.0.1:8080: connect: connection refused"})
	}
	last := newSession(8)
	last.t = t + 300*time.Millisecond
	last.open("ws://127.0.0.1:8080/echo", "", false)
	return append(out, last.events...)
}

// twoClients is what listen sees of two clients, interleaved.
func twoClients() []*inspect.Event {
	a, b := newSession(1), newSession(2)
	b.t = 700 * time.Microsecond
	openServer := func(s *session, remote string) {
		s.emit(&inspect.Event{T: s.tick(), Kind: inspect.KindOpen, Conn: s.conn, Open: &inspect.Open{
			URL: "ws://127.0.0.1:8080", Role: inspect.RoleServer, Remote: remote, Local: "127.0.0.1:8080",
			Request: inspect.Request{Method: "GET", Target: "/ws", Proto: "HTTP/1.1"},
		}})
	}
	openServer(a, "127.0.0.1:50001")
	openServer(b, "127.0.0.1:50002")
	a.text(c2s, "from client one").text(s2c, "from client one")
	b.text(c2s, "from client two").text(s2c, "from client two")
	a.close(c2s, inspect.CloseGoingAway, "").close(s2c, inspect.CloseGoingAway, "").end(inspect.CloseGoingAway, "client")
	b.text(c2s, strings.Repeat("x", 300))
	var out []*inspect.Event
	out = append(out, a.events...)
	out = append(out, b.events...)
	// Interleave by time, as the feed would deliver them.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].T < out[j-1].T; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, sc := range screens() {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				view := runScreen(t, sc, size[0], size[1])
				checkScreen(t, view, size[0], size[1])
				teatest.RequireEqualOutput(t, []byte(ansi.Strip(view)))
			})
		}
	}
}

// runScreen plays a screen in a Bubble Tea program and returns the last
// view of the final model.
func runScreen(t *testing.T, sc screen, w, h int) string {
	t.Helper()
	m := New(sc.opts, nil)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	if sc.events != nil {
		tm.Send(batchMsg{events: sc.events})
	}
	for _, k := range sc.keys {
		if s, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range s {
				tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			continue
		}
		tm.Send(keyMsg(k))
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	return final.Screen()
}

// checkScreen asserts the layout holds: h lines, none wider than w.
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n != w {
			t.Errorf("line %d is %d columns, want %d: %q", i, n, w, l)
		}
	}
}

// TestGoldenFromChannel runs the whole path: a Feed filled from another
// goroutine, batches read by the model's command, a real program.
func TestGoldenFromChannel(t *testing.T) {
	f := NewFeed(0)
	go func() {
		for _, e := range demo().events {
			f.Add(e)
		}
		f.Close()
	}()
	tm := teatest.NewTestModel(t, New(fileOpts(), f.Events()), teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("clean"))
	}, teatest.WithDuration(5*time.Second))
	tm.Send(keyMsg("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if final.Result().Quit != QuitKey {
		t.Errorf("quit = %v, want %v", final.Result().Quit, QuitKey)
	}
	if !final.d.srcDone {
		t.Error("the source is not seen as done")
	}
	if got, want := final.d.store.len(), len(demo().events); got != want {
		t.Errorf("%d rows kept, want %d", got, want)
	}
	view := final.Screen()
	checkScreen(t, view, 80, 24)
	teatest.RequireEqualOutput(t, []byte(ansi.Strip(view)))
}
