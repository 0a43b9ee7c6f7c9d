package wire

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// The handshake readers of both sides, fed whatever a peer may send, then
// the frames after it. Neither may panic, hang or allocate without limit;
// an upgrade either succeeds with a 101 or ends with an error of the
// documented types.

// scriptConn is a peer in memory, as net.Pipe is, that sends a script and
// then ends (net.Pipe cannot half-close, so a handshake cut short would
// wait for its timeout). "{accept}" in the script answers the
// Sec-WebSocket-Key of what was sent to it first.
type scriptConn struct {
	mu     sync.Mutex
	script []byte
	r      *bytes.Reader
	sent   bytes.Buffer
	closed bool
}

func (c *scriptConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.r == nil {
		key := ""
		for line := range strings.SplitSeq(c.sent.String(), "\r\n") {
			if k, v, _ := strings.Cut(line, ":"); strings.EqualFold(k, "Sec-WebSocket-Key") {
				key = strings.TrimSpace(v)
			}
		}
		c.r = bytes.NewReader(bytes.ReplaceAll(c.script, []byte("{accept}"), []byte(tp.AcceptKey(key))))
	}
	return c.r.Read(p)
}

func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.sent.Len()+len(p) > 4<<20 {
		return 0, errors.New("the peer takes no more")
	}
	return c.sent.Write(p)
}

func (c *scriptConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

// answer is what was sent to the peer.
func (c *scriptConn) answer() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.sent.Bytes())
}

func (c *scriptConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *scriptConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *scriptConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error { return nil }

// fuzzConfig bounds what a fuzzed connection may take: small messages, a
// short wait for a close handshake.
func fuzzConfig() Config {
	return Config{MaxMessageSize: 1 << 16, CloseTimeout: 50 * time.Millisecond, OnEvent: func(*inspect.Event) {}}
}

// runBriefly reads what the peer sent after the handshake until it ends.
func runBriefly(t *testing.T, c *Conn) {
	done := make(chan struct{})
	go func() { c.Run(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.Abort()
		t.Fatal("the connection did not end after its peer's input did")
	}
}

const fuzzRequest = "GET /ws?x=1 HTTP/1.1\r\nHost: pipe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

func FuzzAcceptRequest(f *testing.F) {
	frames := tp.Frames(tp.ClientFrame(inspect.OpText, []byte("hello")), tp.ClientFrame(inspect.OpPing, []byte("p")), tp.ClientFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	for _, s := range []string{
		fuzzRequest + "\r\n",
		fuzzRequest + "Sec-WebSocket-Protocol: chat, other\r\nOrigin: http://ok\r\n\r\n",
		fuzzRequest + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-unknown\r\n\r\n",
		fuzzRequest + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8; server_no_context_takeover\r\n\r\n",
		fuzzRequest + "\r\n" + string(frames),
		strings.Replace(fuzzRequest, "/ws", "/other", 1) + "\r\n",
		"GET / HTTP/1.1\r\nHost: pipe\r\n\r\n",
		"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n",
		"POST /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
		fuzzRequest + "Sec-WebSocket-Version: 8\r\n\r\n",
		fuzzRequest + "X-Folded: a\r\n b\r\nNo colon\r\n\r\n",
		fuzzRequest,
		"\r\n",
		"",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, strict bool) {
		peer := &scriptConn{script: in}
		opts := AcceptOptions{Subprotocols: []string{"chat"}, Timeout: 5 * time.Second, URL: "ws://pipe"}
		if strict {
			opts.Path, opts.Origins = "/ws", []string{"http://ok"}
			opts.Compress = &Compression{ServerNoContextTakeover: true}
		}
		c, open, err := Accept(peer, opts, fuzzConfig())
		if err == nil {
			if open == nil || open.Role != inspect.RoleServer {
				t.Fatalf("accepted without an open event: %+v", open)
			}
			runBriefly(t, c)
		}
		got := peer.answer()
		switch {
		case err == nil && !bytes.HasPrefix(got, []byte("HTTP/1.1 101 ")):
			t.Fatalf("accepted, but answered %.40q", got)
		case err != nil && bytes.HasPrefix(got, []byte("HTTP/1.1 101 ")):
			t.Fatalf("answered 101, but refused: %v", err)
		}
	})
}

const fuzzResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"

// The fuzz targets reach the upgrade: their seeds open connections.
func TestHandshakeWithAScriptedPeer(t *testing.T) {
	t.Parallel()
	srv := &scriptConn{script: []byte(fuzzRequest + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")}
	c, open, err := Accept(srv, AcceptOptions{Compress: &Compression{}}, fuzzConfig())
	if err != nil || len(open.Extensions) != 1 {
		t.Fatalf("Accept: %v %+v", err, open)
	}
	runBriefly(t, c)
	cli := &scriptConn{script: []byte(fuzzResponse + "\r\n")}
	u, _ := ParseURL("ws://pipe/")
	c, _, err = Dial(context.Background(), DialOptions{URL: u, NetDial: func(context.Context, string, string) (net.Conn, error) { return cli, nil }}, fuzzConfig())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	runBriefly(t, c)
}

func FuzzDialResponse(f *testing.F) {
	const ok = fuzzResponse
	frames := tp.Frames(tp.ServerFrame(inspect.OpText, []byte("hello")), tp.ServerFrame(inspect.OpPing, []byte("p")), tp.ServerFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
	for _, s := range []string{
		ok + "\r\n",
		ok + "Sec-WebSocket-Protocol: chat\r\n\r\n",
		ok + "Sec-WebSocket-Protocol: unoffered\r\n\r\n",
		ok + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=15\r\n\r\n",
		ok + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n\r\n",
		ok + "Sec-WebSocket-Extensions: x-other\r\n\r\n",
		ok + "\r\n" + string(frames),
		strings.Replace(ok, "{accept}", "wrong", 1) + "\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"SSH-2.0-OpenSSH_9.6\r\n",
		ok,
		"",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, resp []byte, compress bool) {
		peer := &scriptConn{script: resp}
		u, _ := ParseURL("ws://pipe/")
		opts := DialOptions{URL: u, Subprotocols: []string{"chat"}, Timeout: 5 * time.Second,
			NetDial: func(context.Context, string, string) (net.Conn, error) { return peer, nil }}
		if compress {
			opts.Compress = &Compression{ClientNoContextTakeover: true}
		}
		c, open, err := Dial(context.Background(), opts, fuzzConfig())
		if err == nil {
			if open == nil || open.Response.Status != 101 {
				t.Fatalf("dialed without a 101: %+v", open)
			}
			runBriefly(t, c)
			return
		}
		var he *HandshakeError
		var ce *ConnectError
		if !errors.As(err, &he) && !errors.As(err, &ce) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if he != nil && len(he.Body) > maxErrorBody {
			t.Fatalf("kept %d bytes of body", len(he.Body))
		}
	})
}
