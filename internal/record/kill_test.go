package record

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

const killChildEnv = "WSCOPE_RECORD_KILL_CHILD"

// killChildEvent is event n of the child's endless recording: marks
// numbered n, and frames whose payload size varies up to 1 MiB, so the
// kill lands inside large writes too.
func killChildEvent(n int) *inspect.Event {
	if n%3 != 0 {
		return &inspect.Event{T: time.Duration(n) * time.Microsecond, Kind: inspect.KindMark, Conn: 1, Text: strconv.Itoa(n)}
	}
	size := (n * 7919) % (1 << 20)
	p := bytes.Repeat([]byte{byte('a' + n%26)}, size)
	f := &inspect.Frame{Seq: uint64(n), Dir: s2c, Header: inspect.Header{Fin: true, Op: inspect.OpText,
		Length: uint64(size), LenEnc: inspect.MinimalLengthEncoding(uint64(size))}, Payload: p}
	f.Raw = inspect.AppendHeader(nil, f.Header)
	return &inspect.Event{T: time.Duration(n) * time.Microsecond, Kind: inspect.KindFrame, Conn: 1, Frame: f}
}

// TestKillChild is the child of TestSIGKILLLeavesEveryCompleteLine: it
// writes events to the file named in its environment until it is killed,
// batched as --record batches them.
func TestKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("only run as the child of TestSIGKILLLeavesEveryCompleteLine")
	}
	w, err := Create(path, inspect.RecordingHeader{Version: "kill-test"}, WriterOptions{MaxDelay: DefaultMaxDelay})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		if err := w.Write(killChildEvent(n)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSIGKILLLeavesEveryCompleteLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	for round := 0; round < 3; round++ {
		path := filepath.Join(t.TempDir(), "killed.wsrec.jsonl")
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it write a few megabytes, then kill it mid-stream.
		deadline := time.Now().Add(20 * time.Second)
		for {
			if fi, err := os.Stat(path); err == nil && fi.Size() > int64(4+round*3)<<20 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child wrote too little")
			}
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child did not die of SIGKILL: %v", err)
		}

		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		complete := bytes.Count(data, []byte("\n")) - 1 // minus the header
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("round %d: event %d: %v", round, n, err)
			}
			if d := sameEvent(killChildEvent(n), e); d != "" {
				t.Fatalf("round %d: event %d: %s", round, n, d)
			}
			n++
		}
		if n != complete {
			t.Errorf("round %d: read %d events, the file has %d complete lines", round, n, complete)
		}
		// The kill may land inside a write: the kernel can stop a write to
		// a file part-way for a fatal signal. Then the tail is a truncated
		// last line, reported as a warning.
		if tail := len(data) - bytes.LastIndexByte(data, '\n') - 1; tail > 0 {
			if len(r.Warnings()) != 1 {
				t.Errorf("round %d: %d bytes after the last newline but warnings %q", round, tail, r.Warnings())
			}
			t.Logf("round %d: %d events, then a truncated line of %d bytes", round, n, tail)
		} else {
			t.Logf("round %d: %d events, ending on a complete line", round, n)
		}
	}
}

// TestBatchedEventsReachTheFileUnflushed: with MaxDelay a Writer writes
// what waits by itself, without Flush or Close, so a killed process
// loses only the last moments.
func TestBatchedEventsReachTheFileUnflushed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batched.wsrec.jsonl")
	w, err := Create(path, inspect.RecordingHeader{}, WriterOptions{MaxDelay: DefaultMaxDelay})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for n := range 3 {
		if err := w.Write(killChildEvent(n)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(data, []byte("\n")); n == 4 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d lines in the file after 10 s, want the header and 3 events", n)
		}
	}
}
