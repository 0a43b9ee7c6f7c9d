package wire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// repeated is long enough for coder/websocket to compress it (it leaves
// messages under 512 bytes alone) and sent several times, so that context
// takeover shows in the compressed sizes.
var repeated = strings.Repeat("the same text, again and again, so that context takeover matters. ", 10)

func dialCompress(t *testing.T, url string, cx *Compression, cfg Config) (*Conn, *inspect.Open, *recorder, error) {
	t.Helper()
	u, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg.OnEvent = rec.event
	c, open, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step, Compress: cx}, cfg)
	if err == nil {
		t.Cleanup(func() { c.Abort() })
	}
	return c, open, rec, err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(step)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMsgsFrom waits, up to d, for n messages sent in dir.
func (r *recorder) waitMsgsFrom(dir inspect.Direction, n int, d time.Duration) []inspect.Message {
	deadline := time.Now().Add(d)
	for {
		ms := r.msgsFrom(dir)
		if len(ms) >= n || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) msgsFrom(d inspect.Direction) []inspect.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ms []inspect.Message
	for _, m := range r.msgs {
		if m.Dir == d {
			ms = append(ms, m)
		}
	}
	return ms
}

// checkDeflated checks three messages of direction d: decompressed, marked
// deflated, the second smaller on the wire than the first when the sender
// keeps its context, and RSV1 on their first frames only.
func checkDeflated(t *testing.T, rec *recorder, d inspect.Direction, takeover bool) {
	t.Helper()
	// A sent frame is reported once written: the peer may read it first.
	ms := rec.waitMsgsFrom(d, 3, step)
	if len(ms) != 3 {
		t.Fatalf("%s: %d messages", d, len(ms))
	}
	for i, m := range ms {
		if !m.Deflated || string(m.Payload) != repeated || m.WireLen >= len(repeated) || len(m.Violations) > 0 {
			t.Errorf("%s message %d: deflated=%v wire=%d %q %v", d, i, m.Deflated, m.WireLen, m.Payload, m.Violations)
		}
	}
	if takeover && ms[1].WireLen >= ms[0].WireLen {
		t.Errorf("%s: with context takeover the second message should be smaller: %d then %d", d, ms[0].WireLen, ms[1].WireLen)
	}
	if !takeover && ms[1].WireLen != ms[0].WireLen {
		t.Errorf("%s: without context takeover the messages should compress alike: %d then %d", d, ms[0].WireLen, ms[1].WireLen)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, f := range rec.frames {
		if f.Dir == d && f.Op.IsData() && !f.Rsv1() {
			t.Errorf("%s: data frame %d without RSV1", d, f.Seq)
		}
	}
}

func TestDeflateDialCoderContextTakeover(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	c, open, rec, err := dialCompress(t, srv.URL(), &Compression{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	if len(open.Extensions) != 1 || open.Extensions[0].Name != "permessage-deflate" {
		t.Fatalf("extensions %+v", open.Extensions)
	}
	for i := 0; i < 3; i++ {
		if err := c.Send(inspect.OpText, []byte(repeated)); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.WaitReceived(3, step)
	for i, m := range got {
		if string(m.Data) != repeated {
			t.Errorf("server got message %d %q", i, m.Data)
		}
	}
	waitFor(t, "3 echoes", func() bool { return len(rec.msgsFrom(inspect.ServerToClient)) == 3 })
	checkDeflated(t, rec, inspect.ClientToServer, true)
	checkDeflated(t, rec, inspect.ServerToClient, true)
	// The client's frames on the wire carry RSV1, as the server's tap saw.
	for _, f := range srv.Frames() {
		if f.Op == inspect.OpText && f.Rsv&inspect.Rsv1 == 0 {
			t.Errorf("server saw a text frame without RSV1: %v", f)
		}
	}
}

func TestDeflateFragmentedAfterCompression(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true})
	c, _, rec, err := dialCompress(t, srv.URL(), &Compression{ClientNoContextTakeover: true}, Config{FragmentSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	if err := c.Send(inspect.OpText, []byte(repeated)); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitReceived(1, step); len(got) != 1 || string(got[0].Data) != repeated {
		t.Fatalf("server got %v", got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.frames) < 2 || !rec.frames[0].Rsv1() {
		t.Fatalf("frames %+v", rec.frames)
	}
	for _, f := range rec.frames[1:] {
		if f.Rsv1() || f.Op != inspect.OpContinuation {
			t.Errorf("continuation %d: rsv1=%v op=%v", f.Seq, f.Rsv1(), f.Op)
		}
	}
}

// acceptOne accepts one connection with opts and returns it running.
func acceptOne(t *testing.T, opts AcceptOptions, cfg Config) (string, <-chan *Conn, <-chan *inspect.Open) {
	t.Helper()
	ln := listenLoopback(t)
	conns, opens := make(chan *Conn, 1), make(chan *inspect.Open, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c, open, err := Accept(nc, opts, cfg)
		if err != nil {
			t.Error(err)
			nc.Close()
			return
		}
		t.Cleanup(func() { c.Abort() })
		opens <- open
		conns <- c
		c.Run()
	}()
	return "ws://" + ln.Addr().String() + "/", conns, opens
}

func TestDeflateAcceptGorilla(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var conn *Conn
	ready := make(chan struct{})
	url, conns, opens := acceptOne(t, AcceptOptions{Timeout: step, Compress: &Compression{}}, Config{OnEvent: func(e *inspect.Event) {
		rec.event(e)
		if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ClientToServer {
			<-ready
			conn.WriteMessage(e.Msg.Op, e.Msg.Payload)
		}
	}})
	cl := tp.Dial(t, url, tp.ClientOptions{Compression: true})
	conn = <-conns
	close(ready)
	open := <-opens
	if ext := open.Extensions; len(ext) != 1 || ext[0].Name != "permessage-deflate" {
		t.Fatalf("extensions %+v", ext)
	}
	if h := cl.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(h, "permessage-deflate") || !strings.Contains(h, "client_no_context_takeover") {
		t.Errorf("response extension %q", h)
	}
	for i := 0; i < 3; i++ {
		if err := cl.Send(tp.TextMsg(repeated)); err != nil {
			t.Fatal(err)
		}
		m, err := cl.Read(step)
		if err != nil || string(m.Data) != repeated {
			t.Fatalf("echo %d: %q %v", i, m.Data, err)
		}
	}
	// gorilla offers no context takeover both ways.
	checkDeflated(t, rec, inspect.ClientToServer, false)
	checkDeflated(t, rec, inspect.ServerToClient, false)
}

func TestDeflateAcceptBrowserOffer(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	url, _, _ := acceptOne(t, AcceptOptions{Timeout: step, Compress: &Compression{}}, Config{OnEvent: rec.event})
	rc := tp.DialRaw(t, url, tp.RawDialOptions{Headers: []tp.HeaderField{tp.H("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")}})
	resp := rc.Response()
	if resp.Status != 101 || resp.Get("Sec-WebSocket-Extensions") != "permessage-deflate" {
		t.Fatalf("response %d %q", resp.Status, resp.Get("Sec-WebSocket-Extensions"))
	}
	z, _ := (&inspect.Deflater{Takeover: true}).Deflate([]byte(repeated))
	f := tp.ClientFrame(inspect.OpText, z)
	f.Rsv = inspect.Rsv1
	if err := rc.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message", func() bool { return len(rec.msgsFrom(inspect.ClientToServer)) == 1 })
	if m := rec.msgsFrom(inspect.ClientToServer)[0]; string(m.Payload) != repeated || !m.Deflated {
		t.Errorf("message %+v", m)
	}
}

func extHeader(v string) []inspect.HeaderField {
	return []inspect.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: v}}
}

// The server's side of RFC 7692 section 7.1: the answer to each offer,
// "" when it is declined. Every valid offer is accepted, in the client's
// order, whatever window it asks for (Autobahn 13.1-13.7 among them).
func TestDeflateNegotiate(t *testing.T) {
	t.Parallel()
	const pmd = "permessage-deflate"
	for _, tc := range []struct {
		cfg   Compression
		offer string
		want  string
	}{
		{Compression{}, pmd, pmd},
		{Compression{}, pmd + "; client_max_window_bits", pmd},
		{Compression{}, pmd + "; client_max_window_bits=9", pmd},
		{Compression{ClientMaxWindowBits: 10}, pmd + "; client_max_window_bits", pmd + "; client_max_window_bits=10"},
		{Compression{ClientMaxWindowBits: 12}, pmd + "; client_max_window_bits=9", pmd + "; client_max_window_bits=9"},
		{Compression{ClientMaxWindowBits: 9}, pmd + "; client_max_window_bits=12", pmd + "; client_max_window_bits=9"},
		// Without the parameter in the offer the client's window cannot
		// be asked for (section 7.1.2.2); wscope reads any.
		{Compression{ClientMaxWindowBits: 10}, pmd, pmd},
		{Compression{}, pmd + "; server_no_context_takeover; client_no_context_takeover", pmd + "; server_no_context_takeover; client_no_context_takeover"},
		{Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, pmd, pmd + "; server_no_context_takeover; client_no_context_takeover"},
		{Compression{}, pmd + "; server_max_window_bits=8", pmd + "; server_max_window_bits=8"},
		{Compression{}, pmd + "; server_max_window_bits=15", pmd + "; server_max_window_bits=15"},
		{Compression{}, pmd + "; server_no_context_takeover; server_max_window_bits=9", pmd + "; server_no_context_takeover; server_max_window_bits=9"},
		// The server's own bound: answered unasked, or the smaller of the
		// two (section 7.1.2.1).
		{Compression{ServerMaxWindowBits: 10}, pmd, pmd + "; server_max_window_bits=10"},
		{Compression{ServerMaxWindowBits: 10}, pmd + "; server_max_window_bits=12", pmd + "; server_max_window_bits=10"},
		{Compression{ServerMaxWindowBits: 12}, pmd + "; server_max_window_bits=9", pmd + "; server_max_window_bits=9"},
		// Several offers: the first valid one.
		{Compression{}, pmd + "; server_max_window_bits=10, " + pmd, pmd + "; server_max_window_bits=10"},
		{Compression{}, pmd + "; foo, " + pmd + "; server_max_window_bits=15", pmd + "; server_max_window_bits=15"},
		{Compression{}, pmd + "; server_max_window_bits, " + pmd + "; client_no_context_takeover", pmd + "; client_no_context_takeover"},
		{Compression{}, "x-webkit-deflate-frame, " + pmd, pmd},
		// Invalid offers are declined.
		{Compression{}, pmd + "; server_max_window_bits=7", ""},
		{Compression{}, pmd + "; server_max_window_bits=16", ""},
		{Compression{}, pmd + "; client_max_window_bits=08", ""},
		{Compression{}, pmd + "; server_max_window_bits", ""},
		{Compression{}, pmd + "; client_no_context_takeover; client_no_context_takeover", ""},
		{Compression{}, pmd + "; server_no_context_takeover=1", ""},
		{Compression{}, "x-webkit-deflate-frame", ""},
	} {
		got := ""
		if a := negotiate(&tc.cfg, extHeader(tc.offer)); a != nil {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("negotiate(%+v, %q) = %q, want %q", tc.cfg, tc.offer, got, tc.want)
		}
	}
}

// The client's side of RFC 7692 section 7.1: what an answer to the offer
// agrees, or the error that fails the handshake.
func TestDeflateAnswers(t *testing.T) {
	t.Parallel()
	const pmd = "permessage-deflate"
	asBrowsers := Compression{ClientMaxWindowBits: AnyWindowBits} // what connect --compress offers
	for _, tc := range []struct {
		offer  *Compression
		answer string
		want   string // the agreement, or a part of the error
	}{
		{&asBrowsers, pmd, pmd},
		// Python websockets' default answer: the server bounds its own
		// window unasked (section 7.1.2.1).
		{&asBrowsers, pmd + "; server_max_window_bits=12", pmd + "; server_max_window_bits=12"},
		{&Compression{}, pmd + "; server_max_window_bits=8", pmd + "; server_max_window_bits=8"},
		{&asBrowsers, pmd + "; client_max_window_bits=9", pmd + "; client_max_window_bits=9"},
		{&asBrowsers, pmd + "; client_max_window_bits=15", pmd + "; client_max_window_bits=15"},
		{&asBrowsers, pmd + "; server_no_context_takeover; client_no_context_takeover", pmd + "; server_no_context_takeover; client_no_context_takeover"},
		{&Compression{ServerNoContextTakeover: true}, pmd + "; server_no_context_takeover", pmd + "; server_no_context_takeover"},
		// What the client offered it does, answered or not.
		{&Compression{ClientNoContextTakeover: true}, pmd, pmd + "; client_no_context_takeover"},
		{&Compression{ClientMaxWindowBits: 10}, pmd, pmd + "; client_max_window_bits=10"},
		{&Compression{ClientMaxWindowBits: 10}, pmd + "; client_max_window_bits=9", pmd + "; client_max_window_bits=9"},
		{&Compression{ServerMaxWindowBits: 10}, pmd + "; server_max_window_bits=10", pmd + "; server_max_window_bits=10"},
		{&Compression{ServerMaxWindowBits: 10}, pmd + "; server_max_window_bits=8", pmd + "; server_max_window_bits=8"},
		{&Compression{Level: 9, ClientMaxWindowBits: AnyWindowBits}, pmd, pmd},
		{&asBrowsers, "", ""}, // declined

		{&Compression{ServerMaxWindowBits: 10}, pmd + "; server_max_window_bits=12", "server_max_window_bits=12 is larger than the 10 offered"},
		{&Compression{ServerMaxWindowBits: 10}, pmd, "asked for server_max_window_bits=10 and the answer does not have it"},
		{&Compression{ServerNoContextTakeover: true}, pmd, "asked for server_no_context_takeover and the answer does not have it"},
		{&Compression{}, pmd + "; client_max_window_bits=10", "client_max_window_bits=10 was not offered"},
		{&asBrowsers, pmd + "; client_max_window_bits", "client_max_window_bits needs a value"},
		{&Compression{ClientMaxWindowBits: 10}, pmd + "; client_max_window_bits=12", "client_max_window_bits=12 is larger than the 10 offered"},
		{&asBrowsers, pmd + "; foo=1", "unknown parameter foo"},
		{&asBrowsers, pmd + "; server_no_context_takeover; server_no_context_takeover", "server_no_context_takeover appears twice"},
		{&asBrowsers, pmd + "; server_max_window_bits=12; server_max_window_bits=12", "server_max_window_bits appears twice"},
		{&asBrowsers, pmd + "; server_max_window_bits=99", `server_max_window_bits="99": must be a number from 8 to 15`},
		{&asBrowsers, pmd + "; server_max_window_bits=08", `server_max_window_bits="08"`},
		{&asBrowsers, pmd + "; server_max_window_bits=7", `server_max_window_bits="7"`},
		{&asBrowsers, pmd + "; server_max_window_bits", `server_max_window_bits=""`},
		{&asBrowsers, pmd + "; client_no_context_takeover=yes", "client_no_context_takeover takes no value"},
		{&asBrowsers, pmd + ", " + pmd, "twice"},
		{&asBrowsers, "x-webkit-deflate-frame", `extension "x-webkit-deflate-frame", which the client did not offer`},
		{nil, pmd, "extension permessage-deflate, which the client did not offer"},
	} {
		a, err := checkAnswer(tc.offer, extHeader(tc.answer))
		got := ""
		switch {
		case err != nil:
			got = err.Error()
		case a != nil:
			got = a.String()
			if a.Level != tc.offer.Level {
				t.Errorf("answer %q: level %d, offered %d", tc.answer, a.Level, tc.offer.Level)
			}
		}
		if err == nil && got != tc.want || err != nil && !strings.Contains(got, tc.want) {
			t.Errorf("offer %+v, answer %q: %q, want %q", tc.offer, tc.answer, got, tc.want)
		}
	}
}

// What connect offers goes on the wire as it should.
func TestDeflateOffers(t *testing.T) {
	t.Parallel()
	for cx, want := range map[Compression]string{
		{}:                                   "permessage-deflate",
		{ClientMaxWindowBits: AnyWindowBits}: "permessage-deflate; client_max_window_bits",
		{ClientMaxWindowBits: 9, ServerMaxWindowBits: 10}:              "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
		{ServerNoContextTakeover: true, ClientNoContextTakeover: true}: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	} {
		got := make(chan string, 1)
		srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
			got <- rc.Request().Get("Sec-WebSocket-Extensions")
			rc.Accept()
			rc.WaitEOF(step)
		})
		if _, _, _, err := dialCompress(t, srv.URL(), &cx, Config{}); err != nil {
			t.Fatal(err)
		}
		if h := strings.ReplaceAll(<-got, ";", "; "); strings.Join(strings.Fields(h), " ") != want {
			t.Errorf("%+v offered %q, want %q", cx, h, want)
		}
	}
	if _, _, _, err := dialCompress(t, "ws://127.0.0.1:1/", &Compression{ServerMaxWindowBits: 16}, Config{}); err == nil || !strings.Contains(err.Error(), "server_max_window_bits=16: must be between 8 and 15") {
		t.Errorf("bad offer: %v", err)
	}
}

// A bad answer fails the handshake with a HandshakeError naming it.
func TestDeflateBadAnswerFailsHandshake(t *testing.T) {
	t.Parallel()
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))
		rc.WaitEOF(step)
	})
	_, _, _, err := dialCompress(t, srv.URL(), &Compression{ClientMaxWindowBits: AnyWindowBits}, Config{})
	if he, ok := err.(*HandshakeError); !ok || !strings.Contains(he.Error(), "client_max_window_bits needs a value") {
		t.Errorf("%v, want a handshake error about client_max_window_bits", err)
	}
}

// The client compresses within the window the server answers and reads
// the server's, smaller, one.
func TestDeflateDialSmallWindows(t *testing.T) {
	t.Parallel()
	got := make(chan []byte, 1)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"))
		z, _ := (&inspect.Deflater{WindowBits: 10}).Deflate([]byte(repeated))
		f := tp.ServerFrame(inspect.OpText, z)
		f.Rsv = inspect.Rsv1
		rc.WriteFrame(f)
		fr, err := rc.ReadFrame(step)
		if err != nil || fr.Rsv&inspect.Rsv1 == 0 {
			got <- nil
			return
		}
		got <- fr.Payload
		rc.WaitEOF(step)
	})
	c, _, rec, err := dialCompress(t, srv.URL(), &Compression{ClientMaxWindowBits: AnyWindowBits}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.deflate.WindowBits != 9 {
		t.Errorf("the client compresses within %d bits, want 9", c.deflate.WindowBits)
	}
	go c.Run()
	waitFor(t, "the server's message", func() bool { return len(rec.msgsFrom(inspect.ServerToClient)) == 1 })
	if m := rec.msgsFrom(inspect.ServerToClient)[0]; string(m.Payload) != repeated || !m.Deflated {
		t.Errorf("message %+v", m)
	}
	if err := c.Send(inspect.OpText, []byte(repeated)); err != nil {
		t.Fatal(err)
	}
	z := <-got
	out, err := (&inspect.Inflater{}).Inflate(z, 1<<20)
	if err != nil || string(out) != repeated || len(z) >= len(repeated) {
		t.Errorf("the server got %d compressed bytes inflating to %d: %v", len(z), len(out), err)
	}
}

// The server compresses within the window an offer asks for.
func TestDeflateAcceptSmallWindow(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var conn *Conn
	ready := make(chan struct{})
	url, conns, _ := acceptOne(t, AcceptOptions{Timeout: step, Compress: &Compression{}}, Config{OnEvent: func(e *inspect.Event) {
		rec.event(e)
		if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ClientToServer {
			<-ready
			conn.WriteMessage(e.Msg.Op, e.Msg.Payload)
			conn.Flush()
		}
	}})
	rc := tp.DialRaw(t, url, tp.RawDialOptions{Headers: []tp.HeaderField{tp.H("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=8; client_max_window_bits")}})
	conn = <-conns
	close(ready)
	if h := rc.Response().Get("Sec-WebSocket-Extensions"); h != "permessage-deflate; server_max_window_bits=8" {
		t.Fatalf("answer %q", h)
	}
	if conn.deflate.WindowBits != 8 {
		t.Errorf("the server compresses within %d bits, want 8", conn.deflate.WindowBits)
	}
	z, _ := (&inspect.Deflater{}).Deflate([]byte(repeated))
	f := tp.ClientFrame(inspect.OpText, z)
	f.Rsv = inspect.Rsv1
	if err := rc.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	echo, err := rc.ReadFrame(step)
	if err != nil || echo.Rsv&inspect.Rsv1 == 0 {
		t.Fatalf("echo %v %v", echo, err)
	}
	if out, err := (&inspect.Inflater{}).Inflate(echo.Payload, 1<<20); err != nil || string(out) != repeated {
		t.Errorf("echo inflates to %d bytes: %v", len(out), err)
	}
}

// rawDeflateServer accepts permessage-deflate and sends frames, then
// returns the close frame the client answers with.
func rawDeflateServer(t *testing.T, frames ...tp.FrameSpec) (*tp.RawServer, <-chan tp.CloseInfo) {
	got := make(chan tp.CloseInfo, 1)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate"))
		rc.WriteFrames(frames...)
		for {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			if ci, ok := f.Close(); ok {
				got <- ci
				return
			}
		}
	})
	return srv, got
}

func TestDeflateInvalidDataCloses1007(t *testing.T) {
	t.Parallel()
	f := tp.ServerFrame(inspect.OpText, []byte{0xff, 0xff, 0xff, 0xff})
	f.Rsv = inspect.Rsv1
	srv, got := rawDeflateServer(t, f)
	c, _, _, err := dialCompress(t, srv.URL(), &Compression{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	ci := <-got
	if ci.Code != 1007 || !strings.Contains(ci.Reason, "decompress") {
		t.Errorf("close %v", ci)
	}
}

// Invalid text found once inflated is a violation on its frame; --strict
// fails the connection with 1007 (RFC 6455 section 8.1).
func TestDeflateInvalidUTF8AfterDecompression(t *testing.T) {
	t.Parallel()
	z, _ := (&inspect.Deflater{}).Deflate([]byte{'a', 0xff, 'b'})
	f := tp.ServerFrame(inspect.OpText, z)
	f.Rsv = inspect.Rsv1
	srv, got := rawDeflateServer(t, f)
	c, _, rec, err := dialCompress(t, srv.URL(), &Compression{}, Config{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	select {
	case ci := <-got:
		if ci.Code != 1007 {
			t.Errorf("close %v", ci)
		}
	case <-time.After(step):
		t.Fatal("no close frame from wscope")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.frames) == 0 || ruleList(rec.frames[0].Violations) != string(inspect.RuleTextInvalidUTF8) {
		t.Errorf("frames %+v", rec.frames)
	}
}

func TestDeflateZipBombCloses1009(t *testing.T) {
	t.Parallel()
	z, _ := (&inspect.Deflater{}).Deflate(make([]byte, 8<<20))
	f := tp.ServerFrame(inspect.OpBinary, z)
	f.Rsv = inspect.Rsv1
	srv, got := rawDeflateServer(t, f)
	c, _, _, err := dialCompress(t, srv.URL(), &Compression{}, Config{MaxMessageSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	ci := <-got
	if ci.Code != 1009 || !strings.Contains(ci.Reason, "inflates to more than") {
		t.Errorf("close %v (%d compressed bytes)", ci, len(z))
	}
}

func TestDeflateDeclined(t *testing.T) {
	t.Parallel()
	// A server that does not do compression answers without the extension:
	// messages go uncompressed.
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	c, open, rec, err := dialCompress(t, srv.URL(), &Compression{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	if len(open.Extensions) != 0 {
		t.Fatalf("extensions %+v", open.Extensions)
	}
	if err := c.Send(inspect.OpText, []byte(repeated)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the echo", func() bool { return len(rec.msgsFrom(inspect.ServerToClient)) == 1 })
	for _, m := range append(rec.msgsFrom(inspect.ClientToServer), rec.msgsFrom(inspect.ServerToClient)...) {
		if m.Deflated || string(m.Payload) != repeated {
			t.Errorf("message %+v", m)
		}
	}

	// A server without Compress ignores the offer.
	url, _, _ := acceptOne(t, AcceptOptions{Timeout: step}, Config{})
	rc := tp.DialRaw(t, url, tp.RawDialOptions{Headers: []tp.HeaderField{tp.H("Sec-WebSocket-Extensions", "permessage-deflate")}})
	if resp := rc.Response(); resp.Status != 101 || resp.Get("Sec-WebSocket-Extensions") != "" {
		t.Errorf("response %d %q", resp.Status, resp.Get("Sec-WebSocket-Extensions"))
	}
}

func TestDeflateClientResetsWhenItOfferedTo(t *testing.T) {
	t.Parallel()
	// The server accepts without echoing client_no_context_takeover: the
	// client resets its compressor anyway, as it offered.
	got := make(chan []int, 1)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate"))
		var sizes []int
		for len(sizes) < 2 {
			f, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			sizes = append(sizes, len(f.Payload))
		}
		got <- sizes
	})
	c, _, _, err := dialCompress(t, srv.URL(), &Compression{ClientNoContextTakeover: true}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run()
	c.Send(inspect.OpText, []byte(repeated))
	c.Send(inspect.OpText, []byte(repeated))
	if sizes := <-got; sizes[0] != sizes[1] {
		t.Errorf("compressed sizes %v: the client kept its context", sizes)
	}
}
