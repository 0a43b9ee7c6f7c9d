package mqtt

import (
	"encoding/hex"
	"strings"
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

// pkt builds bytes from hex with spaces and "quoted" strings as their
// bytes: pkt(`10 0c 0004 "MQTT" 04 02 003c 0000`).
//
// With "XX | body", the Remaining Length of body goes between.
func pkt(t testing.TB, s string) []byte {
	if head, body, ok := strings.Cut(s, "|"); ok {
		b := pkt(t, body)
		out := pkt(t, head)
		n := len(b)
		for {
			c := byte(n % 128)
			n /= 128
			if n > 0 {
				c |= 0x80
			}
			out = append(out, c)
			if n == 0 {
				break
			}
		}
		return append(out, b...)
	}
	var out []byte
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		if s[0] == '"' {
			i := strings.IndexByte(s[1:], '"')
			out = append(out, s[1:1+i]...)
			s = s[i+2:]
			continue
		}
		j := strings.IndexAny(s, ` "`)
		if j < 0 {
			j = len(s)
		}
		b, err := hex.DecodeString(s[:j])
		if err != nil {
			t.Fatalf("pkt %q: %v", s[:j], err)
		}
		out = append(out, b...)
		s = s[j:]
	}
	return out
}

func c2s(t *testing.T, s string) *inspect.Message {
	return at.Binary(inspect.ClientToServer, pkt(t, s))
}
func s2c(t *testing.T, s string) *inspect.Message {
	return at.Binary(inspect.ServerToClient, pkt(t, s))
}

// MQTT 3.1.1: a client's life with QoS 0, 1 and 2, the packets laid out
// as sections 3.1-3.14 define them.
func TestV311(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: c2s(t, `10 | 0004 "MQTT" 04 c2 003c 0002 "c1" 0004 "user" 0002 "pw"`),
			Summary: `mqtt CONNECT v3.1.1 client="c1" keepalive=60 clean user="user" password=(2 B)`, Corr: "connect/request", Fields: []string{"clientId=c1", "passwordSize=2"}},
		{Msg: s2c(t, `20 | 00 00`), Summary: "mqtt CONNACK accepted", Corr: "connect/answer"},
		{Msg: c2s(t, `82 | 0001 0009 "sensors/#" 01`), Summary: "mqtt SUBSCRIBE id=1 sensors/# qos=1", Corr: "id c2s 1/request", Op: "sensors/#"},
		{Msg: s2c(t, `90 | 0001 01`), Summary: "mqtt SUBACK id=1 granted-qos-1", Corr: "id c2s 1/answer", Op: "sensors/#"},
		{Msg: c2s(t, `30 | 0009 "sensors/1" "hello!"`), Summary: `mqtt PUBLISH topic=sensors/1 qos=0 6 B "hello!"`, Op: "sensors/1"},
		{Msg: c2s(t, `33 | 0009 "sensors/1" 0007 "23"`), Summary: `mqtt PUBLISH topic=sensors/1 qos=1 id=7 retain 2 B "23"`, Corr: "id c2s 7/request", Fields: []string{"qos=1", "retain=true", "id=7"}},
		{Msg: s2c(t, `40 | 0007`), Summary: "mqtt PUBACK id=7 topic=sensors/1", Corr: "id c2s 7/answer", Op: "sensors/1"},
		{Msg: s2c(t, `3c | 0009 "sensors/2" 0008 "ab"`), Summary: `mqtt PUBLISH topic=sensors/2 qos=2 id=8 dup 2 B "ab"`, Corr: "id s2c 8/request"},
		{Msg: c2s(t, `50 | 0008`), Summary: "mqtt PUBREC id=8 topic=sensors/2", Corr: "id s2c 8/part"},
		{Msg: s2c(t, `62 | 0008`), Summary: "mqtt PUBREL id=8 topic=sensors/2", Corr: "id s2c 8/part"},
		{Msg: c2s(t, `70 | 0008`), Summary: "mqtt PUBCOMP id=8 topic=sensors/2", Corr: "id s2c 8/answer"},
		{Msg: c2s(t, `a2 | 0002 0009 "sensors/#"`), Summary: "mqtt UNSUBSCRIBE id=2 sensors/#"},
		{Msg: s2c(t, `b0 | 0002`), Summary: "mqtt UNSUBACK id=2", Op: "sensors/#"},
		{Msg: c2s(t, `c0 |`), Summary: "mqtt PINGREQ", Corr: "ping/request"},
		{Msg: s2c(t, `d0 |`), Summary: "mqtt PINGRESP", Corr: "ping/answer"},
		{Msg: c2s(t, `e0 |`), Summary: "mqtt DISCONNECT"},
	})
}

// MQTT 5.0: properties, reason codes, subscription options.
func TestV5(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: c2s(t, `10 | 0004 "MQTT" 05 02 001e 05 11 0000 0e10 0002 "c5"`),
			Summary: `mqtt CONNECT v5.0 client="c5" keepalive=30 clean sessionExpiryInterval=3600`, Fields: []string{"version=5.0", "sessionExpiryInterval=3600"}},
		{Msg: s2c(t, `20 | 00 00 06 22 000a 21 0014`), Summary: "mqtt CONNACK success", Fields: []string{"topicAliasMaximum=10", "receiveMaximum=20"}},
		{Msg: c2s(t, `82 | 0001 00 0004 "a/b" 2e`), Summary: "mqtt SUBSCRIBE id=1 a/b. qos=0 ?? packet ends inside its subscription options", Err: true},
		{Msg: c2s(t, `82 | 0003 00 0003 "a/b" 2e`), Summary: "mqtt SUBSCRIBE id=3 a/b qos=2 no-local retain-as-published retain-handling=2"},
		{Msg: s2c(t, `90 | 0003 00 02`), Summary: "mqtt SUBACK id=3 granted-qos-2", Corr: "id c2s 3/answer"},
		{Msg: c2s(t, `32 | 0003 "a/b" 0005 0c 23 0001 26 0001 "k" 0001 "v" 01 01 "hi"`),
			Summary: `mqtt PUBLISH topic=a/b qos=1 id=5 2 B topicAlias=1 userProperty=k=v "hi"`, Fields: []string{"topicAlias=1", "userProperty=k=v", "payloadFormatIndicator=1"}},
		{Msg: s2c(t, `40 | 0005 10 00`), Summary: "mqtt PUBACK id=5 no-matching-subscribers topic=a/b", Fields: []string{"code=16"}},
		{Msg: s2c(t, `e0 | 8b 09 1f 0006 "closed"`), Summary: `mqtt DISCONNECT server-shutting-down reasonString=closed`},
		{Msg: c2s(t, `f0 | 18 00`), Summary: "mqtt AUTH continue-authentication"},
	})
}

// The byte stream: a packet spanning messages, several in one.
func TestStream(t *testing.T) {
	whole := append(pkt(t, `30 | 0009 "sensors/1" "hello!"`), pkt(t, `c0 00 c0 00`)...)
	d := &Decoder{}
	got := at.Summaries(d,
		at.Binary(inspect.ClientToServer, whole[:1]),
		at.Binary(inspect.ServerToClient, pkt(t, `d0`)),
		at.Binary(inspect.ClientToServer, whole[1:9]),
		at.Binary(inspect.ClientToServer, whole[9:]),
		at.Binary(inspect.ServerToClient, pkt(t, `00 d0 00`)),
	)
	want := `mqtt (partial packet, 1 B so far)
mqtt (partial packet, 1 B so far)
mqtt (partial packet, 9 B so far)
mqtt PUBLISH topic=sensors/1 qos=0 6 B "hello!" | mqtt PINGREQ | mqtt PINGREQ
mqtt PINGRESP | mqtt PINGRESP`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []at.Case{
		{Msg: c2s(t, `30 ff ff ff ff 01`), Summary: "mqtt ?? malformed Remaining Length: more than four bytes (section 2.2.3)", Err: true},
		{Msg: c2s(t, `30 03 0009 "s"`), Summary: "mqtt PUBLISH topic= qos=0 ?? packet ends inside its topic", Err: true},
		{Msg: c2s(t, `36 | 0001 "a" 00`), Summary: "mqtt PUBLISH topic=a qos=3 id=0 ?? QoS 3 is malformed (section 3.3.1.2)", Err: true},
		{Msg: c2s(t, `00 00`), Summary: "mqtt reserved ?? reserved packet type 0 (section 2.2.1)", Err: true},
		{Msg: c2s(t, `c0 01 00`), Summary: "mqtt PINGREQ ?? 1 bytes past the end of the packet's fields", Err: true},
		{Msg: at.C2S(`hello`), Summary: "mqtt ?? text message: MQTT over WebSocket is sent in binary messages (section 6)", Err: true},
		{Msg: c2s(t, `30 ff ff ff 7f`), Summary: "mqtt ?? packet of 268435460 bytes is longer than the 16777216 this decoder holds", Err: true},
	} {
		at.Run(t, &Decoder{}, []at.Case{c})
	}
}

func TestSniff(t *testing.T) {
	if Protocol.Sniff(c2s(t, `10 0c 0004 "MQTT" 04 02 003c 0000`)) == "" {
		t.Error("CONNECT not sniffed")
	}
	if Protocol.Sniff(c2s(t, `10 0c 0004 "MQTX" 04 02 003c 0000`)) != "" {
		t.Error("sniffed another protocol name")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"\x10\x13\x00\x04MQTT\x05\x02\x00\x1e\x05\x11\x00\x00\x0e\x10\x00\x02c5",
		"\x32\x16\x00\x03a/b\x00\x05\x0c\x23\x00\x01\x26\x00\x01k\x00\x01v\x01\x02hi",
		"\x30\x0f\x00\x09sensors/1hel\xfflo!\xc0\x00",
		"\x82\x09\x00\x03\x00\x00\x03a/b\x2e",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "mqtt", data) })
}
