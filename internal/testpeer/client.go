package testpeer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Subprotocols offered, in order.
	Subprotocols []string
	// Header is added to the upgrade request.
	Header http.Header
	// Compression offers permessage-deflate (gorilla offers no context
	// takeover in both directions).
	Compression bool
	// FrameSize is gorilla's write buffer size, and so the fragment size:
	// an uncompressed message longer than FrameSize goes out as frames of
	// exactly FrameSize payload bytes, the last one shorter. Default 4096.
	FrameSize int
	// ReadLimit caps a received message; 0 means no limit.
	ReadLimit int64
	// Timeout bounds the handshake; default DefaultTimeout.
	Timeout time.Duration
}

// Client is a WebSocket client on github.com/gorilla/websocket, to drive
// `wscope listen` and `wscope proxy` with an implementation that is not
// wscope's. A goroutine reads all the time, so pings are answered and
// closes echoed as they arrive; the test takes messages with Read.
type Client struct {
	t    testing.TB
	conn *gws.Conn
	resp *http.Response
	wmu  sync.Mutex

	mu      sync.Mutex
	changed chan struct{}
	msgs    []Msg
	pings   [][]byte
	pongs   [][]byte
	closed  *CloseInfo // the close frame the server sent
	closing bool       // we sent a close frame
	readErr error
	done    chan struct{}
}

// Dial connects to url and fails the test if the handshake does not
// succeed. The connection is closed at cleanup.
func Dial(t testing.TB, url string, opts ClientOptions) *Client {
	t.Helper()
	c, resp, err := TryDial(t, url, opts)
	if err != nil {
		status := ""
		if resp != nil {
			status = " (" + resp.Status + ")"
		}
		t.Fatalf("testpeer: Dial %s: %v%s", url, err, status)
	}
	return c
}

// TryDial is Dial returning the error, and the response of a refused
// handshake (its Body holds up to 1 KiB of the server's body), so tests can
// check how `wscope listen` refuses.
func TryDial(t testing.TB, url string, opts ClientOptions) (*Client, *http.Response, error) {
	t.Helper()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := gws.Dialer{
		HandshakeTimeout:  timeout,
		Subprotocols:      opts.Subprotocols,
		EnableCompression: opts.Compression,
		WriteBufferSize:   opts.FrameSize,
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, url, opts.Header)
	if err != nil {
		return nil, resp, err
	}
	c := &Client{t: t, conn: conn, resp: resp, changed: make(chan struct{}), done: make(chan struct{})}
	if opts.ReadLimit > 0 {
		conn.SetReadLimit(opts.ReadLimit)
	}
	conn.SetPingHandler(func(data string) error {
		c.mu.Lock()
		c.pings = append(c.pings, []byte(data))
		c.changedLocked()
		c.mu.Unlock()
		err := conn.WriteControl(gws.PongMessage, []byte(data), time.Now().Add(DefaultTimeout))
		if errors.Is(err, gws.ErrCloseSent) {
			return nil
		}
		return err
	})
	conn.SetPongHandler(func(data string) error {
		c.mu.Lock()
		c.pongs = append(c.pongs, []byte(data))
		c.changedLocked()
		c.mu.Unlock()
		return nil
	})
	conn.SetCloseHandler(func(code int, text string) error {
		c.mu.Lock()
		c.closed = &CloseInfo{Code: code, Reason: text}
		reply := !c.closing
		c.closing = true
		c.changedLocked()
		c.mu.Unlock()
		if reply {
			_ = conn.WriteControl(gws.CloseMessage, gws.FormatCloseMessage(code, ""), time.Now().Add(DefaultTimeout))
		}
		return nil
	})
	go c.readLoop()
	t.Cleanup(func() {
		_ = conn.Close()
		select {
		case <-c.done:
		case <-time.After(DefaultTimeout):
			t.Errorf("testpeer: Client reader still running %v after cleanup began", DefaultTimeout)
		}
	})
	return c, resp, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		typ, data, err := c.conn.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.readErr = err
			c.changedLocked()
			c.mu.Unlock()
			return
		}
		c.msgs = append(c.msgs, Msg{Binary: typ == gws.BinaryMessage, Data: data})
		c.changedLocked()
		c.mu.Unlock()
	}
}

func (c *Client) changedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait polls cond under c.mu at every change until it holds or timeout.
func (c *Client) wait(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok := cond()
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			c.mu.Lock()
			defer c.mu.Unlock()
			return cond()
		}
	}
}

// Response returns the server's handshake response (headers only).
func (c *Client) Response() *http.Response { return c.resp }

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Client) Subprotocol() string { return c.conn.Subprotocol() }

// Send sends one data message, masked by gorilla: one frame, or frames of
// ClientOptions.FrameSize bytes when it is longer.
func (c *Client) Send(m Msg) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	typ := gws.TextMessage
	if m.Binary {
		typ = gws.BinaryMessage
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(DefaultTimeout)); err != nil {
		return err
	}
	return c.conn.WriteMessage(typ, m.Data)
}

// Ping sends a ping with data (at most 125 bytes). The pong shows up in
// ReadPong.
func (c *Client) Ping(data []byte) error {
	return c.conn.WriteControl(gws.PingMessage, data, time.Now().Add(DefaultTimeout))
}

// Read returns the next data message, waiting up to timeout. Once the
// connection has ended and every message was taken, it returns the error
// that ended it (a *websocket.CloseError from gorilla after a close frame).
func (c *Client) Read(timeout time.Duration) (Msg, error) {
	var m Msg
	var err error
	ok := c.wait(timeout, func() bool {
		if len(c.msgs) > 0 {
			m, c.msgs = c.msgs[0], c.msgs[1:]
			return true
		}
		if c.readErr != nil {
			err = c.readErr
			return true
		}
		return false
	})
	if !ok {
		return Msg{}, fmt.Errorf("testpeer: no message within %v", timeout)
	}
	return m, err
}

// ReadPong returns the payload of the next pong received, waiting up to
// timeout.
func (c *Client) ReadPong(timeout time.Duration) ([]byte, error) {
	var p []byte
	var err error
	ok := c.wait(timeout, func() bool {
		if len(c.pongs) > 0 {
			p, c.pongs = c.pongs[0], c.pongs[1:]
			return true
		}
		if c.readErr != nil {
			err = c.readErr
			return true
		}
		return false
	})
	if !ok {
		return nil, fmt.Errorf("testpeer: no pong within %v", timeout)
	}
	return p, err
}

// Pings returns the payloads of the pings received so far (each answered
// with a pong already).
func (c *Client) Pings() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.pings...)
}

// Close performs the close handshake: it sends a close frame with code and
// reason (code 1005 sends an empty close frame), waits for the server's
// close frame, closes TCP and returns what the server sent. If the server
// closed first, it returns that close without sending anything.
func (c *Client) Close(code int, reason string) (CloseInfo, error) {
	c.mu.Lock()
	send := !c.closing
	c.closing = true
	c.mu.Unlock()
	if send {
		err := c.conn.WriteControl(gws.CloseMessage, gws.FormatCloseMessage(code, reason), time.Now().Add(DefaultTimeout))
		if err != nil && !errors.Is(err, gws.ErrCloseSent) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.closed != nil {
				return *c.closed, nil
			}
			return CloseInfo{}, fmt.Errorf("testpeer: sending close: %w", err)
		}
	}
	ended := c.wait(DefaultTimeout, func() bool { return c.readErr != nil })
	_ = c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed != nil {
		return *c.closed, nil
	}
	if !ended {
		return CloseInfo{}, fmt.Errorf("testpeer: no close frame from the server within %v", DefaultTimeout)
	}
	return CloseInfo{}, fmt.Errorf("testpeer: connection ended without a close frame: %w", c.readErr)
}

// CloseStatus returns the close frame the server sent; ok is false if none
// arrived (yet).
func (c *Client) CloseStatus() (CloseInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed == nil {
		return CloseInfo{}, false
	}
	return *c.closed, true
}

// WaitClosed waits until the connection has ended (the server closed it,
// cleanly or not) and returns CloseStatus. It fails the test after timeout.
func (c *Client) WaitClosed(timeout time.Duration) (CloseInfo, bool) {
	c.t.Helper()
	if !c.wait(timeout, func() bool { return c.readErr != nil }) {
		c.t.Fatalf("testpeer: Client connection still open after %v", timeout)
	}
	return c.CloseStatus()
}

// Err returns the error that ended the connection, or nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}
