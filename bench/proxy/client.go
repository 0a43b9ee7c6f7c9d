package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/gobwas/ws"
)

// client is the driver's own WebSocket client, on gobwas/ws with nothing
// around it: masked text frames out through a buffered writer, frames in
// through a buffered reader, no allocation per message. The same client
// talks to the echo server directly and through the proxy.
type client struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	rng  *rand.PCG
	whdr []byte
	rhdr []byte
	out  []byte // a message being masked
	in   []byte // an echo being read
}

const clientBuf = 256 << 10

func dial(ctx context.Context, url string) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := ws.Dialer{ReadBufferSize: clientBuf, WriteBufferSize: 4096}
	conn, hsbr, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	// Bytes the server sent right behind its 101 are in hsbr.
	var src io.Reader = conn
	if hsbr != nil {
		src = io.MultiReader(hsbr, conn)
	}
	return &client{
		conn: conn,
		br:   bufio.NewReaderSize(src, clientBuf),
		bw:   bufio.NewWriterSize(conn, clientBuf),
		rng:  rand.NewPCG(rand.Uint64(), rand.Uint64()),
		whdr: make([]byte, ws.MaxHeaderSize),
		rhdr: make([]byte, ws.MaxHeaderSize),
	}, nil
}

// write buffers msg as one masked text frame (msg itself is not changed).
func (c *client) write(msg []byte) error {
	m := c.rng.Uint64()
	mask := [4]byte{byte(m), byte(m >> 8), byte(m >> 16), byte(m >> 24)}
	c.out = append(c.out[:0], msg...)
	ws.Cipher(c.out, mask, 0)
	h := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: int64(len(msg))}
	if err := ws.WriteHeaderBuffer(c.bw, h, c.whdr); err != nil {
		return err
	}
	_, err := c.bw.Write(c.out)
	return err
}

// read returns the next data frame's payload, valid until the next read.
// The echo server echoes frame by frame and sends no control frames of
// its own, so a frame is a message.
func (c *client) read() ([]byte, error) {
	h, err := ws.ReadHeaderBuffer(c.br, c.rhdr)
	if err != nil {
		return nil, err
	}
	if int64(cap(c.in)) < h.Length {
		c.in = make([]byte, h.Length)
	}
	p := c.in[:h.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return nil, err
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	if h.OpCode != ws.OpText || !h.Fin {
		return nil, fmt.Errorf("got a %v frame (fin %v), want the echo of a text frame", h.OpCode, h.Fin)
	}
	return p, nil
}

// close does the close handshake: a close frame (1000), then frames are
// read until the server's close frame comes back.
func (c *client) close() error {
	defer c.conn.Close()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	mask := ws.NewMask()
	ws.Cipher(body, mask, 0)
	h := ws.Header{Fin: true, OpCode: ws.OpClose, Masked: true, Mask: mask, Length: int64(len(body))}
	err := ws.WriteHeaderBuffer(c.bw, h, c.whdr)
	if err == nil {
		_, err = c.bw.Write(body)
	}
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("sending the close frame: %w", err)
	}
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.rhdr)
		if err != nil {
			return fmt.Errorf("waiting for the close frame: %w", err)
		}
		if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
			return err
		}
		if h.OpCode == ws.OpClose {
			return nil
		}
	}
}

// ---- messages ----

// messages makes message i of size bytes: a printable ASCII body, the
// same for every message, behind the message's number in 8 decimal
// digits. An echo is checked against its number and the body.
type messages struct {
	size int
	body []byte
	buf  []byte
}

func newMessages(size int) *messages {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:;!?#$%&()[]{}+*=/@~^ "
	m := &messages{size: size, body: make([]byte, size), buf: make([]byte, size)}
	x := uint64(0x9E3779B97F4A7C15)
	for j := range m.body {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		m.body[j] = alphabet[x%uint64(len(alphabet))]
	}
	return m
}

// get returns message i, valid until the next get.
func (m *messages) get(i int) []byte {
	copy(m.buf, m.body)
	stamp(m.buf, i)
	return m.buf
}

// check reports whether p is the echo of message i.
func (m *messages) check(p []byte, i int) bool {
	if len(p) != m.size {
		return false
	}
	var want [8]byte
	stamp(want[:], i)
	n := min(8, m.size)
	return bytes.Equal(p[:n], want[:n]) && bytes.Equal(p[n:], m.body[n:])
}

// stamp writes i in 8 decimal digits at the start of p (fewer if p is
// shorter).
func stamp(p []byte, i int) {
	for j := min(8, len(p)) - 1; j >= 0; j-- {
		p[j] = byte('0' + i%10)
		i /= 10
	}
}

// ---- the workloads ----

// latencyRun is one run of sequential round trips.
type latencyRun struct {
	rtts []time.Duration // sorted
}

// roundTrips sends n messages one at a time, each after the echo of the
// one before, after warm ones that are not counted, and times each from
// the frame's flush to its echo's last byte.
func roundTrips(c *client, n, warm, size int) (*latencyRun, error) {
	msgs := newMessages(size)
	rtts := make([]time.Duration, 0, n)
	for i := range warm + n {
		msg := msgs.get(i)
		if err := c.write(msg); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := c.bw.Flush(); err != nil {
			return nil, err
		}
		p, err := c.read()
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("round trip %d: %w", i, err)
		}
		if !msgs.check(p, i) {
			return nil, fmt.Errorf("round trip %d: the echo differs from the message", i)
		}
		if i >= warm {
			rtts = append(rtts, d)
		}
	}
	slices.Sort(rtts)
	return &latencyRun{rtts: rtts}, nil
}

// percentile is the nearest-rank q-quantile (0 < q <= 1).
func (r *latencyRun) percentile(q float64) time.Duration {
	if len(r.rtts) == 0 {
		return 0
	}
	i := int(q*float64(len(r.rtts))+0.999999) - 1
	return r.rtts[max(0, min(i, len(r.rtts)-1))]
}

// pipelined sends n messages as fast as the connection takes them while
// another goroutine reads the echoes, and returns the time from the first
// byte sent to the last echo read, and how many echoes were intact.
func pipelined(c *client, n, size int) (time.Duration, int, error) {
	out := newMessages(size)
	in := newMessages(size)
	werr := make(chan error, 1)
	start := time.Now()
	go func() {
		for i := range n {
			if err := c.write(out.get(i)); err != nil {
				werr <- err
				return
			}
		}
		werr <- c.bw.Flush()
	}()
	got := 0
	var rerr error
	for i := range n {
		p, err := c.read()
		if err != nil {
			rerr = fmt.Errorf("echo %d: %w", i, err)
			break
		}
		if !in.check(p, i) {
			rerr = fmt.Errorf("echo %d differs from the message", i)
			break
		}
		got++
	}
	d := time.Since(start)
	if rerr != nil {
		// Unblock the writer.
		c.conn.Close()
		<-werr
		return d, got, rerr
	}
	if err := <-werr; err != nil {
		return d, got, fmt.Errorf("sending: %w", err)
	}
	return d, got, nil
}
