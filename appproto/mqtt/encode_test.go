package mqtt

import (
	"bytes"
	"strings"
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

func mustEncode(t *testing.T, p []byte, err error) *inspect.Message {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return at.Binary(inspect.ClientToServer, p)
}

// What the encoder makes, the decoder reads back as it was asked for, in
// 3.1.1 and 5.0 (the decoder takes the level from the CONNECT).
func TestEncodeRoundTrip(t *testing.T) {
	enc := func(v5 bool) []at.Case {
		c, err := Connect("wscope-1", 30, v5)
		conn := mustEncode(t, c, err)
		s, err := Subscribe(1, "t/#", 1, v5)
		sub := mustEncode(t, s, err)
		p, err := Publish("t/1", []byte("hi"), 1, true, 2, v5)
		pub := mustEncode(t, p, err)
		p0, err := Publish("t/0", nil, 0, false, 0, v5)
		pub0 := mustEncode(t, p0, err)
		version := "v3.1.1"
		if v5 {
			version = "v5.0"
		}
		return []at.Case{
			{Msg: conn, Summary: `mqtt CONNECT ` + version + ` client="wscope-1" keepalive=30 clean`, Corr: "connect/request", Fields: []string{"clientId=wscope-1", "keepAlive=30"}},
			{Msg: sub, Summary: "mqtt SUBSCRIBE id=1 t/# qos=1", Corr: "id c2s 1/request", Op: "t/#"},
			{Msg: pub, Summary: `mqtt PUBLISH topic=t/1 qos=1 id=2 retain 2 B "hi"`, Corr: "id c2s 2/request", Fields: []string{"retain=true", "size=2"}},
			{Msg: pub0, Summary: `mqtt PUBLISH topic=t/0 qos=0 0 B`, Fields: []string{"qos=0", "size=0"}},
			{Msg: at.Binary(inspect.ClientToServer, Disconnect()), Summary: "mqtt DISCONNECT"},
		}
	}
	t.Run("3.1.1", func(t *testing.T) { at.Run(t, &Decoder{}, enc(false)) })
	t.Run("5.0", func(t *testing.T) { at.Run(t, &Decoder{}, enc(true)) })
}

// A payload past 127 bytes takes a Remaining Length of two bytes.
func TestEncodeLongPayload(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 200)
	p, err := Publish("t", payload, 0, false, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1+2+2+1+200 || p[1] != 0x80|((203)%128) || p[2] != 203/128 {
		t.Fatalf("%d bytes, header % x", len(p), p[:3])
	}
	at.Run(t, &Decoder{}, []at.Case{{Msg: at.Binary(inspect.ClientToServer, p), Summary: `mqtt PUBLISH topic=t qos=0 200 B "` + strings.Repeat("x", 60) + `…"`, Fields: []string{"size=200"}}})
}

func TestEncodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"publish wildcard", second(Publish("t/#", nil, 0, false, 0, false)), "wildcard"},
		{"publish empty topic", second(Publish("", nil, 0, false, 0, false)), "empty topic name"},
		{"publish qos 3", second(Publish("t", nil, 3, false, 1, false)), "QoS 3"},
		{"publish id 0", second(Publish("t", nil, 1, false, 0, false)), "identifier 0"},
		{"subscribe bad #", second(Subscribe(1, "a/#/b", 0, false)), "'#' stands alone"},
		{"subscribe bad +", second(Subscribe(1, "a/b+", 0, false)), "'+' stands alone"},
		{"subscribe id 0", second(Subscribe(0, "a", 0, false)), "identifier 0"},
		{"connect NUL", second(Connect("a\x00b", 0, false)), "U+0000"},
		{"connect not UTF-8", second(Connect("\xff", 0, false)), "not UTF-8"},
		{"connect long", second(Connect(strings.Repeat("a", 70000), 0, false)), "at most 65535"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, c.err, c.want)
		}
	}
}

func second(_ []byte, err error) error { return err }

// ClientReply answers the server's packets of the QoS 1 and 2 flows with
// the next one, which the decoder pairs with them.
func TestClientReply(t *testing.T) {
	d := &Decoder{}
	for _, c := range []struct {
		server, reply string // packets as pkt writes them; reply "" for none
		summary       string // of the reply, decoded
	}{
		{`30 | 0003 "t/0" "x"`, "", ""},
		{`32 | 0003 "t/1" 0007 "x"`, "40 02 0007", "mqtt PUBACK id=7 topic=t/1"},
		{`34 | 0003 "t/2" 0008 "x"`, "50 02 0008", "mqtt PUBREC id=8 topic=t/2"},
		{`62 | 0008`, "70 02 0008", "mqtt PUBCOMP id=8 topic=t/2"},
		{`50 | 0009`, "62 02 0009", "mqtt PUBREL id=9"},
		{`40 | 0009`, "", ""},
		{`90 | 0001 00`, "", ""},
	} {
		for _, u := range d.Decode(s2c(t, c.server)) {
			p, ok := ClientReply(&u)
			if want := pkt(t, c.reply); ok != (c.reply != "") || !bytes.Equal(p, want) {
				t.Errorf("on %s: reply % x, %v; want % x", u.Summary, p, ok, want)
				continue
			}
			if ok {
				if got := at.Summaries(d, at.Binary(inspect.ClientToServer, p)); got != c.summary {
					t.Errorf("on %s: reply read as %s, want %s", u.Summary, got, c.summary)
				}
			}
		}
	}
}
