package wire

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// discardConn is a net.Conn that swallows writes: the cost of building,
// masking and reporting frames alone.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

func benchmarkWrite(b *testing.B, size int, role inspect.Role) {
	c := newConn(discardConn{}, bufio.NewReader(discardConn{}), role, Config{OnEvent: func(*inspect.Event) {}})
	p := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(inspect.OpText, p); err != nil {
			b.Fatal(err)
		}
	}
	c.Flush()
}

func BenchmarkFrameWriteClient32(b *testing.B) { benchmarkWrite(b, 32, inspect.RoleClient) }
func BenchmarkFrameWriteClient1M(b *testing.B) { benchmarkWrite(b, 1<<20, inspect.RoleClient) }
func BenchmarkFrameWriteServer32(b *testing.B) { benchmarkWrite(b, 32, inspect.RoleServer) }

// BenchmarkRoundTrip is pipe mode in miniature: a client Conn writes
// messages through its buffer and flushes when its batch is written, a
// server Conn echoes them, and the client counts the echoes, over
// loopback TCP.
func BenchmarkRoundTrip32(b *testing.B)  { benchmarkRoundTrip(b, 32, 256, false) }
func BenchmarkRoundTrip64K(b *testing.B) { benchmarkRoundTrip(b, 64<<10, 4, false) }

// The server with PoolBuffers, as listen runs it: pipelined, it reads
// through pooled buffers; one at a time, through its small one.
func BenchmarkRoundTrip32Pooled(b *testing.B)       { benchmarkRoundTrip(b, 32, 256, true) }
func BenchmarkRoundTrip32PooledSingle(b *testing.B) { benchmarkRoundTrip(b, 32, 1, true) }
func BenchmarkRoundTrip64KPooled(b *testing.B)      { benchmarkRoundTrip(b, 64<<10, 4, true) }

func benchmarkRoundTrip(b *testing.B, size, batch int, pooled bool) {
	ln := listenLoopback(b)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		var srv *Conn
		srv, _, err = Accept(nc, AcceptOptions{}, Config{PoolBuffers: pooled, OnEvent: func(e *inspect.Event) {
			if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ClientToServer {
				srv.WriteMessage(e.Msg.Op, e.Msg.Payload)
			}
		}})
		if err == nil {
			srv.Run()
		}
	}()
	u, _ := ParseURL("ws://" + ln.Addr().String())
	echoes := make(chan struct{}, 1<<16)
	c, _, err := Dial(b.Context(), DialOptions{URL: u}, Config{OnEvent: func(e *inspect.Event) {
		if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
			echoes <- struct{}{}
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	go c.Run()
	p := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		n := min(batch, b.N-sent)
		for range n {
			c.WriteMessage(inspect.OpBinary, p)
		}
		c.Flush()
		for range n {
			<-echoes
		}
		sent += n
	}
	b.StopTimer()
	c.Close(inspect.CloseNormal, "")
	c.Wait(time.Second)
}

// Writing and reporting a frame allocates nothing per frame, shown to an
// observer or not (an escaping header once cost 190 MB for 2M messages).
func TestFrameWriteDoesNotAllocate(t *testing.T) {
	for _, omit := range []bool{false, true} {
		c := newConn(discardConn{}, bufio.NewReader(discardConn{}), inspect.RoleClient, Config{OmitSent: omit, OnEvent: func(*inspect.Event) {}})
		p := make([]byte, 32)
		for range 1000 { // the queue and arena grow to their size
			c.WriteMessage(inspect.OpText, p)
		}
		c.Flush()
		allocs := testing.AllocsPerRun(1000, func() {
			for range 100 {
				c.WriteMessage(inspect.OpText, p)
			}
			c.Flush()
		})
		if allocs != 0 {
			t.Errorf("OmitSent %v: %.1f allocations per 100 frames", omit, allocs)
		}
	}
}
