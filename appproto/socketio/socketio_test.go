package socketio

import (
	"encoding/json"
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

// The examples of the Socket.IO protocol v5 and Engine.IO protocol v4
// specifications, as one connection.
func TestSpecExamples(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.S2C(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`),
			Summary: "eio open sid=lv_VI97HAXpY6yYWAAAC ping=25000ms timeout=20000ms", Fields: []string{"sid=lv_VI97HAXpY6yYWAAAC", "pingInterval=25000"}},
		{Msg: at.C2S(`40`), Summary: "sio connect ns=/", Corr: "connect //request"},
		{Msg: at.C2S(`40/admin,{"token":"123"}`), Summary: `sio connect ns=/admin {"token":"123"}`, Fields: []string{"ns=/admin", `data={"token":"123"}`}},
		{Msg: at.S2C(`40{"sid":"oSO0OpakMV_3jnilAAAA"}`), Summary: `sio connect ns=/ {"sid":"oSO0OpakMV_3jnilAAAA"}`, Corr: "connect //answer"},
		{Msg: at.S2C(`44/admin,{"message":"Not authorized"}`), Summary: `sio connect_error ns=/admin {"message":"Not authorized"}`, Corr: "connect /admin/answer"},
		{Msg: at.C2S(`42["foo"]`), Summary: `sio event "foo" ns=/`, Op: "foo"},
		{Msg: at.C2S(`42/admin,["bar"]`), Summary: `sio event "bar" ns=/admin`},
		{Msg: at.C2S(`4212["chat",{"text":"hi"}]`), Summary: `sio event "chat" ns=/ ack=12 [{"text":"hi"}]`, Corr: "ack c2s / 12/request", Fields: []string{"event=chat", "ack=12"}},
		{Msg: at.S2C(`4312["bar"]`), Summary: `sio ack id=12 ns=/ event="chat" ["bar"]`, Corr: "ack c2s / 12/answer", Op: "chat"},
		{Msg: at.S2C(`2`), Summary: "eio ping", Corr: "ping /request"},
		{Msg: at.C2S(`3`), Summary: "eio pong", Corr: "ping /answer"},
		{Msg: at.C2S(`2probe`), Summary: "eio ping probe"},
		{Msg: at.C2S(`5`), Summary: "eio upgrade"},
		{Msg: at.C2S(`6`), Summary: "eio noop"},
		{Msg: at.C2S(`41/admin,`), Summary: "sio disconnect ns=/admin"},
		// A binary event: its attachment is the next binary message.
		{Msg: at.C2S(`451-["baz",{"_placeholder":true,"num":0}]`), Summary: `sio event "baz" ns=/ attachments=1 [{"_placeholder":true,"num":0}]`, Fields: []string{"attachments=1"}},
		{Msg: at.Binary(inspect.ClientToServer, []byte{1, 2, 3}), Summary: `sio attachment 1/1 3 B of event "baz"`, Op: "baz"},
		{Msg: at.Binary(inspect.ClientToServer, []byte{1, 2, 3}), Summary: "eio message binary 3 B"},
		{Msg: at.S2C(`461-/admin,15[{"_placeholder":true,"num":0}]`), Summary: `sio ack id=15 ns=/admin attachments=1 [{"_placeholder":true,"num":0}]`, Corr: "ack c2s /admin 15/answer"},
		{Msg: at.S2C(`1`), Summary: "eio close"},
	})
}

func TestMalformed(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(``), Summary: "eio ?? empty message: no packet type", Err: true},
		{Msg: at.C2S(`9`), Summary: `eio ?? unknown Engine.IO packet type '9'`, Err: true},
		{Msg: at.C2S(`4x`), Summary: `sio ?? unknown Socket.IO packet type 'x'`, Err: true},
		{Msg: at.C2S(`42{"a"`), Summary: `sio event ns=/ ??`, Err: true},
		{Msg: at.C2S(`42{}`), Summary: `sio event ns=/ ?? {}`, Err: true},
		{Msg: at.C2S(`45x-[]`), Summary: `sio ?? binary_event without a valid attachment count`, Err: true},
		{Msg: at.C2S(`4599999-[]`), Summary: `sio ?? binary_event without a valid attachment count`, Err: true},
		{Msg: at.S2C(`0{`), Summary: `eio open ??`, Err: true},
	})
}

func TestChoice(t *testing.T) {
	u := at.URL(t, "ws://h/socket.io/?EIO=4&transport=websocket")
	if why := Protocol.URL(u); why != "path /socket.io/ with EIO=4" {
		t.Errorf("URL: %q", why)
	}
	if why := Protocol.Sniff(at.S2C(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`)); why == "" {
		t.Error("open packet not sniffed")
	}
	if why := Protocol.Sniff(at.S2C(`0`)); why != "" {
		t.Errorf("sniffed %q", why)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`0{"sid":"a","pingInterval":1}`, `42/a,12["x",1]`, `451-["b",{"_placeholder":true,"num":0}]`, "451-[\"b\"]\xff\x01\x02", `3probe`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}

func TestEmit(t *testing.T) {
	for _, c := range []struct {
		ns, event string
		args      []string
		want      string
	}{
		{"", "chat", []string{`{"text":"hi"}`}, `42["chat",{"text":"hi"}]`},
		{"/admin", "x", nil, `42/admin,["x"]`},
		{"/", `q"uote`, []string{"1", `"two"`}, `42["q\"uote",1,"two"]`},
		{"admin", "x", nil, "error"},
		{"", "x", []string{"{"}, "error"},
	} {
		var args []json.RawMessage
		for _, a := range c.args {
			args = append(args, json.RawMessage(a))
		}
		b, err := Emit(c.ns, c.event, args...)
		got := string(b)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
		if err == nil {
			if u := (&Decoder{}).Decode(at.C2S("4" + got[1:]))[0]; u.Err != "" || u.Op != c.event {
				t.Errorf("%s decodes as %+v", got, u)
			}
		}
	}
}

func TestClientReply(t *testing.T) {
	d := &Decoder{}
	for s, want := range map[string]string{
		`0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`: "40",
		`2`:      "3",
		`2probe`: "3probe",
		`40`:     "",
		`3`:      "",
	} {
		b, ok := ClientReply(&d.Decode(at.S2C(s))[0])
		if string(b) != want || ok != (want != "") {
			t.Errorf("%s: %q %v", s, b, ok)
		}
	}
}
