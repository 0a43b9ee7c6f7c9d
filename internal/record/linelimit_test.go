package record

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// longLine reads as a header, a line before, n bytes of one line with no
// newline in them, then a newline and a line after: the long line is
// made as it is read, so the test holds none of it.
type longLine struct {
	before, after []byte
	n             int64
	fill          []byte
}

func newLongLine(n int64) *longLine {
	return &longLine{
		before: []byte(hdr + `{"t":1,"ev":"mark","conn":1,"text":"before"}` + "\n" + `{"t":2,"ev":"note","conn":1,"text":"`),
		after:  []byte(`"}` + "\n" + `{"t":3,"ev":"mark","conn":1,"text":"after"}` + "\n"),
		n:      n,
		fill:   bytes.Repeat([]byte("a"), 64<<10),
	}
}

func (l *longLine) Read(p []byte) (int, error) {
	switch {
	case len(l.before) > 0:
		n := copy(p, l.before)
		l.before = l.before[n:]
		return n, nil
	case l.n > 0:
		k := min(int64(len(p)), l.n, int64(len(l.fill)))
		l.n -= k
		return copy(p, l.fill[:k]), nil
	case len(l.after) > 0:
		n := copy(p, l.after)
		l.after = l.after[n:]
		return n, nil
	}
	return 0, io.EOF
}

// A 300 MiB line with the default limit (tied to the default message
// size) is refused having held no more than the limit, not its size
// (before: 256 MiB buffered by a growing append, over 1 GiB allocated);
// the lines around it read.
func TestLongLineRefusedBeforeItIsHeld(t *testing.T) {
	if DefaultMaxLineSize != MaxLineSize(64<<20) || DefaultMaxLineSize >= 300<<20 {
		t.Fatalf("default line limit %d, want MaxLineSize(64 MiB) = %d", DefaultMaxLineSize, MaxLineSize(64<<20))
	}
	const size = 300 << 20
	r, err := NewReader(newLongLine(size))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var texts []string
	var errs []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tl *LineTooLongError
			if !errors.As(err, &tl) {
				t.Fatalf("err %v", err)
			}
			errs = append(errs, err.Error())
			continue
		}
		texts = append(texts, e.Text)
	}
	runtime.ReadMemStats(&after)
	if strings.Join(texts, ",") != "before,after" || len(errs) != 1 || errs[0] != "line 3: longer than 135266304 bytes (129.0 MiB): skipped" {
		t.Errorf("read %q, errors %q", texts, errs)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	if allocated > DefaultMaxLineSize+DefaultMaxLineSize/8 {
		t.Errorf("a %d MiB line allocated %d MiB on the way to being refused; the limit is %d MiB", size>>20, allocated>>20, DefaultMaxLineSize>>20)
	}
	t.Logf("allocated %.1f MiB for a refused %d MiB line (limit %.1f MiB), heap from the system %d MiB", float64(allocated)/(1<<20), size>>20, float64(DefaultMaxLineSize)/(1<<20), after.HeapSys>>20)
}

// A long line under the limit costs its size, joined once: not the
// copies of a growing buffer.
func TestLongLineUnderTheLimitJoinedOnce(t *testing.T) {
	const size = 40 << 20
	r, err := NewReader(newLongLine(size))
	if err != nil {
		t.Fatal(err)
	}
	r.SetMaxLineSize(MaxLineSize(32 << 20))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && len(e.Text) != size {
			t.Errorf("long line: %d bytes of text, want %d", len(e.Text), size)
		}
		n++
	}
	runtime.ReadMemStats(&after)
	if n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	// The pieces, the joined line and the decoded text (a string): 3x.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 3*size+size/4 {
		t.Errorf("a %d MiB line allocated %d MiB", size>>20, allocated>>20)
	}
}

func TestMaxLineSize(t *testing.T) {
	for max, want := range map[int64]int{1 << 20: 3 << 20, 64 << 20: DefaultMaxLineSize, 0: MaxLineSize(-1)} {
		if got := MaxLineSize(max); got != want {
			t.Errorf("MaxLineSize(%d) = %d, want %d", max, got, want)
		}
	}
	if MaxLineSize(0) < 1<<40 || MaxLineSize(1<<62) != MaxLineSize(0) {
		t.Errorf("no message limit: line limit %d", MaxLineSize(0))
	}
}
