package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// benchCapture builds a capture of one WebSocket connection carrying
// about size bytes each way: the client sends masked 200-byte text
// frames, the server 1000-byte JSON ones (compressed when deflate), cut
// into 1448-byte TCP segments wherever the frames fall, the two
// directions interleaved, each segment acknowledged by the next packet
// the other way.
func benchCapture(size int, deflate bool) (file []byte, frames int) {
	ext := ""
	if deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	f := newFlow("10.0.0.1:50000", "10.0.0.2:8080")
	f.syn()
	f.send(true, []byte(upgradeRequest))
	f.send(false, []byte(upgradeResponse(ext)))
	var c2s, s2c []byte
	text := []byte(`{"type":"update","id":12345,"values":[1,2,3,4,5,6,7,8,9,10],"note":"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore"}`)
	text = append(text, bytes.Repeat([]byte{' '}, 200-len(text))...)
	z := newDeflater(true)
	for len(c2s) < size {
		c2s = append(c2s, clientText(string(text))...)
		frames++
	}
	// The server's messages: about 1000 bytes of JSON whose numbers
	// change, so that even with context takeover each compresses to a few
	// hundred bytes.
	x := uint32(1)
	for i := 0; len(s2c) < size; i++ {
		msg := fmt.Appendf(nil, `{"seq":%d,"rows":[`, i)
		for len(msg) < 980 {
			x = x*1103515245 + 12345
			msg = fmt.Appendf(msg, `{"k":%d,"v":%d},`, x>>24, x>>8&0xFFFF)
		}
		msg = append(msg[:len(msg)-1], "]}"...)
		if deflate {
			s2c = append(s2c, wsFrame(true, 0b100, inspect.OpText, false, z.compress(msg))...)
		} else {
			s2c = append(s2c, wsFrame(true, 0, inspect.OpText, false, msg)...)
		}
		frames++
	}
	const mss = 1448
	for len(c2s) > 0 || len(s2c) > 0 {
		if len(c2s) > 0 {
			n := min(mss, len(c2s))
			f.send(true, c2s[:n])
			c2s = c2s[n:]
		}
		if len(s2c) > 0 {
			n := min(mss, len(s2c))
			f.send(false, s2c[:n])
			s2c = s2c[n:]
		}
	}
	f.send(true, closeFrame(true, 1000, ""))
	f.send(false, closeFrame(false, 1000, ""))
	f.fin(false)
	f.fin(true)
	return pcapFile(binary.LittleEndian, true, linkEthernet, packets(linkEthernet, f.pkts...)), frames
}

// BenchmarkRead reads a capture of about 64 MB (32 MB of WebSocket
// frames each way) and reports the throughput in capture bytes.
func BenchmarkRead(b *testing.B) {
	for _, deflate := range []bool{false, true} {
		b.Run(fmt.Sprintf("deflate=%v", deflate), func(b *testing.B) {
			file, frames := benchCapture(32<<20, deflate)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				err := Read(bytes.NewReader(file), Options{}, func(e *inspect.Event) error {
					if e.Kind == inspect.KindFrame {
						n++
					}
					return nil
				})
				if err != nil || n != frames+2 {
					b.Fatalf("err %v, %d frames, want %d", err, n, frames+2)
				}
			}
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
