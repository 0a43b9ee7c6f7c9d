package testpeer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/wscope/wscope/inspect"
)

// wait bounds each step; the happy path takes milliseconds, the margin is
// for loaded CI machines running -race.
const wait = 5 * time.Second

func TestBits(t *testing.T) {
	t.Parallel()
	if got, want := Bits("1 000 0001  0 0000101"), []byte{0x81, 0x05}; !bytes.Equal(got, want) {
		t.Fatalf("Bits = %x, want %x", got, want)
	}
	if got := Bits("1111_0000|0000 0001"); !bytes.Equal(got, []byte{0xf0, 0x01}) {
		t.Fatalf("Bits with separators = %x", got)
	}
	for _, bad := range []string{"101", "10x0 0000"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Bits(%q) did not panic", bad)
				}
			}()
			Bits(bad)
		}()
	}
}

// TestAppendFrame pins the frame builder (and so inspect.AppendHeader)
// against bytes written out by hand, mostly the examples of RFC 6455
// section 5.7, and checks that this package's parser reads them back.
func TestAppendFrame(t *testing.T) {
	t.Parallel()
	hello := []byte("Hello")
	tests := []struct {
		name string
		spec FrameSpec
		want []byte
	}{
		{"unmasked text", ServerFrame(inspect.OpText, hello),
			append(Bits("1 000 0001  0 0000101"), hello...)},
		{"masked text (RFC 5.7)", ClientFrame(inspect.OpText, hello),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment", FrameSpec{Op: inspect.OpText, Payload: []byte("Hel")},
			append(Bits("0 000 0001  0 0000011"), "Hel"...)},
		{"256 bytes, 16-bit length", ServerFrame(inspect.OpBinary, make([]byte, 256)),
			append(Bits("1 000 0010  0 1111110  00000001 00000000"), make([]byte, 256)...)},
		{"non-minimal 64-bit length", FrameSpec{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Payload: hello},
			append(Bits("1 000 0010  0 1111111"+strings.Repeat(" 00000000", 7)+" 00000101"), hello...)},
		{"top-bit length, no payload", FrameSpec{Fin: true, Op: inspect.OpBinary, LenEnc: inspect.Len64, Length: Len(1 << 63)},
			Bits("1 000 0010  0 1111111  10000000" + strings.Repeat(" 00000000", 7))},
		{"RSV1+RSV3, reserved opcode", FrameSpec{Fin: true, Rsv: inspect.Rsv1 | inspect.Rsv3, Op: 0xB},
			Bits("1 101 1011  0 0000000")},
		{"unfinished ping", FrameSpec{Op: inspect.OpPing, Payload: []byte("x")},
			append(Bits("0 000 1001  0 0000001"), 'x')},
	}
	for _, tt := range tests {
		got := tt.spec.Bytes()
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got\n%x, want\n%x", tt.name, got, tt.want)
			continue
		}
		if tt.spec.Length != nil {
			continue // declares more than it carries
		}
		fs, err := parseFrames(got)
		if err != nil || len(fs) != 1 {
			t.Errorf("%s: parseFrames = %v, %v", tt.name, fs, err)
			continue
		}
		f := fs[0]
		if f.Fin != tt.spec.Fin || f.Rsv != tt.spec.Rsv || f.Op != tt.spec.Op || f.Masked != tt.spec.Masked ||
			f.Mask != tt.spec.Mask || !bytes.Equal(f.Payload, tt.spec.Payload) || !bytes.Equal(f.Wire, got) {
			t.Errorf("%s: parsed back as %v", tt.name, f)
		}
		if tt.spec.LenEnc != 0 && f.LenEnc != tt.spec.LenEnc {
			t.Errorf("%s: length encoding %v, want %v", tt.name, f.LenEnc, tt.spec.LenEnc)
		}
	}
	if got := AcceptKey(SampleKey); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey(SampleKey) = %q", got)
	}
}

func TestServerEchoWithClient(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true, Subprotocols: []string{"b.v1", "a.v1"}, Path: "/echo"})
	c := Dial(t, srv.URL(), ClientOptions{
		Subprotocols: []string{"a.v1", "b.v1"},
		Header:       http.Header{"X-Test": {"yes"}},
	})
	if got := c.Subprotocol(); got != "b.v1" {
		t.Errorf("subprotocol %q, want b.v1 (server preference)", got)
	}
	msgs := []Msg{TextMsg("hello"), BinaryMsg([]byte{0, 1, 2, 0xff}), TextMsg(""), BinaryMsg(nil), TextMsg(strings.Repeat("é", 40000))}
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range msgs {
		got, err := c.Read(wait)
		if err != nil {
			t.Fatal(err)
		}
		if got.Binary != want.Binary || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("echo %.40v, want %.40v", got, want)
		}
	}
	if got := srv.WaitReceived(len(msgs), wait); len(got) != len(msgs) {
		t.Errorf("server received %d messages", len(got))
	}
	if err := c.Ping([]byte("are you there")); err != nil {
		t.Fatal(err)
	}
	if p, err := c.ReadPong(wait); err != nil || string(p) != "are you there" {
		t.Fatalf("pong %q, %v", p, err)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Test") != "yes" || reqs[0].URL.Path != "/echo" {
		t.Errorf("requests: %v", reqs)
	}

	ci, err := c.Close(4000, "bye")
	if err != nil || ci.Code != 4000 {
		t.Errorf("client got close %v, %v; want the server to echo 4000", ci, err)
	}
	got, ok := srv.WaitClosed(wait)
	if !ok || got != (CloseInfo{4000, "bye"}) {
		t.Errorf("server saw close %v %v", got, ok)
	}

	// The tap saw gorilla's frames as they were on the wire: the 80000-byte
	// message went out in frames of gorilla's 4096-byte write buffer.
	var ops []string
	for i, f := range srv.Frames() {
		if !f.Masked || f.LenEnc != inspect.MinimalLengthEncoding(f.Length) {
			t.Errorf("frame %d: %v", i, f)
		}
		if f.Op == inspect.OpContinuation && f.Length != 4096 && !f.Fin {
			t.Errorf("frame %d: %v, want 4096 bytes", i, f)
		}
		if f.Fin {
			ops = append(ops, f.Op.String())
		}
	}
	if got := strings.Join(ops, " "); got != "text binary text binary cont ping close" {
		t.Errorf("tap: final frames %s", got)
	}
}

func TestClientFrameSize(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{})
	c := Dial(t, srv.URL(), ClientOptions{FrameSize: 3})
	if err := c.Send(TextMsg("abcdefgh")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range srv.WaitFrames(3, wait) {
		got = append(got, f.Op.String()+":"+f.Text())
	}
	if s := strings.Join(got, " "); s != "text:abc cont:def cont:gh" {
		t.Errorf("frames %s", s)
	}
	if m := srv.WaitReceived(1, wait); m[0].String() != `text:"abcdefgh"` {
		t.Errorf("received %v", m)
	}
}

func TestServerOnConnectSingleWrite(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{OnConnect: []Msg{TextMsg("welcome"), BinaryMsg([]byte{1, 2})}})

	// The frames came in the same write as the 101, so they are already
	// buffered when the response head has been read.
	rc := DialRaw(t, srv.URL(), RawDialOptions{})
	if rc.Response().Status != 101 {
		t.Fatalf("response %q", rc.Response().Line)
	}
	want := Frames(ServerFrame(inspect.OpText, []byte("welcome")), ServerFrame(inspect.OpBinary, []byte{1, 2}))
	if n := rc.br.Buffered(); n != len(want) {
		t.Errorf("%d bytes buffered behind the 101, want %d", n, len(want))
	}
	for _, op := range []inspect.OpCode{inspect.OpText, inspect.OpBinary} {
		if f, err := rc.ReadFrame(wait); err != nil || f.Op != op || f.Masked || !f.Fin {
			t.Fatalf("frame %v, %v", f, err)
		}
	}

	c := Dial(t, srv.URL(), ClientOptions{})
	if m, err := c.Read(wait); err != nil || m.String() != `text:"welcome"` {
		t.Fatalf("first message %v, %v", m, err)
	}
	if m, err := c.Read(wait); err != nil || m.String() != "binary:0102" {
		t.Fatalf("second message %v, %v", m, err)
	}
}

func TestServerFragmentedEcho(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true, Fragment: 3})
	rc := DialRaw(t, srv.URL(), RawDialOptions{})
	if err := rc.WriteFrame(ClientFrame(inspect.OpText, []byte("abcdefgh"))); err != nil {
		t.Fatal(err)
	}
	want := []string{"text abc", "ping testpeer 1", "cont def", "ping testpeer 2", "fin cont gh"}
	for _, w := range want {
		f, err := rc.ReadFrame(wait)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Op.String() + " " + f.Text()
		if f.Fin && !f.Op.IsControl() {
			got = "fin " + got
		}
		if got != w || f.Masked {
			t.Fatalf("frame %v, want %q", f, w)
		}
	}
	// The library client reassembles across the pings and answers them.
	c := Dial(t, srv.URL(), ClientOptions{})
	if err := c.Send(BinaryMsg([]byte("0123456"))); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Read(wait); err != nil || m.String() != "binary:30313233343536" {
		t.Fatalf("echo %v, %v", m, err)
	}
	if p := c.Pings(); len(p) != 2 {
		t.Errorf("client saw pings %q", p)
	}
	if err := c.Send(TextMsg("")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Read(wait); err != nil || m.String() != `text:""` {
		t.Fatalf("empty echo %v, %v", m, err)
	}
}

func TestServerReject(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Reject: &Reject{Status: 403, Body: "go away", Headers: http.Header{"X-Why": {"test"}}}})
	_, resp, err := TryDial(t, srv.URL(), ClientOptions{})
	if !errors.Is(err, gws.ErrBadHandshake) || resp == nil {
		t.Fatalf("TryDial: %v, %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || string(body) != "go away" || resp.Header.Get("X-Why") != "test" {
		t.Errorf("refusal %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if len(srv.Requests()) != 1 || srv.Connections() != 0 {
		t.Errorf("requests %d, connections %d", len(srv.Requests()), srv.Connections())
	}
}

func TestServerDelay(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Delay: 50 * time.Millisecond})
	start := time.Now()
	Dial(t, srv.URL(), ClientOptions{})
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("handshake took %v, want at least the delay", d)
	}
}

func TestServerCloseAfter(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true, CloseAfter: 2, CloseCode: 4001, CloseReason: "enough"})
	c := Dial(t, srv.URL(), ClientOptions{})
	for _, s := range []string{"one", "two"} {
		if err := c.Send(TextMsg(s)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := c.Read(wait); err != nil {
			t.Fatal(err)
		}
	}
	if ci, ok := c.WaitClosed(wait); !ok || ci != (CloseInfo{4001, "enough"}) {
		t.Errorf("client got close %v %v", ci, ok)
	}
	if ci, ok := srv.WaitClosed(wait); !ok || ci.Code != 4001 {
		t.Errorf("server got close reply %v %v", ci, ok)
	}
}

func TestServerCloseAbruptly(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{CloseAfter: 1, CloseAbruptly: true})
	c := Dial(t, srv.URL(), ClientOptions{})
	if err := c.Send(TextMsg("x")); err != nil {
		t.Fatal(err)
	}
	if ci, ok := c.WaitClosed(wait); ok {
		t.Errorf("client got a close frame %v", ci)
	}
	if !gws.IsCloseError(c.Err(), gws.CloseAbnormalClosure) {
		t.Errorf("client error %v, want 1006", c.Err())
	}
}

func TestServerSend(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{})
	if err := srv.Send(TextMsg("nobody")); err == nil {
		t.Error("Send without a connection succeeded")
	}
	c := Dial(t, srv.URL(), ClientOptions{})
	deadline := time.Now().Add(wait)
	for srv.Connections() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := srv.Send(TextMsg("pushed")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Read(wait); err != nil || string(m.Data) != "pushed" {
		t.Fatalf("read %v, %v", m, err)
	}
}

func TestRawServerWithClient(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	rs := NewRawServer(t, func(rc *RawConn) {
		done <- func() error {
			req := rc.Request()
			if req.Method != "GET" || req.Target != "/raw" || req.Get("sec-websocket-protocol") != "chat" {
				return errors.New("unexpected request: " + string(req.Raw))
			}
			if err := rc.Accept(H("Sec-WebSocket-Protocol", "chat")); err != nil {
				return err
			}
			// A text message in a non-minimal length, then one fragmented
			// around a ping, all in one write.
			err := rc.WriteFrames(
				FrameSpec{Fin: true, Op: inspect.OpText, LenEnc: inspect.Len64, Payload: []byte("hi")},
				FrameSpec{Op: inspect.OpText, Payload: []byte("fr")},
				ServerFrame(inspect.OpPing, []byte("p")),
				FrameSpec{Fin: true, Op: inspect.OpContinuation, Payload: []byte("ag")},
			)
			if err != nil {
				return err
			}
			if f, err := rc.ReadFrame(wait); err != nil || f.Op != inspect.OpPong || f.Text() != "p" || !f.Masked {
				return fmt.Errorf("want the pong first, got %v, %v", f, err)
			}
			m, frames, err := rc.ReadMessage(wait)
			if err != nil || m.String() != `text:"yo"` || !frames[0].Masked {
				return fmt.Errorf("want masked text yo, got %v %v %v", m, frames, err)
			}
			if err := rc.WriteFrame(ServerFrame(inspect.OpClose, ClosePayload(1000, "done"))); err != nil {
				return err
			}
			f, err := rc.ReadFrame(wait)
			if ci, ok := f.Close(); err != nil || !ok || ci.Code != 1000 {
				return fmt.Errorf("want close 1000 back, got %v, %v", f, err)
			}
			return nil
		}()
	})
	c := Dial(t, rs.URL()+"raw", ClientOptions{Subprotocols: []string{"chat"}})
	if c.Subprotocol() != "chat" {
		t.Errorf("subprotocol %q", c.Subprotocol())
	}
	for _, want := range []string{"hi", "frag"} {
		if m, err := c.Read(wait); err != nil || string(m.Data) != want {
			t.Fatalf("read %v, %v; want %q", m, err, want)
		}
	}
	if err := c.Send(TextMsg("yo")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("raw server: %v", err)
		}
	case <-time.After(2 * wait):
		t.Fatal("raw server handler did not finish")
	}
	if ci, ok := c.WaitClosed(wait); !ok || ci != (CloseInfo{1000, "done"}) {
		t.Errorf("client got close %v %v", ci, ok)
	}
	if rs.Accepted() != 1 {
		t.Errorf("accepted %d", rs.Accepted())
	}
}

// A crafted invalid frame reaches the library client as crafted, and the
// library fails the connection with 1002.
func TestRawServerInvalidFrame(t *testing.T) {
	t.Parallel()
	got := make(chan Frame, 1)
	rs := NewRawServer(t, func(rc *RawConn) {
		_ = rc.Accept()
		_ = rc.WriteFrame(FrameSpec{Fin: true, Rsv: inspect.Rsv2, Op: inspect.OpText, Payload: []byte("x")})
		f, _ := rc.ReadFrame(wait)
		got <- f
	})
	c := Dial(t, rs.URL(), ClientOptions{})
	c.WaitClosed(wait)
	f := <-got
	if ci, ok := f.Close(); !ok || ci.Code != 1002 {
		t.Errorf("client answered %v, want close 1002", f)
	}
}

func TestRawServerRefusals(t *testing.T) {
	t.Parallel()
	rs := NewRawServer(t, func(rc *RawConn) {
		switch rc.Request().Target {
		case "/403":
			_ = rc.Reject(403, "nope", H("X-Why", "test"))
		case "/badkey":
			_ = rc.AcceptWith("HTTP/1.1 101 Switching Protocols",
				H("Upgrade", "websocket"), H("Connection", "Upgrade"),
				H("Sec-WebSocket-Accept", AcceptKey("wrong")))
		case "/reset":
			_ = rc.Reset()
		}
	})
	_, resp, err := TryDial(t, rs.URL()+"403", ClientOptions{})
	if resp == nil || resp.StatusCode != 403 || err == nil {
		t.Fatalf("403: %v %v", resp, err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "nope" || resp.Header.Get("X-Why") != "test" {
		t.Errorf("403 body %q headers %v", body, resp.Header)
	}
	if _, _, err := TryDial(t, rs.URL()+"badkey", ClientOptions{}); !errors.Is(err, gws.ErrBadHandshake) {
		t.Errorf("wrong accept key: %v", err)
	}
	if _, _, err := TryDial(t, rs.URL()+"reset", ClientOptions{}); err == nil {
		t.Errorf("reset: no error")
	}
}

func TestDialRawAgainstServer(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true, Subprotocols: []string{"chat"}})
	rc := DialRaw(t, srv.URL(), RawDialOptions{Headers: []HeaderField{H("Sec-WebSocket-Protocol", "chat")}})
	resp := rc.Response()
	if resp.Status != 101 || resp.Get("Sec-WebSocket-Accept") != AcceptKey(SampleKey) || resp.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("response:\n%s", resp.Raw)
	}
	if err := rc.WriteFrame(ClientFrame(inspect.OpBinary, []byte("raw"))); err != nil {
		t.Fatal(err)
	}
	if f, err := rc.ReadFrame(wait); err != nil || f.Op != inspect.OpBinary || f.Text() != "raw" || f.Masked {
		t.Fatalf("echo %v, %v", f, err)
	}
	if err := rc.WriteFrame(ClientFrame(inspect.OpClose, ClosePayload(1001, "away"))); err != nil {
		t.Fatal(err)
	}
	if f, err := rc.ReadFrame(wait); err != nil || f.Op != inspect.OpClose {
		t.Fatalf("close reply %v, %v", f, err)
	}
	if _, err := rc.WaitEOF(wait); err != nil {
		t.Errorf("EOF after close: %v", err)
	}
	if ci, ok := srv.WaitClosed(wait); !ok || ci != (CloseInfo{1001, "away"}) {
		t.Errorf("server saw %v %v", ci, ok)
	}
}

// An unmasked client frame is a protocol error to the library server.
// coder/websocket drops the connection without a close frame.
func TestDialRawUnmasked(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true})
	rc := DialRaw(t, srv.URL(), RawDialOptions{})
	_ = rc.WriteFrame(ServerFrame(inspect.OpText, []byte("unmasked")))
	if b, err := rc.WaitEOF(wait); err != nil || len(b) != 0 {
		t.Errorf("server answered %x, %v; want EOF", b, err)
	}
	if len(srv.Received()) != 0 {
		t.Errorf("server accepted %v", srv.Received())
	}
}

func TestDialRawEarly(t *testing.T) {
	t.Parallel()
	early := Frames(ClientFrame(inspect.OpText, []byte("early")), ClientFrame(inspect.OpText, []byte("bird")))

	// coder/websocket keeps the bytes that came with the request.
	srv := NewServer(t, ServerOptions{Echo: true})
	rc := DialRawEarly(t, srv.URL(), early)
	for _, want := range []string{"early", "bird"} {
		if f, err := rc.ReadFrame(wait); err != nil || f.Text() != want {
			t.Fatalf("echo %v, %v; want %q", f, err, want)
		}
	}
	if fs := srv.Frames(); len(fs) != 2 || fs[0].Text() != "early" || fs[0].Mask != ClientMask {
		t.Errorf("tap: %v", fs)
	}

	// So does the RawServer.
	got := make(chan string, 2)
	rs := NewRawServer(t, func(rc *RawConn) {
		_ = rc.Accept()
		for range 2 {
			f, _ := rc.ReadFrame(wait)
			got <- f.Text()
		}
	})
	DialRawEarly(t, rs.URL(), early)
	if a, b := <-got, <-got; a != "early" || b != "bird" {
		t.Errorf("raw server read %q, %q", a, b)
	}
}

func TestServerReadLimit(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{ReadLimit: 10})
	c := Dial(t, srv.URL(), ClientOptions{})
	if err := c.Send(TextMsg("far more than ten bytes")); err != nil {
		t.Fatal(err)
	}
	if ci, ok := c.WaitClosed(wait); !ok || ci.Code != 1009 {
		t.Errorf("client got close %v %v, want 1009", ci, ok)
	}
}

func TestCompression(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, ServerOptions{Echo: true, Compression: true})
	c := Dial(t, srv.URL(), ClientOptions{Compression: true})
	if ext := c.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q", ext)
	}
	msg := TextMsg(strings.Repeat("squeeze me ", 100))
	if err := c.Send(msg); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Read(wait); err != nil || !bytes.Equal(m.Data, msg.Data) {
		t.Fatalf("echo %.40v, %v", m, err)
	}
	if f := srv.WaitFrames(1, wait)[0]; !f.Rsv1() || f.Length >= uint64(len(msg.Data)) {
		t.Errorf("client frame %v, want RSV1 and a compressed payload", f)
	}
}
