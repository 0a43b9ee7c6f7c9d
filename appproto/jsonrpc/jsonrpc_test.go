package jsonrpc

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
)

// The examples of the JSON-RPC 2.0 specification, section 7.
func TestSpecExamples(t *testing.T) {
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.C2S(`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`), Summary: `rpc call subtract id=1 [42,23]`, Corr: "c2s 1/request", Op: "subtract", Fields: []string{"params=[42,23]"}},
		{Msg: at.S2C(`{"jsonrpc": "2.0", "result": 19, "id": 1}`), Summary: `rpc result id=1 method=subtract 19`, Corr: "c2s 1/answer", Op: "subtract", Fields: []string{"result=19"}},
		{Msg: at.C2S(`{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": "a"}`), Summary: `rpc call subtract id="a" {"subtrahend":23,"minuend":42}`},
		{Msg: at.C2S(`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`), Summary: `rpc notify update [1,2,3,4,5]`, Corr: "/"},
		{Msg: at.C2S(`{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`), Summary: `rpc call foobar id="1"`},
		{Msg: at.S2C(`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}`), Summary: `rpc error id="1" -32601 "Method not found"`, Op: "foobar", Fields: []string{"code=-32601", "message=Method not found"}},
		{Msg: at.S2C(`{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}`), Summary: `rpc error id=null -32700 "Parse error"`},
		{Msg: at.C2S(`[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"foo": "boo"}
    ]`), Summary: `rpc call sum id="1" [1,2,4] [batch 1/3] | rpc notify notify_hello [7] [batch 2/3] | rpc ?? no "jsonrpc":"2.0" member (section 4) [batch 3/3]`, Fields: []string{"batch=1/3"}},
		{Msg: at.S2C(`[{"jsonrpc": "2.0", "result": 7, "id": "1"}]`), Summary: `rpc result id="1" method=sum 7 [batch 1/1]`},
		{Msg: at.C2S(`[]`), Summary: `rpc ?? empty batch (section 6)`, Err: true},
		{Msg: at.C2S(`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`), Summary: `rpc ?? not a JSON-RPC object: invalid character 'p' after object key:value pair`, Err: true},
		// A server calls the client: its id is its own.
		{Msg: at.S2C(`{"jsonrpc":"2.0","method":"ping","id":1}`), Summary: `rpc call ping id=1`, Corr: "s2c 1/request"},
		{Msg: at.C2S(`{"jsonrpc":"2.0","result":"pong","id":1}`), Summary: `rpc result id=1 method=ping "pong"`, Corr: "s2c 1/answer"},
		{Msg: at.S2C(`{"jsonrpc":"2.0","result":null,"id":9}`), Summary: `rpc result id=9 null`},
	})
}

func TestSniff(t *testing.T) {
	for s, want := range map[string]bool{`{"jsonrpc":"2.0","method":"a"}`: true, `[{"jsonrpc":"2.0","method":"a"}]`: true, `{"jsonrpc":"1.0"}`: false, `["jsonrpc"]`: false} {
		if got := Protocol.Sniff(at.C2S(s)) != ""; got != want {
			t.Errorf("%s: sniffed %v", s, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"jsonrpc":"2.0","method":"a","id":1}`, `[{"jsonrpc":"2.0","result":1,"id":1},{}]`, `{"jsonrpc":"2.0","error":{"code":1,"message":"m","data":[1]},"id":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}
