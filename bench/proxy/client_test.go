package main

import (
	"testing"
	"time"
)

// An echo is recognized only as the message it answers.
func TestMessagesCheck(t *testing.T) {
	for _, size := range []int{8, 32, 1 << 10} {
		m := newMessages(size)
		a := append([]byte(nil), m.get(41)...)
		if !m.check(a, 41) {
			t.Errorf("size %d: message 41 not recognized", size)
		}
		if m.check(a, 42) {
			t.Errorf("size %d: message 41 taken for 42", size)
		}
		a[size-1] ^= 1
		if m.check(a, 41) {
			t.Errorf("size %d: a changed byte not noticed", size)
		}
		if m.check(a[:size-1], 41) {
			t.Errorf("size %d: a short echo not noticed", size)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	r := &latencyRun{}
	for i := 1; i <= 100; i++ {
		r.rtts = append(r.rtts, time.Duration(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := r.percentile(c.q); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}
