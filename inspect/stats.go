package inspect

import (
	"fmt"
	"io"
	"math"
	mathbits "math/bits"
	"sort"
	"time"
)

// Stats accumulates what --stats reports, in constant memory however long
// the session: counts and bytes per direction and opcode, the message size
// distribution (log2 buckets), compression, ping round trips.
type Stats struct {
	Conns      int
	First      time.Duration
	Last       time.Duration
	seen       bool
	Frames     [3][16]Count // [Direction][OpCode]
	Messages   [3]Count
	sizes      [3][65]int64 // message sizes by bit length
	Deflated   [3]Count     // messages compressed on the wire: Bytes is decompressed
	DeflatedOn [3]int64     // ... and their size on the wire
	Violations map[Rule]int
	findings   Findings
	Closes     map[CloseCode]int
	RTT        Durations
	pings      map[pingKey]time.Duration
	// App is what the application protocol decoders read.
	App AppStats
}

// Count is a number of items and their bytes.
type Count struct{ N, Bytes int64 }

func (c *Count) add(n int) { c.N++; c.Bytes += int64(n) }

type pingKey struct {
	conn    int
	dir     Direction
	payload string
}

// maxPendingPings bounds the pings waiting for their pong.
const maxPendingPings = 4096

// Durations summarises a series of durations.
type Durations struct {
	N             int
	Min, Max, Sum time.Duration
}

func (d *Durations) add(v time.Duration) {
	if d.N == 0 || v < d.Min {
		d.Min = v
	}
	if v > d.Max {
		d.Max = v
	}
	d.N++
	d.Sum += v
}

// Mean returns the average, 0 when empty.
func (d Durations) Mean() time.Duration {
	if d.N == 0 {
		return 0
	}
	return d.Sum / time.Duration(d.N)
}

// Add counts one event.
func (s *Stats) Add(e *Event) {
	if !s.seen || e.T < s.First {
		s.First = e.T
	}
	if e.T > s.Last {
		s.Last = e.T
	}
	s.seen = true
	switch e.Kind {
	case KindOpen:
		s.Conns++
	case KindFrame:
		f := e.Frame
		s.Frames[f.Dir&3][f.Op&0xF].add(len(f.Payload))
		s.addViolations(s.findings.Of(e))
		if f.Close != nil {
			s.count(&s.Closes, f.Close.Code)
		}
		s.addPing(e)
	case KindMsg:
		m := e.Msg
		s.Messages[m.Dir&3].add(len(m.Payload))
		s.sizes[m.Dir&3][mathbits.Len64(uint64(len(m.Payload)))]++
		if m.Deflated {
			s.Deflated[m.Dir&3].add(len(m.Payload))
			s.DeflatedOn[m.Dir&3] += int64(m.WireLen)
		}
		s.addViolations(s.findings.Of(e))
		s.App.add(e)
	}
}

func (s *Stats) addViolations(vs []Violation) {
	for _, v := range vs {
		if s.Violations == nil {
			s.Violations = map[Rule]int{}
		}
		s.Violations[v.Rule]++
	}
}

func (s *Stats) count(m *map[CloseCode]int, c CloseCode) {
	if *m == nil {
		*m = map[CloseCode]int{}
	}
	(*m)[c]++
}

// addPing matches a pong with the ping it answers (same payload, other
// direction) and records the round trip.
func (s *Stats) addPing(e *Event) {
	f := e.Frame
	switch f.Op {
	case OpPing:
		if s.pings == nil {
			s.pings = map[pingKey]time.Duration{}
		}
		if len(s.pings) < maxPendingPings {
			s.pings[pingKey{e.Conn, f.Dir, string(f.Payload)}] = e.T
		}
	case OpPong:
		k := pingKey{e.Conn, f.Dir.Reverse(), string(f.Payload)}
		if t, ok := s.pings[k]; ok {
			delete(s.pings, k)
			s.RTT.add(e.T - t)
		}
	}
}

// Percentile returns an upper bound of the p-th percentile (0-100) of
// message sizes in direction d (0: both), to a power of two.
func (s *Stats) Percentile(d Direction, p float64) int64 {
	var hist [65]int64
	var total int64
	for dir := 1; dir <= 2; dir++ {
		if d != 0 && Direction(dir) != d {
			continue
		}
		for i, n := range s.sizes[dir] {
			hist[i] += n
			total += n
		}
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(p / 100 * float64(total)))
	var acc int64
	for i, n := range hist {
		acc += n
		if acc >= want {
			if i == 0 {
				return 0
			}
			return 1<<i - 1
		}
	}
	return 0
}

// WriteText writes the report for people.
func (s *Stats) WriteText(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("session      %s, %d connection(s)\n", (s.Last - s.First).Round(time.Microsecond), s.Conns)
	for _, d := range []Direction{ClientToServer, ServerToClient} {
		name := "client → server"
		if d == ServerToClient {
			name = "server → client"
		}
		m := s.Messages[d]
		p("%s  %d messages, %s", name, m.N, bytesString(m.Bytes))
		if m.N > 0 {
			p(" (sizes p50 ≤%s p90 ≤%s p99 ≤%s)", bytesString(s.Percentile(d, 50)), bytesString(s.Percentile(d, 90)), bytesString(s.Percentile(d, 99)))
		}
		p("\n")
		for op := range 16 {
			if c := s.Frames[d][op]; c.N > 0 {
				p("  %-6s %8d frames %12s\n", OpCode(op), c.N, bytesString(c.Bytes))
			}
		}
		if c := s.Deflated[d]; c.N > 0 {
			p("  compressed %d messages: %s on the wire for %s (ratio %.2f)\n", c.N, bytesString(s.DeflatedOn[d]), bytesString(c.Bytes), float64(s.DeflatedOn[d])/float64(max(c.Bytes, 1)))
		}
	}
	if s.RTT.N > 0 {
		p("ping rtt     %d: min %s avg %s max %s\n", s.RTT.N, s.RTT.Min, s.RTT.Mean(), s.RTT.Max)
	}
	for _, code := range sortedKeys(s.Closes) {
		p("close        %s ×%d\n", code, s.Closes[code])
	}
	rules := make([]string, 0, len(s.Violations))
	for r := range s.Violations {
		rules = append(rules, string(r))
	}
	sort.Strings(rules)
	for _, r := range rules {
		p("violation    %s (%s) ×%d\n", r, Rule(r).Section(), s.Violations[Rule(r)])
	}
	s.App.WriteText(w)
	return nil
}

func sortedKeys(m map[CloseCode]int) []CloseCode {
	ks := make([]CloseCode, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

func bytesString(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
