package actioncable

import (
	"testing"

	at "github.com/wscope/wscope/appproto/appprototest"
)

// What ActionCable::Connection and the @rails/actioncable client send.
func TestMessages(t *testing.T) {
	id := `{\"channel\":\"ChatChannel\",\"room\":\"1\"}`
	at.Run(t, &Decoder{}, []at.Case{
		{Msg: at.S2C(`{"type":"welcome"}`), Summary: "cable welcome"},
		{Msg: at.C2S(`{"command":"subscribe","identifier":"` + id + `"}`), Summary: "cable subscribe ChatChannel room=1", Corr: `subscribe {"channel":"ChatChannel","room":"1"}/request`, Op: "ChatChannel"},
		{Msg: at.S2C(`{"identifier":"` + id + `","type":"confirm_subscription"}`), Summary: "cable confirm_subscription ChatChannel room=1", Corr: `subscribe {"channel":"ChatChannel","room":"1"}/answer`},
		{Msg: at.S2C(`{"type":"ping","message":1700000000}`), Summary: "cable ping 1700000000"},
		{Msg: at.C2S(`{"command":"message","identifier":"` + id + `","data":"{\"text\":\"hi\",\"action\":\"speak\"}"}`), Summary: `cable message ChatChannel room=1 action=speak {"text":"hi"}`, Op: "ChatChannel#speak", Fields: []string{"action=speak"}},
		{Msg: at.S2C(`{"identifier":"` + id + `","message":{"text":"hi"}}`), Summary: `cable message ChatChannel room=1 {"text":"hi"}`},
		{Msg: at.S2C(`{"type":"reject_subscription","identifier":"{\"channel\":\"Secret\"}"}`), Summary: "cable reject_subscription Secret"},
		{Msg: at.S2C(`{"type":"disconnect","reason":"unauthorized","reconnect":false}`), Summary: "cable disconnect reason=unauthorized reconnect=false"},
		{Msg: at.C2S(`{"command":"unsubscribe","identifier":"` + id + `"}`), Summary: "cable unsubscribe ChatChannel room=1", Corr: "/"},
		{Msg: at.C2S(`{"identifier":"x"}`), Summary: `cable ?? not a command: no "command"`, Err: true},
		{Msg: at.S2C(`{"type":"bogus"}`), Summary: `cable bogus ?? unknown type "bogus"`, Err: true},
		{Msg: at.S2C(`[]`), Summary: `cable ?? not a JSON object (actioncable-v1-json)`, Err: true},
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"type":"welcome"}`, `{"command":"message","identifier":"{\"channel\":\"C\"}","data":"{\"action\":\"a\"}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { at.Fuzz(t, Protocol, "", data) })
}
