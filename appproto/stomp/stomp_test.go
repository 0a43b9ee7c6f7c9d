package stomp

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

// The STOMP 1.2 specification's frames, in a session.
func TestSpecFrames(t *testing.T) {
	at.Run(t, &Decoder{version: "1.2"}, []at.Case{
		{Msg: at.C2S("CONNECT\naccept-version:1.2\nhost:stomp.github.org\nheart-beat:10000,10000\n\n\x00"),
			Summary: "stomp CONNECT accept-version=1.2 heart-beat=10000,10000", Corr: "connect/request", Fields: []string{"host=stomp.github.org"}},
		{Msg: at.S2C("CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\x00"), Summary: "stomp CONNECTED version=1.2 heart-beat=0,0", Corr: "connect/answer"},
		{Msg: at.C2S("SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\x00"), Summary: "stomp SUBSCRIBE destination=/queue/foo id=0 ack=client", Op: "/queue/foo"},
		{Msg: at.C2S("SEND\ndestination:/queue/a\ncontent-type:text/plain\nreceipt:77\n\nhello queue a\x00"),
			Summary: `stomp SEND destination=/queue/a receipt=77 13 B "hello queue a"`, Corr: "receipt 77/request", Fields: []string{"body=hello queue a", "bodySize=13"}},
		{Msg: at.S2C("RECEIPT\nreceipt-id:77\n\n\x00"), Summary: "stomp RECEIPT receipt-id=77", Corr: "receipt 77/answer", Op: "/queue/a"},
		{Msg: at.S2C("MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\x00"),
			Summary: `stomp MESSAGE destination=/queue/a subscription=0 message-id=007 13 B "hello queue a"`},
		{Msg: at.C2S("\n"), Summary: "stomp heart-beat"},
		{Msg: at.S2C("\r\n"), Summary: "stomp heart-beat"},
		// Two frames in one message, a body with a NUL held by
		// content-length, escaped header values (1.2 "Value Encoding").
		{Msg: at.C2S("SEND\ndestination:/a\\cb\ncontent-length:3\n\na\x00b\x00\nACK\nid:12\n\n\x00"),
			Summary: `stomp SEND destination=/a:b 3 B "a b" | stomp heart-beat | stomp ACK id=12`, Fields: []string{"destination=/a:b", "bodySize=3"}},
		{Msg: at.S2C("ERROR\nreceipt-id:77\nmessage:malformed frame received\n\nThe message:\n-----\nMESSAGE\n\x00"),
			Summary: `stomp ERROR receipt-id=77 message=malformed frame received 27 B "The message: ----- MESSAGE "`, Corr: "receipt 77/answer"},
		// Repeated headers: the first counts.
		{Msg: at.S2C("MESSAGE\nfoo:World\nfoo:Hello\n\n\x00"), Summary: "stomp MESSAGE", Fields: []string{"foo=World"}},
	})
}

// A frame across messages.
func TestSpanning(t *testing.T) {
	d := &Decoder{version: "1.2"}
	got := at.Summaries(d, at.C2S("SEND\ndestination:/q\n"), at.C2S("\nbo"), at.C2S("dy\x00"))
	want := "stomp (partial frame, 20 B so far)\nstomp (partial frame, 23 B so far)\nstomp SEND destination=/q 4 B \"body\""
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []at.Case{
		{Msg: at.C2S("FOO\n\n\x00"), Summary: `stomp FOO ?? unknown command "FOO"`, Err: true},
		{Msg: at.C2S("SEND\nnocolon\n\n\x00"), Summary: `stomp SEND ?? header line without a colon: "nocolon"`, Err: true},
		{Msg: at.C2S("SEND\ncontent-length:x\n\n\x00"), Summary: `stomp SEND ?? content-length is not a number: "x"`, Err: true},
		{Msg: at.C2S("SEND\x00"), Summary: `stomp ?? frame without the blank line that ends its headers`, Err: true},
		{Msg: at.C2S("SEND\ncontent-length:999999999\n\n\x00"), Summary: `stomp SEND ?? content-length 999999999 is more than this decoder holds`, Err: true},
	} {
		at.Run(t, &Decoder{version: "1.2"}, []at.Case{c})
	}
}

func TestSniff(t *testing.T) {
	if Protocol.Sniff(at.C2S("CONNECT\naccept-version:1.2\n\n\x00")) == "" {
		t.Error("CONNECT not sniffed")
	}
	if Protocol.Sniff(at.Text(inspect.ServerToClient, "CONNECT\n\n\x00")) != "" {
		t.Error("sniffed from the server")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"CONNECT\naccept-version:1.2\n\n\x00", "SEND\ndestination:/a\\cb\ncontent-length:3\n\na\x00b\x00\n", "SEND\n\xffdestination:/q\n\nbody\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "v12.stomp", data) })
}
