package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// appServer starts `node apps.js server NAME` (e2e/node/apps.js: the
// protocol's real library, or a peer scripted to its specification) and
// returns its URL.
func appServer(t *testing.T, name string) string {
	t.Helper()
	script := strings.TrimSuffix(nodePeer(t), "peer.js") + "apps.js"
	port, _ := startListeningPeer(t, 3*step, "node", script, "server", name)
	return "ws://127.0.0.1:" + port
}

// appClient runs `node apps.js client NAME URL`: the protocol's real
// client library doing its exchange, to its end.
func appClient(t *testing.T, name, url string) {
	t.Helper()
	script := strings.TrimSuffix(nodePeer(t), "peer.js") + "apps.js"
	c := exec.Command("node", script, "client", name, url)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = c.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * step):
		c.Process.Kill()
		<-done
	}
	if err != nil || !strings.Contains(string(out), "done") {
		t.Fatalf("node client %s: %v\n%s", name, err, bounded(string(out)))
	}
}

// appCase is one protocol's exchange and what the decoder must read in
// it: the decoder chosen and why, and summaries that must appear in this
// order among the units decoded (each a regexp).
type appCase struct {
	name    string
	decoder string
	why     string
	want    []string
}

var appCases = []appCase{
	{"socketio", "socketio", "URL path /socket.io/ with EIO=4", []string{
		`^eio open sid=\S+ ping=300ms timeout=600ms$`,
		`^sio connect ns=/$`,
		`^sio connect ns=/ \{"sid":"[^"]+"\}$`,
		`^sio event "welcome" ns=/ \["hi"\]$`,
		`^sio event "chat" ns=/ ack=0 \[\{"text":"hi"\}\]$`,
		`^sio ack id=0 ns=/ event="chat" \[\{"ok":true,"echo":"hi"\}\]$`,
		`^sio event "upload" ns=/ ack=1 attachments=1 \[\{"_placeholder":true,"num":0\}\]$`,
		`^sio attachment 1/1 7 B of event "upload"$`,
		`^sio ack id=1 ns=/ event="upload" \[7\]$`,
		`^sio connect ns=/admin$`,
		`^sio event "status" ns=/admin \["up"\]$`,
	}},
	{"graphql", "graphql", `subprotocol "graphql-transport-ws"`, []string{
		`^gql connection_init$`,
		`^gql connection_ack$`,
		`^gql subscribe id=\S+ op=Count subscription vars=\{"to":3\}$`,
		`^gql next id=\S+ op=Count \{"count":1\}$`,
		`^gql next id=\S+ op=Count \{"count":3\}$`,
		`^gql complete id=\S+ op=Count$`,
		`^gql subscribe id=\S+ op=Hello query$`,
		`^gql next id=\S+ op=Hello \{"hello":"world"\}$`,
	}},
	{"graphql-legacy", "graphql", `subprotocol "graphql-ws"`, []string{
		`^gql connection_init`,
		// connection_ack and start cross: either comes first.
		`^gql start id=1 op=Count subscription$`,
		`^gql data id=1 op=Count \{"count":1\}$`,
		`^gql data id=1 op=Count \{"count":2\}$`,
		`^gql complete id=1 op=Count$`,
	}},
	{"mqtt", "mqtt", `subprotocol "mqtt"`, []string{
		`^mqtt CONNECT v3.1.1 client="wscope-test" keepalive=60 clean$`,
		`^mqtt CONNACK accepted$`,
		`^mqtt SUBSCRIBE id=\d+ sensors/# qos=2$`,
		`^mqtt SUBACK id=\d+ granted-qos-2$`,
		`^mqtt PUBLISH topic=sensors/0 qos=0 2 B "q0"$`,
		`^mqtt PUBLISH topic=sensors/1 qos=1 id=\d+ 2 B "23"$`,
		`^mqtt PUBACK id=\d+ topic=sensors/1$`,
		`^mqtt PUBLISH topic=sensors/2 qos=2 id=\d+ 3 B 010203$`,
		`^mqtt PUBREC id=\d+ topic=sensors/2$`,
		`^mqtt PUBREL id=\d+ topic=sensors/2$`,
		`^mqtt PUBCOMP id=\d+ topic=sensors/2$`,
		`^mqtt UNSUBSCRIBE id=\d+ sensors/#$`,
		`^mqtt UNSUBACK id=\d+$`,
		`^mqtt DISCONNECT$`,
	}},
	{"mqtt5", "mqtt", `subprotocol "mqtt"`, []string{
		`^mqtt CONNECT v5.0 client="wscope-test" keepalive=60 clean$`,
		`^mqtt CONNACK success$`,
		`^mqtt SUBSCRIBE id=\d+ sensors/# qos=2$`,
		`^mqtt SUBACK id=\d+ granted-qos-2$`,
		`^mqtt PUBLISH topic=sensors/1 qos=1 id=\d+ 2 B "23"$`,
		`^mqtt PUBACK id=\d+ topic=sensors/1$`,
		// The broker's copy goes out beside the client's next publish,
		// in either order: anywhere.
		`~^mqtt PUBLISH topic=sensors/1 qos=1 id=100 2 B userProperty=from=broker "23"$`,
		`^mqtt PUBLISH topic=sensors/2 qos=2 id=\d+ 3 B 010203$`,
		`^mqtt PUBREC id=\d+ topic=sensors/2$`,
		`^mqtt PUBREL id=\d+ success topic=sensors/2$`,
		`^mqtt PUBCOMP id=\d+ success topic=sensors/2$`,
		`^mqtt UNSUBACK id=\d+ success$`,
		`^mqtt DISCONNECT success$`,
	}},
	{"stomp", "stomp", `subprotocol "v12.stomp"`, []string{
		`^stomp CONNECT accept-version=1.2,1.1,1.0 heart-beat=0,0$`,
		`^stomp CONNECTED version=1.2 heart-beat=0,0$`,
		`^stomp SUBSCRIBE destination=/queue/a id=sub-0$`,
		`^stomp SEND destination=/queue/a receipt=77 13 B "hello queue a"$`,
		`^stomp MESSAGE destination=/queue/a subscription=sub-0 message-id=1 13 B "hello queue a"$`,
		`^stomp RECEIPT receipt-id=77$`,
		`~^stomp DISCONNECT receipt=\S+$`, // the client may leave before the answers arrive
	}},
	{"jsonrpc", "jsonrpc", `content: "jsonrpc":"2.0" in a c2s message`, []string{
		`^rpc call sum id=1 \[1,2,4\]$`,
		`^rpc result id=1 method=sum 7$`,
		`^rpc call fail id=2 \[\]$`,
		`^rpc error id=2 -32000 "Error"$`,
		`^rpc notify hello \["world"\]$`,
	}},
	{"signalr", "signalr", "content: a hub protocol handshake from the client", []string{
		`^signalr handshake protocol=json version=1$`,
		`^signalr handshake ok$`,
		`^signalr invocation "Send" id=0 \["ann","hello"\]$`,
		`^signalr invocation "ReceiveMessage" \["ann","hello"\]$`,
		`^signalr completion id=0 target=Send 2$`,
		`^signalr stream-invocation "Counter" id=1 \[3\]$`,
		`^signalr stream-item id=1 target=Counter 1$`,
		`^signalr stream-item id=1 target=Counter 3$`,
		`^signalr completion id=1 target=Counter$`,
	}},
	{"phoenix", "phoenix", "URL path /socket/websocket with vsn=2.0.0", []string{
		`^phx phx_join room:lobby ref=\d+ join_ref=\d+ \{"nick":"ann"\}$`,
		`^phx reply ok room:lobby ref=\d+ \{"joined":true\}$`,
		`^phx new_msg room:lobby ref=\d+ join_ref=\d+ \{"body":"hi"\}$`,
		`^phx reply ok room:lobby ref=\d+ \{\}$`,
		`^phx new_msg room:lobby join_ref=\d+ \{"body":"hi"\}$`,
	}},
	{"actioncable", "actioncable", `subprotocol "actioncable-v1-json"`, []string{
		`^cable welcome$`,
		`~^cable ping \d+$`, // on its own timer: anywhere
		`^cable subscribe ChatChannel room=1$`,
		`^cable confirm_subscription ChatChannel room=1$`,
		`^cable message ChatChannel room=1 action=speak \{"text":"hi"\}$`,
		`^cable message ChatChannel room=1 \{"text":"hi","action":"speak"\}$`,
	}},
}

// Each protocol's real library through `wscope proxy -o json`: the right
// decoder is chosen (and says why), every message decodes without an
// error, the expected units appear in order, and every answer is paired
// with a request seen before it.
func TestDecodersOnRealLibraries(t *testing.T) {
	for _, c := range appCases {
		t.Run(c.name, func(t *testing.T) {
			upstream := appServer(t, c.name)
			p, url := proxyTo(t, upstream, "-o", "json", "--once")
			appClient(t, c.name, url)
			p.wait(2 * step)
			evs := parseEvents(t, p.stdout.String())
			open := filter(evs, "open", "")
			if len(open) != 1 {
				t.Fatalf("%d open events", len(open))
			}
			dec, _ := open[0]["decoder"].(map[string]any)
			for _, n := range filter(evs, "note", "") {
				if s, _ := n["text"].(string); strings.HasPrefix(s, "decoder ") {
					name, why, _ := strings.Cut(strings.TrimPrefix(s, "decoder "), " (")
					dec = map[string]any{"name": name, "why": strings.TrimSuffix(why, ")")}
				}
			}
			if dec["name"] != c.decoder || dec["why"] != c.why {
				t.Errorf("decoder %v, want %s (%s)", dec, c.decoder, c.why)
			}
			var units []string
			requests := map[string]bool{}
			for _, m := range filter(evs, "msg", "") {
				ds, _ := m["decoded"].([]any)
				if len(ds) == 0 {
					t.Errorf("%s message not decoded: %.80v", m["dir"], m["text"])
				}
				for _, d := range ds {
					u := d.(map[string]any)
					s, _ := u["summary"].(string)
					if u["type"] != "partial" { // a packet's first bytes, shown with it once whole
						units = append(units, s)
					}
					if e, ok := u["err"]; ok {
						t.Errorf("decode error %v in %s", e, s)
					}
					corr, _ := u["corr"].(string)
					switch u["role"] {
					case "request":
						requests[corr] = true
					case "answer":
						if !requests[corr] {
							t.Errorf("answer %q (%s) without its request", corr, s)
						}
					}
				}
			}
			checkInOrder(t, units, c.want)
		})
	}
}

// checkInOrder checks that each pattern of want matches a unit after the
// one the previous pattern matched; a pattern that starts with ~ matches
// any unit (traffic of two independent flows has no order).
func checkInOrder(t *testing.T, units, want []string) {
	t.Helper()
	i := 0
	for _, w := range want {
		if anywhere, ok := strings.CutPrefix(w, "~"); ok {
			re := regexp.MustCompile(anywhere)
			if !slices.ContainsFunc(units, re.MatchString) {
				t.Errorf("no unit matching %s; the units:\n%s", anywhere, bounded(strings.Join(units, "\n")))
			}
			continue
		}
		re := regexp.MustCompile(w)
		for i < len(units) && !re.MatchString(units[i]) {
			i++
		}
		if i == len(units) {
			t.Errorf("no unit matching %s (in order); the units:\n%s", w, bounded(fmt.Sprint(strings.Join(units, "\n"))))
			return
		}
		i++
	}
}

// connect on a Socket.IO URL plays the client's part that keeps the
// session up (the namespace CONNECT, a pong for each ping) against the
// real socket.io server, and /emit sends an event it answers.
func TestConnectSocketIO(t *testing.T) {
	upstream := appServer(t, "socketio")
	// -x goes out once the server accepted the namespace; -w 1.5s is past
	// a ping interval and its timeout: the session stays up, each ping
	// answered.
	p := start(t, "connect", upstream+"/socket.io/?EIO=4&transport=websocket", "-o", "frames", "-x", `/emit chat {"text":"hi"}`, "-w", "1500ms")
	p.stdout.waitMatch(t, regexp.MustCompile(`s2c app    sio event "echo" ns=/ \[\{"text":"hi"\}\]`), step)
	if code := p.wait(2 * step); code != 0 {
		t.Errorf("exit %d\n%s\n%s", code, bounded(p.stdout.String()), p.stderr)
	}
	out := p.stdout.String()
	// A ping that crosses wscope's close frame cannot be answered: after a
	// close no data frame may follow (RFC 6455 §5.5.1). Count until then.
	beforeClose, _, _ := strings.Cut(out, "c2s close")
	if pings, pongs := strings.Count(beforeClose, "s2c app    eio ping"), strings.Count(beforeClose, "c2s app    eio pong"); pings < 3 || pongs != pings {
		t.Errorf("%d pings, %d pongs:\n%s", pings, pongs, bounded(out))
	}
	if !strings.Contains(out, "c2s app    sio connect ns=/\n") {
		t.Errorf("no namespace connect:\n%s", bounded(out))
	}
}

// /mqtt commands speak to a real broker (aedes, 3.1.1) and to
// mqtt-packet's parser (the scripted 5.0 broker): each accepts the
// CONNECT, grants the subscription, acknowledges the PUBLISH and sends it
// back to its subscriber, which wscope acknowledges in turn; read in the
// decoded units of -o json.
func TestConnectMQTTCommands(t *testing.T) {
	for _, c := range []struct {
		name, server string
		x            []string
		sent, got    []string
	}{
		{"3.1.1", "mqtt", []string{"/mqtt connect", "/mqtt subscribe t/#", "/mqtt publish t/1 hi qos=1"}, []string{
			`^c2s mqtt CONNECT v3.1.1 client="wscope-[0-9a-f]{8}" keepalive=0 clean$`,
			`^c2s mqtt SUBSCRIBE id=1 t/# qos=0$`,
			`^c2s mqtt PUBLISH topic=t/1 qos=1 id=2 2 B "hi"$`,
		}, []string{
			`^s2c mqtt CONNACK accepted$`,
			`^s2c mqtt SUBACK id=1 granted-qos-0$`,
			// The broker's copy and its PUBACK have no order between them.
			`~^s2c mqtt PUBLISH topic=t/1 qos=0 2 B "hi"$`,
			`~^s2c mqtt PUBACK id=2 topic=t/1$`,
		}},
		{"5.0", "mqtt5", []string{"/mqtt connect v5", "/mqtt subscribe t/#", "/mqtt publish t/1 hi qos=1"}, []string{
			`^c2s mqtt CONNECT v5.0 client="wscope-[0-9a-f]{8}" keepalive=0 clean$`,
			`^c2s mqtt SUBSCRIBE id=1 t/# qos=0$`,
			`^c2s mqtt PUBLISH topic=t/1 qos=1 id=2 2 B "hi"$`,
		}, []string{
			`^s2c mqtt CONNACK success`,
			`^s2c mqtt SUBACK id=1 success$`, // granted QoS 0 (5.0 section 3.9.3)
			`^s2c mqtt PUBACK id=2 topic=t/1$`,
			`^s2c mqtt PUBLISH topic=t/1 qos=1 id=100 2 B userProperty=from=broker "hi"$`,
			`^c2s mqtt PUBACK id=100 topic=t/1$`, // wscope's, unasked
		}},
		// QoS 2 both ways: wscope releases its PUBLISH on the broker's
		// PUBREC, and answers the broker's copy with PUBREC, then PUBCOMP.
		{"3.1.1 QoS 2", "mqtt", []string{"/mqtt connect", "/mqtt subscribe t/# qos=2", "/mqtt publish t/2 x qos=2"}, []string{
			`^c2s mqtt SUBSCRIBE id=1 t/# qos=2$`,
			`^c2s mqtt PUBLISH topic=t/2 qos=2 id=2 1 B "x"$`,
		}, []string{
			`^s2c mqtt SUBACK id=1 granted-qos-2$`,
			`~^s2c mqtt PUBREC id=2 topic=t/2$`,
			`~^c2s mqtt PUBREL id=2 topic=t/2$`,
			`~^s2c mqtt PUBCOMP id=2 topic=t/2$`,
			`~^s2c mqtt PUBLISH topic=t/2 qos=2 id=\d+ 1 B "x"$`,
			`~^c2s mqtt PUBREC id=\d+ topic=t/2$`,
			`~^s2c mqtt PUBREL id=\d+ topic=t/2$`,
			`~^c2s mqtt PUBCOMP id=\d+ topic=t/2$`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			upstream := appServer(t, c.server)
			args := []string{"connect", upstream + "/mqtt", "-s", "mqtt", "-o", "json", "-w", "1s"}
			for _, x := range c.x {
				args = append(args, "-x", x)
			}
			r := run(t, "", args...)
			if r.Code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.Code, bounded(r.Stdout), bounded(r.Stderr))
			}
			var units []string
			for _, m := range filter(parseEvents(t, r.Stdout), "msg", "") {
				if m["op"] != "binary" {
					t.Errorf("%s %v message: MQTT goes in binary ones", m["dir"], m["op"])
				}
				ds, _ := m["decoded"].([]any)
				for _, d := range ds {
					u := d.(map[string]any)
					if e, ok := u["err"]; ok {
						t.Errorf("decode error %v in %v", e, u["summary"])
					}
					units = append(units, fmt.Sprint(m["dir"], " ", u["summary"]))
				}
			}
			checkInOrder(t, units, c.sent)
			checkInOrder(t, units, c.got)
		})
	}
}
