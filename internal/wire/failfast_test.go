package wire

import (
	"context"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// Autobahn 6.4.1 and 6.4.3: text that turns invalid (U+110000 as F4 90 80
// 80) in its second fragment, or in the second piece of one frame, fails
// the connection under --strict at once, before the third part is sent.
func TestStrictFailsAtTheFirstImpossibleText(t *testing.T) {
	t.Parallel()
	part1, part2, part3 := []byte("κόσμε"), []byte{0xf4, 0x90, 0x80, 0x80}, []byte("edited")
	whole := append(append(append([]byte(nil), part1...), part2...), part3...)
	for _, c := range []struct {
		name  string
		parts [][]byte // written one after another, with a pause
	}{
		{"in fragments", [][]byte{
			tp.FrameSpec{Op: inspect.OpText, Payload: part1}.Bytes(),
			tp.FrameSpec{Op: inspect.OpContinuation, Payload: part2}.Bytes(),
			tp.FrameSpec{Fin: true, Op: inspect.OpContinuation, Payload: part3}.Bytes(),
		}},
		{"in pieces of one frame", chop(tp.ServerFrame(inspect.OpText, whole).Bytes(), len(part1)+2, len(part1)+2+len(part2))},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			closed := make(chan inspect.CloseCode, 1)
			srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
				rc.Accept()
				for i, p := range c.parts {
					rc.WriteRaw(p)
					if i == len(c.parts)-1 {
						break
					}
					f, err := rc.ReadFrame(300 * time.Millisecond)
					if err == nil && f.Op == inspect.OpClose {
						ci, _ := f.Close()
						closed <- inspect.CloseCode(ci.Code)
						return
					}
				}
				closed <- 0 // the connection was not failed before the end
			})
			u, _ := ParseURL(srv.URL())
			c, _, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step}, Config{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Abort()
			go c.Run()
			select {
			case code := <-closed:
				if code != inspect.CloseInvalidPayload {
					t.Errorf("the server saw close %d before its last part, want 1007 after the invalid one", code)
				}
			case <-time.After(step):
				t.Fatal("the server saw nothing")
			}
		})
	}
}

// chop cuts b at the given offsets (after its header, offsets count from
// the start of b).
func chop(b []byte, at ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, a := range at {
		out = append(out, b[prev:a])
		prev = a
	}
	return append(out, b[prev:])
}
