package phoenix

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
	"github.com/wscope/wscope/inspect"
)

// What the phoenix JS client and Phoenix.Socket.V2.JSONSerializer send.
func TestV2(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(`["3","3","room:lobby","phx_join",{"token":"x"}]`), Summary: `phx phx_join room:lobby ref=3 join_ref=3 {"token":"x"}`, Corr: "ref 3/request", Op: "room:lobby phx_join"},
		{Msg: at.S2C(`["3","3","room:lobby","phx_reply",{"response":{},"status":"ok"}]`), Summary: `phx reply ok room:lobby ref=3 {}`, Corr: "ref 3/answer", Op: "room:lobby phx_join", Fields: []string{"status=ok"}},
		{Msg: at.C2S(`["3","4","room:lobby","new_msg",{"body":"hi"}]`), Summary: `phx new_msg room:lobby ref=4 join_ref=3 {"body":"hi"}`},
		{Msg: at.S2C(`[null,null,"room:lobby","new_msg",{"body":"hi"}]`), Summary: `phx new_msg room:lobby {"body":"hi"}`, Corr: "/"},
		{Msg: at.C2S(`[null,"5","phoenix","heartbeat",{}]`), Summary: `phx heartbeat phoenix ref=5 {}`},
		{Msg: at.S2C(`[null,"5","phoenix","phx_reply",{"response":{},"status":"ok"}]`), Summary: `phx reply ok phoenix ref=5 {}`, Op: "phoenix heartbeat"},
		{Msg: at.S2C(`["3","4","room:lobby","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]`), Summary: `phx reply error room:lobby ref=4 {"reason":"unmatched topic"}`},
		// v1
		{Msg: at.C2S(`{"topic":"room:a","event":"phx_join","payload":{},"ref":"1"}`), Summary: `phx phx_join room:a ref=1 {}`},
		// v2 binary: push, reply, broadcast.
		{Msg: at.Binary(inspect.ClientToServer, append([]byte{0, 1, 1, 4, 2}, "12roomup\x01\x02"...)), Summary: `phx up room ref=2 join_ref=1 binary 2 B`},
		{Msg: at.Binary(inspect.ServerToClient, append([]byte{1, 1, 1, 4, 2}, "12roomok\x09"...)), Summary: `phx reply ok room ref=2 binary 1 B`, Corr: "ref 2/answer"},
		{Msg: at.Binary(inspect.ServerToClient, append([]byte{2, 4, 2}, "roomev\x09\x09"...)), Summary: `phx ev room binary 2 B`},
	})
}

func TestMalformed(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(`[1,2,3]`), Summary: `phx ?? not the v2 array [join_ref, ref, topic, event, payload]`, Err: true},
		{Msg: at.C2S(`[1,"2","t","e",{}]`), Summary: `phx ?? element 1 of the v2 array is not a string or null`, Err: true},
		{Msg: at.C2S(`{"topic":"t"}`), Summary: `phx ?? no topic or event`, Err: true},
		{Msg: at.Binary(inspect.ClientToServer, []byte{0, 9, 9, 9, 9, 'a'}), Summary: `phx ?? binary message shorter than its header says`, Err: true},
		{Msg: at.Binary(inspect.ClientToServer, []byte{7}), Summary: `phx ?? unknown binary message kind 7`, Err: true},
	})
}

func TestChoice(t *testing.T) {
	if why := Protocol.URL(at.URL(t, "ws://h/socket/websocket?token=x&vsn=2.0.0")); why != "path /socket/websocket with vsn=2.0.0" {
		t.Errorf("URL: %q", why)
	}
	if Protocol.Sniff(at.C2S(`["1","1","room:lobby","phx_join",{}]`)) == "" {
		t.Error("join not sniffed")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`["3","3","room:lobby","phx_join",{}]`, `[null,"5","phoenix","phx_reply",{"response":{},"status":"ok"}]`, "\x00\x01\x01\x04\x0312room2up\x01\x02"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}
