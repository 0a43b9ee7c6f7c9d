package cmd

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	"github.com/wscope/wscope/internal/wire"
)

// echoServer serves a wscope echo on loopback for the pipe benchmarks.
func echoServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var c *wire.Conn
				c, _, err := wire.Accept(nc, wire.AcceptOptions{}, wire.Config{OmitSent: true, OnEvent: func(e *inspect.Event) {
					if e.Kind == inspect.KindMsg {
						c.WriteMessage(e.Msg.Op, e.Msg.Payload)
					}
				}})
				if err == nil {
					c.Run()
				}
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// benchmarkPipe runs `wscope connect URL` in pipe mode: b.N lines of size
// bytes on stdin, the echoes on stdout.
func benchmarkPipe(b *testing.B, size int) {
	url := echoServer(b)
	line := strings.Repeat("x", size) + "\n"
	in := strings.Repeat(line, b.N)
	var out countWriter
	ios := &IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: io.Discard}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	if code := Run(context.Background(), ios, []string{"connect", url}); code != 0 {
		b.Fatalf("exit %d", code)
	}
	b.StopTimer()
	if out.n != int64(len(in)) {
		b.Fatalf("got %d bytes back, want %d", out.n, len(in))
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func BenchmarkPipeRoundTrip32(b *testing.B) { benchmarkPipe(b, 32) }
func BenchmarkPipeRoundTrip1M(b *testing.B) { benchmarkPipe(b, 1<<20) }
