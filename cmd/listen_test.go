package cmd

import (
	"context"
	"net"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wscope/wscope/internal/session"
)

func parseListen(t *testing.T, args ...string) (*ListenOptions, error) {
	t.Helper()
	return parseCmd(t, nil, NewCmdListen, args...)
}

func TestNewCmdListen(t *testing.T) {
	t.Parallel()
	o, err := parseListen(t)
	if err != nil || o.Addr != DefaultListenAddr || o.Output != session.FormatText || o.MaxConns != session.DefaultMaxConns || o.IdleTimeout != 0 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = parseListen(t, "9000", "--path", "/ws", "--origin", "https://a,https://b", "--origin", "https://c",
		"--max-conns", "3", "--broadcast", "--once", "-s", "x,y", "--echo", "-o", "frames", "--fragment", "10",
		"--max-message-size", "1KiB", "--strict", "--no-auto-pong", "--close-timeout", "2s", "--idle-timeout", "1m")
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "9000" || o.Path != "/ws" || !slices.Equal(o.Origins, []string{"https://a", "https://b", "https://c"}) ||
		o.MaxConns != 3 || !o.Broadcast || !o.Once || !slices.Equal(o.Subprotocols, []string{"x", "y"}) || !o.Echo ||
		o.Output != session.FormatFrames || o.Fragment != 10 || o.MaxMessageSize != 1024 || !o.Strict || !o.NoAutoPong || o.CloseTimeout != 2*time.Second || o.IdleTimeout != time.Minute {
		t.Errorf("options %+v", o)
	}
	if _, err := parseListen(t, "a", "b"); err == nil {
		t.Error("two addresses accepted")
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"8080": "127.0.0.1:8080", ":9000": ":9000", "0.0.0.0:1": "0.0.0.0:1", "[::1]:80": "[::1]:80"} {
		if got := listenAddr(in); got != want {
			t.Errorf("listenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestListenRunEchoInProcess drives listenRun with fake streams and a
// gorilla client, then stops it through its context.
func TestListenRunEchoInProcess(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO("")
	addrc := make(chan net.Addr, 1)
	opts := &ListenOptions{IO: ios, Addr: "127.0.0.1:0", ready: func(a net.Addr) { addrc <- a }}
	opts.sessionOptions = defaultSession()
	opts.Echo = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- listenRun(ctx, opts) }()
	addr := <-addrc
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, p, err := c.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage || string(p) != "\x01\x02\x03" {
		t.Fatalf("echo: %d %q %v", typ, p, err)
	}
	cancel()
	// Cancelling closes clients with 1001; gorilla answers the close.
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("client saw %v, want 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "[1] AQID\n" {
		t.Errorf("stdout %q", got)
	}
}

// With --broadcast, a client that stops reading is dropped once a write to
// it has waited the write timeout; the others get every message.
func TestListenBroadcastDropsAStalledClient(t *testing.T) {
	t.Parallel()
	ios, _, errOut := testIO("")
	addrc := make(chan net.Addr, 1)
	opts := &ListenOptions{IO: ios, Addr: "127.0.0.1:0", Broadcast: true, writeTimeout: 300 * time.Millisecond, ready: func(a net.Addr) { addrc <- a }}
	opts.sessionOptions = defaultSession()
	opts.CloseTimeout = 500 * time.Millisecond // the sender reads nothing: no answer to the final close
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- listenRun(ctx, opts) }()
	url := "ws://" + (<-addrc).String() + "/"
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sender, reader, stalled := dial(), dial(), dial()
	_ = stalled // never reads
	const n = 16
	big := make([]byte, 1<<20)
	go func() {
		for i := range n {
			big[0] = byte(i)
			if sender.WriteMessage(websocket.BinaryMessage, big) != nil {
				return
			}
		}
	}()
	reader.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		_, p, err := reader.ReadMessage()
		if err != nil || len(p) != len(big) || p[0] != byte(i) {
			t.Fatalf("message %d: %d bytes, %v", i, len(p), err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e := errOut.String(); !regexp.MustCompile(`\[3\] closed: .*took nothing of what was sent for 300ms`).MatchString(e) {
		t.Errorf("stderr does not say the stalled client was dropped:\n%s", e)
	}
}
