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

func TestDeflateNegotiate(t *testing.T) {
	t.Parallel()
	h := func(v string) []inspect.HeaderField {
		return []inspect.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: v}}
	}
	for _, tc := range []struct {
		cfg   Compression
		offer string
		want  string
	}{
		{Compression{}, "permessage-deflate; client_max_window_bits", "permessage-deflate"},
		{Compression{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10"},
		{Compression{ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9"},
		{Compression{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{Compression{}, "permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate"},
		{Compression{}, "permessage-deflate; foo, permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_max_window_bits=15"},
		{Compression{}, "permessage-deflate; server_max_window_bits=10", ""},
		{Compression{}, "x-webkit-deflate-frame", ""},
	} {
		got := ""
		if a := negotiate(&tc.cfg, h(tc.offer)); a != nil {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("negotiate(%+v, %q) = %q, want %q", tc.cfg, tc.offer, got, tc.want)
		}
	}
}

func TestDeflateBadAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		offer  Compression
		answer string
		want   string
	}{
		{Compression{}, "permessage-deflate; server_max_window_bits=10", "server_max_window_bits=10 was not offered"},
		{Compression{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=12", "server_max_window_bits=12 is larger"},
		{Compression{}, "permessage-deflate; client_max_window_bits=10", "client_max_window_bits=10 was not offered"},
		{Compression{ClientMaxWindowBits: 15}, "permessage-deflate; client_max_window_bits=10", "client_max_window_bits=10 asks for a window smaller"},
		{Compression{}, "permessage-deflate; foo=1", "unknown parameter foo"},
		{Compression{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "server_no_context_takeover appears twice"},
		{Compression{}, "permessage-deflate; server_max_window_bits=99", "server_max_window_bits=\"99\""},
		{Compression{}, "permessage-deflate, permessage-deflate", "twice"},
		{Compression{}, "x-webkit-deflate-frame", "did not offer"},
	} {
		srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
			rc.Accept(tp.H("Sec-WebSocket-Extensions", tc.answer))
			rc.WaitEOF(step)
		})
		_, _, _, err := dialCompress(t, srv.URL(), &tc.offer, Config{})
		he, ok := err.(*HandshakeError)
		if !ok || !strings.Contains(he.Error(), tc.want) {
			t.Errorf("answer %q: %v, want a handshake error with %q", tc.answer, err, tc.want)
		}
	}
	// Nothing offered, something answered.
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate"))
		rc.WaitEOF(step)
	})
	if _, _, _, err := dialCompress(t, srv.URL(), nil, Config{}); err == nil || !strings.Contains(err.Error(), "did not offer") {
		t.Errorf("unoffered extension: %v", err)
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
