package signalr

import (
	"testing"

	"github.com/wscope/wscope/appproto/appprototest"
	. "github.com/wscope/wscope/appproto/appprototest"
)

const rs = "\x1e"

// HubProtocol.md's JSON examples, in a connection.
func TestSpecExamples(t *testing.T) {
	Run(t, &Decoder{}, []Case{
		{Msg: C2S(`{"protocol":"json","version":1}` + rs), Summary: "signalr handshake protocol=json version=1", Corr: "handshake/request"},
		{Msg: S2C(`{}` + rs + `{"type":6}` + rs), Summary: "signalr handshake ok | signalr ping", Corr: "handshake/answer"},
		{Msg: C2S(`{"type":1,"invocationId":"123","target":"Send","arguments":[42,"Test Message"]}` + rs),
			Summary: `signalr invocation "Send" id=123 [42,"Test Message"]`, Corr: "invocation c2s 123/request", Op: "Send"},
		{Msg: S2C(`{"type":3,"invocationId":"123","result":42}` + rs), Summary: `signalr completion id=123 target=Send 42`, Corr: "invocation c2s 123/answer", Op: "Send"},
		{Msg: C2S(`{"type":4,"invocationId":"124","target":"Counter","arguments":[5]}` + rs), Summary: `signalr stream-invocation "Counter" id=124 [5]`},
		{Msg: S2C(`{"type":2,"invocationId":"124","item":1}` + rs + `{"type":2,"invocationId":"124","item":2}` + rs),
			Summary: `signalr stream-item id=124 target=Counter 1 | signalr stream-item id=124 target=Counter 2`, Corr: "invocation c2s 124/part"},
		{Msg: C2S(`{"type":5,"invocationId":"124"}` + rs), Summary: `signalr cancel-invocation id=124`, Corr: "invocation c2s 124/answer"},
		{Msg: S2C(`{"type":3,"invocationId":"125","error":"It didn't work!"}` + rs), Summary: `signalr completion id=125 error="It didn't work!"`},
		{Msg: S2C(`{"type":1,"target":"ReceiveMessage","arguments":["hi"]}` + rs), Summary: `signalr invocation "ReceiveMessage" ["hi"]`, Corr: "/"},
		{Msg: S2C(`{"type":7,"error":"Connection closed with an error.","allowReconnect":true}` + rs), Summary: `signalr close error="Connection closed with an error." allowReconnect=true`},
	})
}

func TestSpanningAndErrors(t *testing.T) {
	d := &Decoder{}
	got := Summaries(d, C2S(`{"protocol":"json",`), C2S(`"version":1}`+rs+`{"type":6}`+rs), S2C(`{"error":"Requested protocol 'messagepack' is not available."}`+rs),
		S2C(`{"type":42}`+rs), S2C(`nope`+rs), S2C(`{}`+rs))
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
	f.Fuzz(func(t *testing.T, data []byte) { appprototest.Fuzz(t, Protocol, "", data) })
}
