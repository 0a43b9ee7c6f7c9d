package demo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// What the demo says. Short texts fit the 7-bit length form, the welcome
// the 16-bit one; only the big message is long enough to be compressed.

const welcome = "Welcome to the wscope demo server. Coming up: a JSON tick every second, " +
	"a message in three fragments, a binary message, a ping, and a big message " +
	"(compressed when permessage-deflate was negotiated). Type anything and it comes back; type help for commands."

const tourEnd = "That was the tour. The ticker goes on; type help for what else this server does."

const help = "Commands (type them as messages): " +
	"ping [text]: the server pings you; " +
	"fragment [text]: a message in three fragments; " +
	"binary: a binary message; " +
	"big: a big JSON message, compressed when negotiated; " +
	"ticker on|off; " +
	"close [code [reason]]: the server closes, e.g. close 4000 bye; " +
	"anything else is echoed. " +
	"Slash commands (/ping, /close 1000, /fragment 3 hi, /help) send from your side instead."

// tourFragments is the tour's fragmented message, one piece per frame.
var tourFragments = [][]byte{[]byte("this message was sent "), []byte("in three frames: "), []byte("text, cont, cont+FIN")}

// sampleBinary is the tour's binary message: the 8-byte PNG signature and
// the start of an IHDR chunk, bytes that are not UTF-8.
var sampleBinary = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R'}

// tickMessage is the n-th tick of the JSON ticker.
func tickMessage(n int, now time.Time) []byte {
	price := 100 + 5*math.Sin(float64(n)/4)
	return fmt.Appendf(nil, `{"type":"tick","n":%d,"ts":%d,"price":%.2f}`, n, now.UnixMilli(), price)
}

// bigMessage is a JSON snapshot of about 6 KiB whose repetition deflate
// shrinks to a fraction.
func bigMessage() []byte {
	var b strings.Builder
	b.WriteString(`{"type":"snapshot","items":[`)
	for i := 1; i <= 80; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":` + strconv.Itoa(i) + `,"name":"item ` + strconv.Itoa(i) + `","status":"active","tags":["demo","wscope"]}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
