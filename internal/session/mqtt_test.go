package session

import (
	"strings"
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/appproto/mqtt"
	"github.com/wscope/wscope/inspect"
)

// Lines typed on one connection become the packets they name, read back
// by the mqtt decoder: identifiers from 1 for SUBSCRIBE and QoS > 0, the
// level of the last /mqtt connect.
func TestMQTTCommands(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"3.1.1", []string{
			"/mqtt connect c1 keepalive=30",
			"/mqtt subscribe t/# qos=2",
			"/mqtt publish t/1 hello world qos=1 retain",
			"/mqtt publish t/2 qos=0",
			"/mqtt publish t/3 x qos=2",
			"/mqtt disconnect",
		}, `mqtt CONNECT v3.1.1 client="c1" keepalive=30 clean
mqtt SUBSCRIBE id=1 t/# qos=2
mqtt PUBLISH topic=t/1 qos=1 id=2 retain 11 B "hello world"
mqtt PUBLISH topic=t/2 qos=0 0 B
mqtt PUBLISH topic=t/3 qos=2 id=3 1 B "x"
mqtt DISCONNECT`},
		{"5.0", []string{
			"/mqtt connect v5",
			"/mqtt publish t/1 {\"a\": 1}",
			"/mqtt subscribe +/x",
		}, `mqtt CONNECT v5.0 client="wscope-XXXXXXXX" keepalive=0 clean
mqtt PUBLISH topic=t/1 qos=0 8 B "{\"a\": 1}"
mqtt SUBSCRIBE id=1 +/x qos=0`},
	} {
		s := &mqttConn{}
		var msgs []*inspect.Message
		for _, line := range c.lines {
			var a action
			if err := parseSlash(&a, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			p, err := s.packet(&a.mqtt)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			msgs = append(msgs, at.Binary(inspect.ClientToServer, p))
		}
		got := at.Summaries(&mqtt.Decoder{}, msgs...)
		if i := strings.Index(got, `"wscope-`); i >= 0 && len(got) > i+16 {
			got = got[:i+8] + "XXXXXXXX" + got[i+16:]
		}
		if got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

func TestMQTTCommandErrors(t *testing.T) {
	for line, want := range map[string]string{
		"/mqtt":                         "/mqtt: want connect, subscribe, publish or disconnect (/help)",
		"/mqtt ping":                    `/mqtt ping: unknown packet "ping": want connect, subscribe, publish or disconnect (/help)`,
		"/mqtt connect a b":             `/mqtt connect: "b": the client identifier is "a" already`,
		"/mqtt connect keepalive=70000": "/mqtt connect: keepalive=70000: want seconds, 0 to 65535",
		"/mqtt subscribe":               "/mqtt subscribe: want a topic filter, e.g. /mqtt subscribe sensors/#",
		"/mqtt subscribe t qos=3":       "/mqtt subscribe: qos=3: want 0, 1 or 2",
		"/mqtt subscribe t retain":      `/mqtt subscribe: unknown option "retain"`,
		"/mqtt subscribe a/#/b":         `/mqtt subscribe: topic filter "a/#/b": '#' stands alone as the last level (section 4.7.1.2)`,
		"/mqtt publish":                 "/mqtt publish: want a topic, e.g. /mqtt publish sensors/1 23 qos=1",
		"/mqtt publish t/# hi":          `/mqtt publish: topic name "t/#" has a wildcard: they are for subscriptions (section 4.7.1)`,
		"/mqtt disconnect now":          `/mqtt disconnect: disconnect takes no argument, got "now"`,
	} {
		var a action
		err := parseSlash(&a, line)
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", line, err, want)
		}
	}
}

// Packet identifiers count on each connection by itself, and skip 0
// when they wrap.
func TestMQTTPacketIDsPerConnection(t *testing.T) {
	c1, _ := pipeConn(t, inspect.RoleClient, nil)
	c2, _ := pipeConn(t, inspect.RoleClient, nil)
	sub := mqttSend{packet: mqtt.SUBSCRIBE, topic: "t"}
	if s1 := mqttConnOf(c1); s1 != mqttConnOf(c1) || s1 == mqttConnOf(c2) {
		t.Fatal("not one state per connection")
	}
	for _, c := range []struct {
		s    *mqttConn
		want byte
	}{{mqttConnOf(c1), 1}, {mqttConnOf(c1), 2}, {mqttConnOf(c2), 1}, {&mqttConn{lastID: 0xffff}, 1}} {
		p, err := c.s.packet(&sub)
		if err != nil || p[2] != 0 || p[3] != c.want {
			t.Errorf("packet % x, %v: want id %d", p, err, c.want)
		}
	}
}
