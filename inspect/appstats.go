package inspect

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// AppStats counts what the application protocol decoders read, by
// protocol and operation (Decoded.Op: the event, method, GraphQL
// operation, topic or destination), and times each request to its answer
// (Decoded.Corr): the latency percentiles of `inspect --stats`. Memory is
// bounded: at most maxAppOps operations, maxPendingPairs requests waiting
// for their answer, maxLatencySamples latencies kept in all.
type AppStats struct {
	Ops     map[AppOp]*AppOpStats
	pending map[pairKey]pendingPair
	samples int
}

// AppOp names one protocol's operation.
type AppOp struct{ Protocol, Op string }

// AppOpStats is what one operation saw.
type AppOpStats struct {
	Units, Requests, Answers, Errors int
	// Latencies are the times from requests to their answers, sorted by
	// Percentile when read.
	Latencies []time.Duration
	sorted    bool
}

type pairKey struct {
	conn int
	corr string
}

type pendingPair struct {
	t  time.Duration
	op AppOp
}

// Bounds of AppStats.
const (
	maxAppOps         = 1000
	maxPendingPairs   = 65536
	maxLatencySamples = 1 << 20
)

// otherOp gathers the operations past maxAppOps.
const otherOp = "(other)"

func (a *AppStats) add(e *Event) {
	for i := range e.Msg.Decoded {
		d := &e.Msg.Decoded[i]
		if d.Type == "partial" {
			continue
		}
		op := AppOp{d.Protocol, d.Op}
		key := pairKey{e.Conn, d.Corr}
		if d.CorrRole == CorrAnswer && op.Op == "" {
			if p, ok := a.pending[key]; ok {
				op = p.op
			}
		}
		s := a.op(op)
		s.Units++
		if d.Err != "" {
			s.Errors++
		}
		switch d.CorrRole {
		case CorrRequest:
			s.Requests++
			if a.pending == nil {
				a.pending = map[pairKey]pendingPair{}
			}
			if len(a.pending) < maxPendingPairs {
				a.pending[key] = pendingPair{e.T, op}
			}
		case CorrAnswer:
			s.Answers++
			if p, ok := a.pending[key]; ok {
				delete(a.pending, key)
				if a.samples < maxLatencySamples {
					ps := a.op(p.op)
					ps.Latencies = append(ps.Latencies, e.T-p.t)
					ps.sorted = false
					a.samples++
				}
			}
		}
	}
}

func (a *AppStats) op(k AppOp) *AppOpStats {
	if a.Ops == nil {
		a.Ops = map[AppOp]*AppOpStats{}
	}
	s := a.Ops[k]
	if s == nil {
		if len(a.Ops) >= maxAppOps {
			k.Op = otherOp
			if s = a.Ops[k]; s != nil {
				return s
			}
		}
		s = &AppOpStats{}
		a.Ops[k] = s
	}
	return s
}

// Percentile returns the p-th percentile (0-100) of the latencies, and
// false when there are none.
func (s *AppOpStats) Percentile(p int) (time.Duration, bool) {
	if len(s.Latencies) == 0 {
		return 0, false
	}
	if !s.sorted {
		sort.Slice(s.Latencies, func(i, j int) bool { return s.Latencies[i] < s.Latencies[j] })
		s.sorted = true
	}
	i := (len(s.Latencies)*p + 99) / 100
	return s.Latencies[max(i-1, 0)], true
}

// Sorted returns the operations by protocol, then operation.
func (a *AppStats) Sorted() []AppOp {
	ks := make([]AppOp, 0, len(a.Ops))
	for k := range a.Ops {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].Protocol != ks[j].Protocol {
			return ks[i].Protocol < ks[j].Protocol
		}
		return ks[i].Op < ks[j].Op
	})
	return ks
}

// WriteText writes one line per operation:
//
//	app   sio chat             units 4 requests 2 answers 2 latency p50 1.2ms p90 3.4ms p99 3.4ms
func (a *AppStats) WriteText(w io.Writer) {
	for _, k := range a.Sorted() {
		s := a.Ops[k]
		op := k.Op
		if op == "" {
			op = "-"
		}
		fmt.Fprintf(w, "app          %-7s %-24s units %d", k.Protocol, op, s.Units)
		if s.Requests+s.Answers > 0 {
			fmt.Fprintf(w, " requests %d answers %d", s.Requests, s.Answers)
		}
		if s.Errors > 0 {
			fmt.Fprintf(w, " errors %d", s.Errors)
		}
		if p50, ok := s.Percentile(50); ok {
			p90, _ := s.Percentile(90)
			p99, _ := s.Percentile(99)
			fmt.Fprintf(w, " latency p50 %s p90 %s p99 %s", p50, p90, p99)
		}
		fmt.Fprintln(w)
	}
}
