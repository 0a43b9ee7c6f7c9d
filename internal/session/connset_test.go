package session

import (
	"testing"
	"time"
)

// Once giveBackAt clients, and half of those held, have left, the set
// gives their memory back, once for the burst, and starts counting again
// from what it holds.
func TestConnSetGivesMemoryBackAfterABurstOfDepartures(t *testing.T) {
	t.Parallel()
	var cs connSet[int]
	n := 2 * giveBackAt
	for range n {
		if _, ok := cs.admit(0); !ok {
			t.Fatal("refused under no limit")
		}
	}
	state := func() (peak int, returning bool) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		return cs.peak, cs.returning
	}
	for id := 1; id < giveBackAt; id++ {
		cs.leave(id)
	}
	if _, returning := state(); returning {
		t.Fatalf("giving memory back after %d of %d left", giveBackAt-1, n)
	}
	for id := giveBackAt; id <= n; id++ {
		cs.leave(id)
	}
	if peak, returning := state(); !returning || peak != n {
		t.Fatalf("after all %d left: returning %v, peak %d", n, returning, peak)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		peak, returning := state()
		if !returning {
			if peak != 0 {
				t.Errorf("peak %d once the memory was given back, want 0 (none held)", peak)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("memory not given back within 5 s")
		}
	}
}
