package inspect

import (
	"strings"
	"testing"
	"time"
)

func decodedMsg(t time.Duration, conn int, ds ...Decoded) *Event {
	return &Event{T: t, Kind: KindMsg, Conn: conn, Msg: &Message{Dir: ClientToServer, Op: OpText, Decoded: ds}}
}

// Requests are timed to their answers per connection and operation; an
// answer without an op takes its request's.
func TestAppStats(t *testing.T) {
	var s Stats
	ms := time.Millisecond
	for i := range 10 {
		base := time.Duration(i) * 100 * ms
		corr := "id " + string(rune('a'+i))
		s.Add(decodedMsg(base, 1, Decoded{Protocol: "rpc", Op: "sum", Corr: corr, CorrRole: CorrRequest}))
		s.Add(decodedMsg(base+time.Duration(i+1)*ms, 1, Decoded{Protocol: "rpc", Corr: corr, CorrRole: CorrAnswer}))
	}
	// The same corr on another connection is another pair.
	s.Add(decodedMsg(0, 2, Decoded{Protocol: "rpc", Op: "sum", Corr: "id a", CorrRole: CorrRequest}))
	s.Add(decodedMsg(0, 2, Decoded{Protocol: "rpc", Type: "error", Err: "bad", Op: "x"}))
	sum := s.App.Ops[AppOp{"rpc", "sum"}]
	if sum == nil || sum.Units != 21 || sum.Requests != 11 || sum.Answers != 10 || len(sum.Latencies) != 10 {
		t.Fatalf("%+v", sum)
	}
	if p50, _ := sum.Percentile(50); p50 != 5*ms {
		t.Errorf("p50 %s", p50)
	}
	if p99, _ := sum.Percentile(99); p99 != 10*ms {
		t.Errorf("p99 %s", p99)
	}
	var b strings.Builder
	s.App.WriteText(&b)
	want := "app          rpc     sum                      units 21 requests 11 answers 10 latency p50 5ms p90 9ms p99 10ms\napp          rpc     x                        units 1 errors 1\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestAppStatsBounded(t *testing.T) {
	var a AppStats
	for i := range maxAppOps + 50 {
		a.add(decodedMsg(0, 1, Decoded{Protocol: "p", Op: strings.Repeat("x", i%7) + string(rune(0x100+i))}))
	}
	if len(a.Ops) > maxAppOps+1 || a.Ops[AppOp{"p", otherOp}] == nil {
		t.Errorf("%d ops", len(a.Ops))
	}
}
