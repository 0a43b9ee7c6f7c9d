package pcap

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/wscope/wscope/inspect"
	wsrec "github.com/wscope/wscope/internal/record"
)

// FuzzRead: no input makes Read panic, every event is well formed, and
// what Read allocates stays in proportion to the input (lying lengths in
// file, link, IP, TCP or frame headers, zip bombs and reordering cost no
// more than the bounds say).
func FuzzRead(f *testing.F) {
	// The start of the real captures (handshakes and first frames): small
	// seeds keep the fuzzer fast, since it minimizes every new input.
	for _, name := range []string{"plain.pcap", "deflate.pcapng"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:3000])
	}
	basic := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	f.Add(pcapFile(binary.BigEndian, true, linkSLL, packets(linkSLL, basic.pkts...)))
	f.Add(pcapngFile(binary.LittleEndian, linkRaw, packets(linkRaw, basic.pkts[3:]...)))
	z := newDeflater(true)
	f.Add(deflateSession("", func(fl *flow) {
		fl.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("hello hello hello"))))
		fl.send(true, wsFrame(true, 0b100, inspect.OpText, true, z.compress([]byte("hello again"))))
		fl.send(false, wsFrame(false, 0, inspect.OpBinary, false, []byte{1, 2, 3}))
		fl.send(false, wsFrame(true, 0, inspect.OpContinuation, false, []byte{4}))
	}))
	f.Add([]byte{0xa1, 0xb2, 0xc3, 0xd4})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0x1c, 0x1a, 0x2b, 0x3c, 0x4d})

	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := Read(bytes.NewReader(b), Options{MaxMessageSize: limit}, func(e *inspect.Event) error {
			ok := true
			switch e.Kind {
			case inspect.KindOpen:
				ok = e.Open != nil && e.Conn > 0
			case inspect.KindFrame:
				ok = e.Frame != nil && e.Conn > 0 && uint64(len(e.Frame.Payload)) <= e.Frame.Length && len(e.Frame.Raw) == e.Frame.Header.Size()
			case inspect.KindMsg:
				ok = e.Msg != nil && e.Conn > 0 && len(e.Msg.Payload) <= limit && len(e.Msg.Frames) > 0
			case inspect.KindEnd:
				ok = e.End != nil && e.Conn > 0
			case inspect.KindError, inspect.KindGap:
				ok = e.Text != "" && e.Conn >= 0
			default:
				ok = false
			}
			if !ok {
				t.Fatalf("malformed event %s", wsrec.AppendEvent(nil, e))
			}
			wsrec.AppendEvent(nil, e)
			return nil
		})
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20+1024*uint64(len(b)) {
			t.Fatalf("%d bytes of input made Read allocate %d bytes", len(b), n)
		}
	})
}
