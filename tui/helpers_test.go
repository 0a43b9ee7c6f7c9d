package tui

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// session builds the events of a connection the way internal/wire makes
// them: each frame goes through an inspect.Assembler, which finds the
// violations and reassembles messages, and every event is copied by a
// Feed's clone, as the command layer would.
type session struct {
	t      time.Duration
	seq    uint64
	conn   int
	asm    [3]inspect.Assembler
	feed   *Feed
	events []*inspect.Event
}

var testMask = [4]byte{0x9f, 0x1c, 0x2a, 0x7e}

func newSession(conn int) *session {
	s := &session{conn: conn, feed: &Feed{last: map[feedKey]*inspect.Frame{}}}
	s.asm[inspect.ClientToServer].Dir = inspect.ClientToServer
	s.asm[inspect.ServerToClient].Dir = inspect.ServerToClient
	return s
}

func (s *session) tick() time.Duration {
	s.t += 1500 * time.Microsecond
	return s.t
}

func (s *session) emit(e *inspect.Event) {
	s.events = append(s.events, s.feed.clone(e))
}

// open adds the open event of a client connection.
func (s *session) open(url, sub string, deflate bool) *session {
	o := &inspect.Open{
		URL: url, Role: inspect.RoleClient, Subprotocol: sub,
		Local: "127.0.0.1:50000", Remote: "127.0.0.1:8080",
		Request: inspect.Request{Method: "GET", Target: "/echo", Proto: "HTTP/1.1", Headers: []inspect.HeaderField{
			{Name: "Host", Value: "127.0.0.1:8080"}, {Name: "Upgrade", Value: "websocket"}, {Name: "Authorization", Value: "Bearer secret"},
		}},
		Response: inspect.Response{Proto: "HTTP/1.1", Status: 101, Reason: "Switching Protocols", Headers: []inspect.HeaderField{
			{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"},
		}},
	}
	if deflate {
		o.Extensions = []inspect.Extension{{Name: "permessage-deflate", Params: []inspect.HeaderField{{Name: "client_no_context_takeover"}}}}
		s.asm[1].Deflate, s.asm[2].Deflate = true, true
	}
	s.emit(&inspect.Event{T: s.tick(), Kind: inspect.KindOpen, Conn: s.conn, Open: o})
	return s
}

// frame adds one frame with header h (Length and LenEnc filled in when
// zero) and, when it completes one, the message.
func (s *session) frame(dir inspect.Direction, h inspect.Header, p []byte) *session {
	s.seq++
	if h.Length == 0 {
		h.Length = uint64(len(p))
	}
	if h.LenEnc == 0 {
		h.LenEnc = inspect.MinimalLengthEncoding(h.Length)
	}
	if dir == inspect.ClientToServer && !h.Masked {
		h.Masked, h.Mask = true, testMask
	}
	f := &inspect.Frame{Seq: s.seq, Dir: dir, Header: h, Raw: inspect.AppendHeader(nil, h), Payload: p}
	if h.Op == inspect.OpClose {
		if c, ok := inspect.ParseClose(p); ok {
			f.Close = &c
		}
	}
	t := s.tick()
	msg, _ := s.asm[dir].Add(f)
	s.emit(&inspect.Event{T: t, Kind: inspect.KindFrame, Conn: s.conn, Frame: f})
	if msg != nil {
		if msg.Deflated {
			msg.Payload = inflate(msg.Payload)
		}
		s.emit(&inspect.Event{T: t, Kind: inspect.KindMsg, Conn: s.conn, Msg: msg})
	}
	return s
}

func (s *session) text(dir inspect.Direction, p string) *session {
	return s.frame(dir, inspect.Header{Fin: true, Op: inspect.OpText}, []byte(p))
}

func (s *session) binary(dir inspect.Direction, p []byte) *session {
	return s.frame(dir, inspect.Header{Fin: true, Op: inspect.OpBinary}, p)
}

// fragmented sends p in frames of n bytes.
func (s *session) fragmented(dir inspect.Direction, op inspect.OpCode, p string, n int) *session {
	for first := true; ; first = false {
		chunk := p[:min(n, len(p))]
		p = p[len(chunk):]
		h := inspect.Header{Fin: len(p) == 0, Op: inspect.OpContinuation}
		if first {
			h.Op = op
		}
		s.frame(dir, h, []byte(chunk))
		if len(p) == 0 {
			return s
		}
	}
}

// deflated sends p compressed in one frame with RSV1 (RFC 7692).
func (s *session) deflated(dir inspect.Direction, p string) *session {
	return s.frame(dir, inspect.Header{Fin: true, Rsv: inspect.Rsv1, Op: inspect.OpText}, deflate([]byte(p)))
}

func (s *session) ping(dir inspect.Direction, p string) *session {
	return s.frame(dir, inspect.Header{Fin: true, Op: inspect.OpPing}, []byte(p))
}

func (s *session) pong(dir inspect.Direction, p string) *session {
	return s.frame(dir, inspect.Header{Fin: true, Op: inspect.OpPong}, []byte(p))
}

func (s *session) close(dir inspect.Direction, code inspect.CloseCode, reason string) *session {
	return s.frame(dir, inspect.Header{Fin: true, Op: inspect.OpClose}, inspect.AppendClose(nil, code, reason))
}

func (s *session) end(code inspect.CloseCode, closer string) *session {
	e := &inspect.End{Clean: code != inspect.CloseAbnormal, Code: code, Closer: closer, TCP: "fin"}
	s.emit(&inspect.Event{T: s.tick(), Kind: inspect.KindEnd, Conn: s.conn, End: e})
	return s
}

func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func inflate(p []byte) []byte {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	out, _ := io.ReadAll(r)
	return out
}

const (
	c2s = inspect.ClientToServer
	s2c = inspect.ServerToClient
)

// demo is a short session with a bit of everything.
func demo() *session {
	s := newSession(1).open("ws://127.0.0.1:8080/echo", "chat", true)
	s.text(c2s, "hello")
	s.text(s2c, "hello")
	s.text(c2s, `{"op":"subscribe","channel":"ticker","symbols":["BTC-USD","ETH-USD"],"depth":10}`)
	s.text(s2c, `{"type":"snapshot","channel":"ticker","data":{"BTC-USD":{"bid":"64123.5","ask":"64124.0"}}}`)
	s.ping(c2s, "p1")
	s.pong(s2c, "p1")
	s.binary(s2c, []byte{0x00, 0x01, 0x02, 0x03, 0xde, 0xad, 0xbe, 0xef, 'w', 's', 'c', 'o', 'p', 'e', 0x7f, 0xff, 0x10})
	s.fragmented(c2s, inspect.OpText, "a fragmented message in three frames", 13)
	s.deflated(s2c, strings.Repeat("compressible text, ", 20))
	s.close(c2s, inspect.CloseNormal, "bye")
	s.close(s2c, inspect.CloseNormal, "bye")
	s.end(inspect.CloseNormal, "client")
	return s
}

// newModel returns a model of opts at w×h that has taken in events.
func newModel(t testing.TB, opts Options, w, h int, events []*inspect.Event) *Model {
	t.Helper()
	m := New(opts, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	if events != nil {
		m.Update(batchMsg{events: events})
	}
	return m
}

// press sends keys to m: names as bubbletea spells them ("enter",
// "ctrl+c", "alt+enter") or runes to type.
func press(m *Model, keys ...string) tea.Cmd {
	var last tea.Cmd
	for _, k := range keys {
		_, last = m.Update(keyMsg(k))
	}
	return last
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "alt+enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt}
	case "ctrl+j":
		return tea.KeyPressMsg{Code: 'j', Mod: tea.ModCtrl}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "f1":
		return tea.KeyPressMsg{Code: tea.KeyF1}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// typeText types s into m, one rune per key.
func typeText(m *Model, s string) {
	for _, r := range s {
		if r == ' ' {
			m.Update(keyMsg("space"))
			continue
		}
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// run executes cmd and what it returns, feeding messages back to m, as
// the program would; tea.Quit stops it. It reports whether m quit.
func run(m *Model, cmd tea.Cmd) bool {
	for cmd != nil {
		msg := cmd()
		switch msg := msg.(type) {
		case tea.QuitMsg:
			return true
		case tea.BatchMsg:
			quit := false
			for _, c := range msg {
				quit = run(m, c) || quit
			}
			return quit
		case nil:
			return false
		}
		_, cmd = m.Update(msg)
	}
	return false
}

// plain is m's screen as text, without its styles.
func plain(m *Model) string { return ansi.Strip(m.Screen()) }
