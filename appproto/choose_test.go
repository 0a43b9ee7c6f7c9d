package appproto_test

import (
	"testing"

	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/appproto/all"
	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

func open(url, sub string) *inspect.Open { return &inspect.Open{URL: url, Subprotocol: sub} }

// Each rule, in its order: forced, subprotocol, URL, then sniffing.
func TestChoose(t *testing.T) {
	for _, c := range []struct {
		forced string
		open   *inspect.Open
		want   string
	}{
		{"", open("ws://h/graphql", "graphql-transport-ws"), `graphql (subprotocol "graphql-transport-ws")`},
		{"", open("ws://h/", "graphql-ws"), `graphql (subprotocol "graphql-ws")`},
		{"", open("ws://h/mqtt", "mqtt"), `mqtt (subprotocol "mqtt")`},
		{"", open("ws://h/", "v12.stomp"), `stomp (subprotocol "v12.stomp")`},
		{"", open("ws://h/", "actioncable-v1-json"), `actioncable (subprotocol "actioncable-v1-json")`},
		// The subprotocol wins over the URL.
		{"", open("ws://h/socket.io/?EIO=4&transport=websocket", "mqtt"), `mqtt (subprotocol "mqtt")`},
		{"", open("ws://h/socket.io/?EIO=4&transport=websocket", ""), `socketio (URL path /socket.io/ with EIO=4)`},
		{"", open("ws://h/socket/websocket?vsn=2.0.0", ""), `phoenix (URL path /socket/websocket with vsn=2.0.0)`},
		{"", open("ws://h/chathub/signalr?id=x", ""), `signalr (URL path /chathub/signalr)`},
		{"", open("ws://h/cable", ""), `actioncable (URL path /cable)`},
		{"", open("ws://h/x", "chat"), `none (sniffing the first messages)`},
		{"", &inspect.Open{Request: inspect.Request{Target: "/socket.io/?EIO=4&transport=websocket"}}, `socketio (URL path /socket.io/ with EIO=4)`},
		{"", nil, `none (sniffing the first messages)`},
		{"STOMP", open("ws://h/socket.io/?EIO=4", "mqtt"), `stomp (--decode stomp)`},
		{"none", open("ws://h/", "mqtt"), `none (--decode none)`},
	} {
		ch, err := appproto.Choose(all.Protocols, c.forced, c.open)
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.String(); got != c.want {
			t.Errorf("%q %+v: %s, want %s", c.forced, c.open, got, c.want)
		}
	}
	if _, err := appproto.Choose(all.Protocols, "wamp", nil); err == nil || err.Error() != `unknown decoder "wamp" (have socketio, graphql, mqtt, stomp, jsonrpc, signalr, phoenix, actioncable, none)` {
		t.Errorf("unknown name: %v", err)
	}
}

// Each protocol's opening message is recognised by its own sniffer
// only, so sniffing is never ambiguous between them.
func TestSniffUnambiguous(t *testing.T) {
	for _, c := range []struct {
		msg  *inspect.Message
		want string
	}{
		{at.S2C(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`), "socketio"},
		{at.C2S(`{"type":"connection_init","payload":{}}`), "graphql"},
		{at.Binary(inspect.ClientToServer, append([]byte{0x10, 0x0c, 0, 4}, "MQTT\x04\x02\x00\x3c\x00\x00"...)), "mqtt"},
		{at.C2S("CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\n\x00"), "stomp"},
		{at.C2S(`{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}`), "jsonrpc"},
		{at.C2S("{\"protocol\":\"json\",\"version\":1}\x1e"), "signalr"},
		{at.C2S(`["1","1","room:lobby","phx_join",{}]`), "phoenix"},
		{at.S2C(`{"type":"welcome"}`), "actioncable"},
		{at.C2S(`hello`), "none"},
		{at.C2S(`{"type":"welcome"}`), "none"},
	} {
		p, _ := appproto.Sniff(all.Protocols, c.msg)
		got := "none"
		if p != nil {
			got = p.Name
		}
		if got != c.want {
			t.Errorf("%.40q: %s, want %s", c.msg.Payload, got, c.want)
		}
	}
}

// A connection that chose nothing from its handshake decides on the first
// message that shows a protocol, and gives up after SniffMessages.
func TestConnSniffs(t *testing.T) {
	ch, _ := appproto.Choose(all.Protocols, "", open("ws://h/", ""))
	c := appproto.NewConn(all.Protocols, ch, "")
	if ds, chose := c.Decode(at.C2S("hi")); ds != nil || chose {
		t.Fatalf("decoded a message no protocol has: %v %v", ds, chose)
	}
	ds, chose := c.Decode(at.S2C(`{"type":"welcome"}`))
	if !chose || len(ds) != 1 || ds[0].Summary != "cable welcome" || c.Choice().String() != `actioncable (content: a "welcome" from the server)` {
		t.Fatalf("%v %v %s", ds, chose, c.Choice())
	}
	c = appproto.NewConn(all.Protocols, ch, "")
	for i := range appproto.SniffMessages {
		_, chose := c.Decode(at.C2S("hi"))
		if chose != (i == appproto.SniffMessages-1) {
			t.Fatalf("message %d: chose %v", i, chose)
		}
	}
	if got := c.Choice().String(); got != "none (no protocol recognised in the first 4 messages)" {
		t.Error(got)
	}
	if ds, _ := c.Decode(at.S2C(`{"type":"welcome"}`)); ds != nil {
		t.Error("decoded after giving up")
	}
}

func TestPendingBounded(t *testing.T) {
	var p appproto.Pending
	for i := range 3 * appproto.MaxPending {
		p.Put(string(rune(i+0x100)), "v")
		if i%2 == 0 {
			p.Take(string(rune(i + 0x100)))
		}
	}
	if p.Len() > appproto.MaxPending {
		t.Errorf("%d pending", p.Len())
	}
}
