package wire

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// A PoolBuffers server reads through its small buffer, a pooled one
// while several frames come at once, and a pooled write buffer: every
// message comes back whole and in order across those changes (bursts,
// sizes around the small buffer's, frames larger than the pooled one,
// pauses that let it give everything back). The client is gorilla's.
func TestPoolBuffersEchoEveryMessage(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	ended := make(chan inspect.End, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		var c *Conn
		c, _, err = Accept(nc, AcceptOptions{Timeout: step}, Config{PoolBuffers: true, OmitSent: true, OnEvent: func(e *inspect.Event) {
			if e.Kind == inspect.KindMsg {
				c.WriteMessage(e.Msg.Op, e.Msg.Payload)
			}
		}})
		if err != nil {
			t.Error(err)
			ended <- inspect.End{}
			return
		}
		ended <- c.Run()
	}()
	cl := tp.Dial(t, "ws://"+ln.Addr().String()+"/", tp.ClientOptions{})
	var sent [][]byte
	sizes := []int{0, 1, 32, smallBufSize - 20, smallBufSize - 14, smallBufSize, smallBufSize + 1, 4 << 10, bufSize - 1, bufSize + 7, 1 << 20}
	for round, burst := range []int{1, 3, 50} {
		for i := range burst {
			for _, n := range sizes {
				if n > bufSize && burst > 3 {
					continue // the race detector makes 50 MiB slow
				}
				p := bytes.Repeat([]byte{byte('a' + (round+i+n)%26)}, n)
				if err := cl.Send(tp.TextMsg(string(p))); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, p)
			}
		}
		for i, want := range sent {
			got, err := cl.Read(step)
			if err != nil {
				t.Fatalf("burst %d, message %d of %d (%d bytes): %v", burst, i, len(sent), len(want), err)
			}
			if !bytes.Equal(got.Data, want) {
				t.Fatalf("burst %d, message %d: got %d bytes %s, want %d bytes", burst, i, len(got.Data), prefix(got.Data), len(want))
			}
		}
		sent = sent[:0]
		time.Sleep(20 * time.Millisecond) // silent: the server gives its buffers back
	}
	cl.Close(1000, "")
	if end := <-ended; !end.Clean {
		t.Errorf("end %+v", end)
	}
}

func prefix(p []byte) string {
	if len(p) > 16 {
		return fmt.Sprintf("%q...", p[:16])
	}
	return fmt.Sprintf("%q", p)
}
