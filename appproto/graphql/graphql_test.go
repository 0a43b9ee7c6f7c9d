package graphql

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
)

// graphql-transport-ws, PROTOCOL.md's messages in a subscription's life.
func TestTransportWS(t *testing.T) {
	at.Run(t, &Decoder{dialect: TransportWS}, []at.Case{
		{Msg: at.C2S(`{"type":"connection_init","payload":{"token":"t"}}`), Summary: `gql connection_init {"token":"t"}`, Corr: "connection_init/request"},
		{Msg: at.S2C(`{"type":"connection_ack"}`), Summary: `gql connection_ack`, Corr: "connection_init/answer"},
		{Msg: at.C2S(`{"id":"1","type":"subscribe","payload":{"query":"subscription OnMessage($room: ID!) { message(room: $room) { text } }","variables":{"room":"7"}}}`),
			Summary: `gql subscribe id=1 op=OnMessage subscription vars={"room":"7"}`, Corr: "op 1/request", Op: "OnMessage", Fields: []string{"kind=subscription", `variables={"room":"7"}`}},
		{Msg: at.S2C(`{"id":"1","type":"next","payload":{"data":{"message":{"text":"hi"}}}}`), Summary: `gql next id=1 op=OnMessage {"message":{"text":"hi"}}`, Corr: "op 1/part", Op: "OnMessage"},
		{Msg: at.S2C(`{"id":"1","type":"complete"}`), Summary: `gql complete id=1 op=OnMessage`, Corr: "op 1/answer"},
		{Msg: at.C2S(`{"id":"2","type":"subscribe","payload":{"query":"{ hello }","operationName":"Hello"}}`), Summary: `gql subscribe id=2 op=Hello query`},
		{Msg: at.S2C(`{"id":"2","type":"error","payload":[{"message":"Cannot query field"}]}`), Summary: `gql error id=2 op=Hello "Cannot query field"`, Corr: "op 2/answer"},
		{Msg: at.S2C(`{"type":"ping"}`), Summary: `gql ping`, Corr: "ping/request"},
		{Msg: at.C2S(`{"type":"pong"}`), Summary: `gql pong`, Corr: "ping/answer"},
		{Msg: at.C2S(`{"type":"start","id":"3"}`), Summary: `gql start id=3 ?? no message type "start" in graphql-transport-ws`, Err: true},
	})
}

// The legacy graphql-ws of subscriptions-transport-ws.
func TestLegacyWS(t *testing.T) {
	at.Run(t, &Decoder{dialect: LegacyWS}, []at.Case{
		{Msg: at.C2S(`{"type":"connection_init","payload":{}}`), Summary: `gql connection_init {}`},
		{Msg: at.S2C(`{"type":"connection_ack"}`), Summary: `gql connection_ack`},
		{Msg: at.S2C(`{"type":"ka"}`), Summary: `gql ka`},
		{Msg: at.C2S(`{"id":"1","type":"start","payload":{"query":"subscription { ticks }"}}`), Summary: `gql start id=1 subscription`, Corr: "op 1/request"},
		{Msg: at.S2C(`{"id":"1","type":"data","payload":{"data":{"ticks":1}}}`), Summary: `gql data id=1 {"ticks":1}`, Corr: "op 1/part"},
		{Msg: at.C2S(`{"id":"1","type":"stop"}`), Summary: `gql stop id=1`, Corr: "op 1/answer"},
		{Msg: at.C2S(`{"type":"connection_terminate"}`), Summary: `gql connection_terminate`},
	})
}

// Without a subprotocol, the first type only one dialect has decides.
func TestDialectFromTypes(t *testing.T) {
	d := &Decoder{}
	at.Run(t, d, []at.Case{
		{Msg: at.C2S(`{"type":"connection_init"}`), Summary: `gql connection_init`},
		{Msg: at.C2S(`{"id":"a","type":"subscribe","payload":{"query":"query Q { a }"}}`), Summary: `gql subscribe id=a op=Q query`},
		{Msg: at.S2C(`{"id":"a","type":"data"}`), Summary: `gql data id=a op=Q ?? no message type "data" in graphql-transport-ws`, Err: true},
	})
}

func TestMalformed(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(`[]`), Summary: `gql ?? not a JSON object: json: cannot unmarshal array into Go value of type graphql.envelope`, Err: true},
		{Msg: at.C2S(`{}`), Summary: `gql ?? no "type"`, Err: true},
		{Msg: at.C2S(`{"type":"subscribe","id":"1","payload":5}`), Summary: `gql subscribe id=1 ?? payload is not a request with a query`, Err: true},
	})
}

func TestOperationName(t *testing.T) {
	for q, want := range map[string]string{
		"query A { a }":                          "query A",
		"# c\nmutation   B($x:Int){ b }":         "mutation B",
		"{ a }":                                  "query ",
		"subscription{ s }":                      "subscription ",
		"queryX { a }":                           " ",
		"fragment F on T { a } query Q { ...F }": " ",
	} {
		k, n := firstOperation(q)
		if got := k + " " + n; got != want {
			t.Errorf("%q: %q, want %q", q, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"type":"subscribe","id":"1","payload":{"query":"query A{a}"}}`, `{"type":"next","id":"1","payload":{"data":{}}}`, `{"type":"error","id":"1","payload":[{"message":"m"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}
