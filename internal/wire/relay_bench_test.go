package wire

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wscope/wscope/inspect"
)

// BenchmarkRelay is the relay's hot path: a client pipelines masked text
// messages through AcceptRelay to an upstream that echoes each frame back
// unmasked, and reads the echoes, over loopback TCP in this process. One
// op is one message relayed each way: two frames forwarded, two frame and
// two msg events reported (to a callback that does nothing: the relay
// alone, without wscope's output or recording). MB/s counts one
// direction. The peers are plain gobwas/ws loops that do not allocate per
// frame, so allocs/op are the relay's.
func BenchmarkRelay(b *testing.B) {
	for _, size := range []int{32, 64 << 10, 1 << 20} {
		b.Run(benchSizeName(size), func(b *testing.B) { benchmarkRelay(b, size) })
	}
}

func benchSizeName(n int) string {
	switch {
	case n >= 1<<20:
		return "1MiB"
	case n >= 1<<10:
		return "64KiB"
	}
	return "32B"
}

func benchmarkRelay(b *testing.B, size int) {
	upstream := benchEchoUpstream(b)
	u, err := ParseURL("ws://" + upstream.Addr().String() + "/")
	if err != nil {
		b.Fatal(err)
	}
	ln := listenLoopback(b)
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		r, _, err := AcceptRelay(context.Background(), nc, RelayOptions{Upstream: u, Timeout: step, Dial: DialOptions{Timeout: step}},
			Config{CloseTimeout: time.Second, OnEvent: func(*inspect.Event) {}})
		if err != nil {
			nc.Close()
			return
		}
		r.Run()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), step)
	conn, hsbr, _, err := ws.Dialer{}.Dial(ctx, "ws://"+ln.Addr().String()+"/")
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	var src io.Reader = conn
	if hsbr != nil {
		src = io.MultiReader(hsbr, conn)
	}
	br := bufio.NewReaderSize(src, 256<<10)
	bw := bufio.NewWriterSize(conn, 256<<10)

	// One masked text frame, written b.N times: the relay sees a fresh
	// frame each time all the same.
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	mask := [4]byte{1, 2, 3, 4}
	ws.Cipher(payload, mask, 0)
	var frame []byte
	{
		h := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: int64(size)}
		w := &sliceWriter{}
		ws.WriteHeader(w, h)
		frame = append(w.b, payload...)
	}

	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	echoed := make(chan error, 1)
	go func() {
		hbuf := make([]byte, ws.MaxHeaderSize)
		for i := 0; i < b.N; i++ {
			h, err := ws.ReadHeaderBuffer(br, hbuf)
			if err == nil && h.OpCode != ws.OpText {
				err = errors.New("echo is not a text frame")
			}
			if err == nil {
				_, err = br.Discard(int(h.Length))
			}
			if err != nil {
				echoed <- err
				return
			}
		}
		echoed <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, err := bw.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := <-echoed; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	conn.Close()
	<-relayDone
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// benchEchoUpstream is a WebSocket server on loopback that echoes every
// frame unmasked, flushing when it has nothing more to read, without
// allocating per frame (the frame loop of bench/echoserver).
func benchEchoUpstream(b *testing.B) net.Listener {
	ln := listenLoopback(b)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := ws.Upgrade(nc); err != nil {
					return
				}
				br := bufio.NewReaderSize(nc, 256<<10)
				bw := bufio.NewWriterSize(nc, 256<<10)
				hbuf := make([]byte, ws.MaxHeaderSize)
				p := make([]byte, 64<<10)
				for {
					h, err := ws.ReadHeaderBuffer(br, hbuf)
					if err != nil {
						return
					}
					if int(h.Length) > cap(p) {
						p = make([]byte, h.Length)
					}
					if _, err := io.ReadFull(br, p[:h.Length]); err != nil {
						return
					}
					if h.OpCode == ws.OpClose {
						return
					}
					if h.Masked {
						ws.Cipher(p[:h.Length], h.Mask, 0)
						h.Masked = false
					}
					if ws.WriteHeaderBuffer(bw, h, hbuf) != nil {
						return
					}
					bw.Write(p[:h.Length])
					if br.Buffered() == 0 && bw.Flush() != nil {
						return
					}
				}
			}()
		}
	}()
	return ln
}
