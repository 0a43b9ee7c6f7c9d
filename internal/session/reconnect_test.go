package session

import (
	"testing"
	"time"
)

func TestBackoffHasFullJitterUnderACeiling(t *testing.T) {
	t.Parallel()
	for n, ceiling := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 4: 2 * time.Second, 9: 10 * time.Second, 70: 10 * time.Second} {
		var lo, hi time.Duration = time.Hour, 0
		for range 2000 {
			d := backoff(n, 10*time.Second)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo <= 0 || hi > ceiling || hi < ceiling/2 || lo > ceiling/4 {
			t.Errorf("attempt %d: delays in [%s, %s], want spread over (0, %s]", n, lo, hi, ceiling)
		}
	}
}
