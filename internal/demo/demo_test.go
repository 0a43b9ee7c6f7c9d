package demo

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// step bounds every wait in these tests.
const step = 5 * time.Second

// start runs a demo server whose tour goes at once and whose ticker, after
// the tour's first tick, stays quiet unless the test says otherwise.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Step == 0 {
		opts.Step = time.Millisecond
	}
	if opts.Tick == 0 {
		opts.Tick = time.Hour
	}
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// inflate decompresses a permessage-deflate payload (RFC 7692 section
// 7.2.2) with the standard library, not wscope's inflater.
func inflate(t *testing.T, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(bytes.NewReader(append(slices.Clone(p), 0, 0, 0xff, 0xff)))
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// readFrames reads n frames off rc.
func readFrames(t *testing.T, rc *tp.RawConn, n int) []tp.Frame {
	t.Helper()
	var fs []tp.Frame
	for range n {
		f, err := rc.ReadFrame(step)
		if err != nil {
			t.Fatalf("after %v: %v", fs, err)
		}
		fs = append(fs, f)
	}
	return fs
}

// TestTourFramesOnTheWire reads the tour with a hand-written client that
// parses frames itself: every frame's header is what the tour promises,
// with and without permessage-deflate, and a typed close command closes
// with its code.
func TestTourFramesOnTheWire(t *testing.T) {
	t.Parallel()
	for _, compress := range []bool{true, false} {
		name := "plain"
		if compress {
			name = "deflate"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			toured := make(chan struct{}, 1)
			s := start(t, Options{OnTour: func() { toured <- struct{}{} }})
			var hs []tp.HeaderField
			if compress {
				hs = append(hs, tp.H("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))
			}
			rc := tp.DialRaw(t, s.URL(), tp.RawDialOptions{Headers: hs})
			if got := rc.Response().Status; got != 101 {
				t.Fatalf("status %d", got)
			}
			ext := rc.Response().Head.Get("Sec-WebSocket-Extensions")
			if compress != strings.HasPrefix(ext, "permessage-deflate") {
				t.Fatalf("Sec-WebSocket-Extensions %q with compression offered %v", ext, compress)
			}

			fs := readFrames(t, rc, 9)
			type want struct {
				fin  bool
				rsv  uint8
				op   inspect.OpCode
				enc  inspect.LengthEncoding
				text string // a prefix of the payload, when not compressed
			}
			big := want{true, 0, inspect.OpText, inspect.Len16, `{"type":"snapshot"`}
			if compress {
				big = want{true, inspect.Rsv1, inspect.OpText, inspect.Len16, ""}
			}
			wants := []want{
				{true, 0, inspect.OpText, inspect.Len16, "Welcome to the wscope demo"},
				{true, 0, inspect.OpText, inspect.Len7, `{"type":"tick","n":1,`},
				{false, 0, inspect.OpText, inspect.Len7, "this message was sent "},
				{false, 0, inspect.OpContinuation, inspect.Len7, "in three frames: "},
				{true, 0, inspect.OpContinuation, inspect.Len7, "text, cont, cont+FIN"},
				{true, 0, inspect.OpBinary, inspect.Len7, "\x89PNG\r\n\x1a\n"},
				{true, 0, inspect.OpPing, inspect.Len7, "are you there?"},
				big,
				{true, 0, inspect.OpText, inspect.Len7, "That was the tour."},
			}
			for i, w := range wants {
				f := fs[i]
				if f.Fin != w.fin || f.Rsv != w.rsv || f.Op != w.op || f.Masked || f.LenEnc != w.enc || !strings.HasPrefix(f.Text(), w.text) {
					t.Errorf("frame %d: %v, want fin=%v rsv=%03b %v unmasked %v %q...", i+1, f, w.fin, w.rsv, w.op, w.enc, w.text)
				}
			}
			payload := fs[7].Payload
			if compress {
				if len(payload) >= len(bigMessage())/2 {
					t.Errorf("compressed big message is %d bytes for %d", len(payload), len(bigMessage()))
				}
				payload = inflate(t, payload)
			}
			var snap struct {
				Type  string
				Items []json.RawMessage
			}
			if err := json.Unmarshal(payload, &snap); err != nil || snap.Type != "snapshot" || len(snap.Items) == 0 {
				t.Errorf("big message %.60q...: %v", payload, err)
			}
			select {
			case <-toured:
			case <-time.After(step):
				t.Fatal("OnTour was not called")
			}

			if err := rc.WriteFrame(tp.ClientFrame(inspect.OpText, []byte("close 4000 bye"))); err != nil {
				t.Fatal(err)
			}
			f := readFrames(t, rc, 1)[0]
			if c, ok := f.Close(); !ok || c.Code != 4000 || c.Reason != "bye" {
				t.Fatalf("got %v, want close 4000 \"bye\"", f)
			}
			if err := rc.WriteFrame(tp.ClientFrame(inspect.OpClose, tp.ClosePayload(4000, ""))); err != nil {
				t.Fatal(err)
			}
			if _, err := rc.WaitEOF(step); err != nil {
				t.Errorf("server did not close TCP after the handshake: %v", err)
			}
		})
	}
}

// TestTourWithALibraryClient plays the demo against gorilla/websocket,
// which negotiates permessage-deflate, reassembles and decompresses on its
// own: the messages it gets are the tour's, and every command answers.
func TestTourWithALibraryClient(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	c := tp.Dial(t, s.URL()+"any/path", tp.ClientOptions{Compression: true})
	if ext := c.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("compression not negotiated: %q", ext)
	}
	read := func() tp.Msg {
		t.Helper()
		m, err := c.Read(step)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, w := range []tp.Msg{
		tp.TextMsg(welcome),
		tp.TextMsg(`{"type":"tick","n":1,`),
		tp.TextMsg("this message was sent in three frames: text, cont, cont+FIN"),
		tp.BinaryMsg(sampleBinary),
		tp.TextMsg(string(bigMessage())),
		tp.TextMsg(tourEnd),
	} {
		if m := read(); m.Binary != w.Binary || !bytes.HasPrefix(m.Data, w.Data) {
			t.Fatalf("got %v, want %v", m, w)
		}
	}
	if p := c.Pings(); len(p) != 1 || string(p[0]) != "are you there?" {
		t.Errorf("pings %q", p)
	}

	for _, tc := range []struct {
		send tp.Msg
		want tp.Msg
	}{
		{tp.TextMsg("hello"), tp.TextMsg("hello")},
		{tp.BinaryMsg([]byte{0, 1, 2}), tp.BinaryMsg([]byte{0, 1, 2})},
		{tp.TextMsg("help"), tp.TextMsg(help)},
		{tp.TextMsg("fragment abcdef"), tp.TextMsg("abcdef")},
		{tp.TextMsg("binary"), tp.BinaryMsg(sampleBinary)},
		{tp.TextMsg("big"), tp.TextMsg(string(bigMessage()))},
		{tp.TextMsg("ticker off"), tp.TextMsg("ticker off")},
		{tp.TextMsg("ticker sideways"), tp.TextMsg("usage: ticker on|off")},
		{tp.TextMsg("close 1005"), tp.TextMsg(`close: "1005" is not a close code that may be sent (try 1000, 1001, 1011, 3000-3999 or 4000-4999)`)},
		{tp.TextMsg("close x"), tp.TextMsg(`close: "x" is not a close code that may be sent (try 1000, 1001, 1011, 3000-3999 or 4000-4999)`)},
	} {
		if err := c.Send(tc.send); err != nil {
			t.Fatal(err)
		}
		if m := read(); m.Binary != tc.want.Binary || !bytes.Equal(m.Data, tc.want.Data) {
			t.Errorf("%v: got %v, want %v", tc.send, m, tc.want)
		}
	}

	if err := c.Send(tp.TextMsg("ping custom payload")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(tp.TextMsg("close 4321 as asked")); err != nil {
		t.Fatal(err)
	}
	st, ok := c.WaitClosed(step)
	if !ok || st.Code != 4321 || st.Reason != "as asked" {
		t.Errorf("close %v %v, want 4321 \"as asked\"", st, ok)
	}
	if p := c.Pings(); len(p) != 2 || string(p[1]) != "custom payload" {
		t.Errorf("pings %q", p)
	}
}

// TestTickerIsBounded: the ticker stops after MaxTicks and says so.
func TestTickerIsBounded(t *testing.T) {
	t.Parallel()
	s := start(t, Options{Tick: time.Millisecond, MaxTicks: 3})
	c := tp.Dial(t, s.URL(), tp.ClientOptions{})
	// ticksUntil reads messages up to last and counts the ticks among them.
	ticksUntil := func(last string) int {
		t.Helper()
		n := 0
		for {
			m, err := c.Read(step)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.HasPrefix(m.Data, []byte(`{"type":"tick"`)) {
				n++
			}
			if string(m.Data) == last {
				return n
			}
		}
	}
	ticks := ticksUntil("the ticker stopped after 3 ticks")
	// Whatever comes before the answer to help is counted too: no tick.
	if err := c.Send(tp.TextMsg("help")); err != nil {
		t.Fatal(err)
	}
	ticks += ticksUntil(help)
	if ticks != 3 {
		t.Errorf("%d ticks, want 3", ticks)
	}
}

func TestCloseClosesClientsWithGoingAway(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	c := tp.Dial(t, s.URL(), tp.ClientOptions{})
	if _, err := c.Read(step); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 {
		t.Errorf("close %v %v, want 1001", st, ok)
	}
	if _, _, err := tp.TryDial(t, s.URL(), tp.ClientOptions{}); err == nil {
		t.Error("a closed server accepted a client")
	}
}

func TestSessionIsBounded(t *testing.T) {
	t.Parallel()
	s := start(t, Options{MaxSession: 20 * time.Millisecond})
	c := tp.Dial(t, s.URL(), tp.ClientOptions{})
	if st, ok := c.WaitClosed(step); !ok || st.Code != 1001 || !strings.Contains(st.Reason, "over") {
		t.Errorf("close %v %v, want 1001 \"...over...\"", st, ok)
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	s := start(t, Options{MaxConns: 1})
	tp.Dial(t, s.URL(), tp.ClientOptions{})
	_, resp, err := tp.TryDial(t, s.URL(), tp.ClientOptions{})
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("second client: %v %v, want 503", resp, err)
	}
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 70) // 140 bytes
	for _, tc := range []struct {
		in     string
		code   inspect.CloseCode
		reason string
		bad    bool
	}{
		{"", 1000, "", false},
		{"4000", 4000, "", false},
		{"4000 bye now ", 4000, "bye now", false},
		{"1001 going", 1001, "going", false},
		{"3000 " + long, 3000, strings.Repeat("é", 61), false},
		{"1005", 0, "", true},
		{"999", 0, "", true},
		{"70000", 0, "", true},
		{"-1", 0, "", true},
		{"bye", 0, "", true},
	} {
		code, reason, bad := parseClose(tc.in)
		if code != tc.code || reason != tc.reason || (bad != "") != tc.bad {
			t.Errorf("parseClose(%q) = %v %q %q", tc.in, code, reason, bad)
		}
	}
}

func TestThirds(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"abcdef": {"ab", "cd", "ef"},
		"héllo!": {"hé", "ll", "o!"},
		"ab":     {"", "a", "b"},
		"a":      {"", "", "a"},
	} {
		var got []string
		for _, p := range thirds(in) {
			got = append(got, string(p))
		}
		if !slices.Equal(got, want) {
			t.Errorf("thirds(%q) = %q, want %q", in, got, want)
		}
	}
}
