package signalr

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
)

const rs = "\x1e"

// HubProtocol.md's JSON examples, in a connection.
func TestSpecExamples(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(`{"protocol":"json","version":1}` + rs), Summary: "signalr handshake protocol=json version=1", Corr: "handshake/request"},
		{Msg: at.S2C(`{}` + rs + `{"type":6}` + rs), Summary: "signalr handshake ok | signalr ping", Corr: "handshake/answer"},
		{Msg: at.C2S(`{"type":1,"invocationId":"123","target":"Send","arguments":[42,"Test Message"]}` + rs),
			Summary: `signalr invocation "Send" id=123 [42,"Test Message"]`, Corr: "invocation c2s 123/request", Op: "Send"},
		{Msg: at.S2C(`{"type":3,"invocationId":"123","result":42}` + rs), Summary: `signalr completion id=123 target=Send 42`, Corr: "invocation c2s 123/answer", Op: "Send"},
		{Msg: at.C2S(`{"type":4,"invocationId":"124","target":"Counter","arguments":[5]}` + rs), Summary: `signalr stream-invocation "Counter" id=124 [5]`},
		{Msg: at.S2C(`{"type":2,"invocationId":"124","item":1}` + rs + `{"type":2,"invocationId":"124","item":2}` + rs),
			Summary: `signalr stream-item id=124 target=Counter 1 | signalr stream-item id=124 target=Counter 2`, Corr: "invocation c2s 124/part"},
		{Msg: at.C2S(`{"type":5,"invocationId":"124"}` + rs), Summary: `signalr cancel-invocation id=124`, Corr: "invocation c2s 124/answer"},
		{Msg: at.S2C(`{"type":3,"invocationId":"125","error":"It didn't work!"}` + rs), Summary: `signalr completion id=125 error="It didn't work!"`},
		{Msg: at.S2C(`{"type":1,"target":"ReceiveMessage","arguments":["hi"]}` + rs), Summary: `signalr invocation "ReceiveMessage" ["hi"]`, Corr: "/"},
		{Msg: at.S2C(`{"type":7,"error":"Connection closed with an error.","allowReconnect":true}` + rs), Summary: `signalr close error="Connection closed with an error." allowReconnect=true`},
	})
}

func TestSpanningAndErrors(t *testing.T) {
	d := &Decoder{}
	got := at.Summaries(d, at.C2S(`{"protocol":"json",`), at.C2S(`"version":1}`+rs+`{"type":6}`+rs), at.S2C(`{"error":"Requested protocol 'messagepack' is not available."}`+rs),
		at.S2C(`{"type":42}`+rs), at.S2C(`nope`+rs), at.S2C(`{}`+rs))
	want := `signalr (partial record, 19 B so far)
signalr handshake protocol=json version=1 | signalr ping
signalr handshake error="Requested protocol 'messagepack' is not available."
signalr ?? unknown message type 42
signalr ?? record is not a JSON object: invalid character 'o' in literal null (expecting 'u')
signalr ?? record without "type"`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"protocol":"json","version":1}` + rs, `{"type":1,"invocationId":"1","target":"a","arguments":[]}` + rs + `{"type":3,"invocationId":"1"}`, `{"type":2,"item":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}
