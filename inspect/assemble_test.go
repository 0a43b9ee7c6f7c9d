package inspect

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// feed decodes wire and adds each frame to a with the given sequence
// numbers, returning copies of the messages and the errors of Add.
func feed(t *testing.T, a *Assembler, seqs []uint64, wire ...[]byte) (msgs []Message, errs []error) {
	t.Helper()
	d := NewDecoder(bytes.NewReader(cat(wire...)), a.Dir)
	var f Frame
	for i := range wire {
		if err := d.Next(&f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		f.Seq = seqs[i]
		m, err := a.Add(&f)
		if err != nil {
			errs = append(errs, err)
		}
		if m != nil {
			c := *m
			c.Payload = append([]byte(nil), m.Payload...)
			c.Frames = append([]uint64(nil), m.Frames...)
			c.Violations = append([]Violation(nil), m.Violations...)
			msgs = append(msgs, c)
		}
	}
	return msgs, errs
}

func TestAssemblerReassembly(t *testing.T) {
	a := &Assembler{Dir: ClientToServer}
	if a.InMessage() {
		t.Fatal("InMessage before any frame")
	}
	msgs, errs := feed(t, a, []uint64{10, 13, 14, 17, 20, 21},
		client(false, OpText, "one "),
		client(false, OpContinuation, "two "),
		client(true, OpPing, "ping"),
		client(true, OpContinuation, "three"),
		client(true, OpBinary, "\x00\x01"),
		client(true, OpText, "solo"),
	)
	if errs != nil {
		t.Fatal(errs)
	}
	want := []Message{
		{Dir: ClientToServer, Op: OpText, Frames: []uint64{10, 13, 17}, FrameCount: 3, WireLen: 13, Payload: []byte("one two three")},
		{Dir: ClientToServer, Op: OpBinary, Frames: []uint64{20}, FrameCount: 1, WireLen: 2, Payload: []byte{0, 1}},
		{Dir: ClientToServer, Op: OpText, Frames: []uint64{21}, FrameCount: 1, WireLen: 4, Payload: []byte("solo")},
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages\n%+v\nwant\n%+v", msgs, want)
	}
}

func TestAssemblerInMessage(t *testing.T) {
	a := &Assembler{Dir: ServerToClient}
	var f Frame
	d := NewDecoder(bytes.NewReader(cat(
		server(false, OpText, "a"), server(true, OpPing, ""), server(true, OpContinuation, "b"),
	)), ServerToClient)
	for i, want := range []bool{true, true, false} {
		if err := d.Next(&f); err != nil {
			t.Fatal(err)
		}
		a.Add(&f)
		if a.InMessage() != want {
			t.Errorf("after frame %d: InMessage %v, want %v", i, a.InMessage(), want)
		}
	}
}

func TestAssemblerReset(t *testing.T) {
	a := &Assembler{Dir: ServerToClient}
	feed(t, a, []uint64{1}, server(false, OpText, "dropped"))
	a.Reset()
	if a.InMessage() {
		t.Error("InMessage after Reset")
	}
	// The continuation of the forgotten message is now an orphan.
	msgs, _ := feed(t, a, []uint64{2, 3}, server(true, OpContinuation, "x"), server(true, OpText, "fresh"))
	if len(msgs) != 1 || string(msgs[0].Payload) != "fresh" || !reflect.DeepEqual(msgs[0].Frames, []uint64{3}) {
		t.Errorf("after Reset: %+v", msgs)
	}
}

func TestAssemblerDataInsideFragmentedDropsOpen(t *testing.T) {
	a := &Assembler{Dir: ServerToClient}
	msgs, errs := feed(t, a, []uint64{1, 2, 3, 4},
		server(false, OpText, "dropped "),
		server(false, OpContinuation, "also dropped "),
		server(false, OpBinary, "new "),
		server(true, OpContinuation, "message"),
	)
	if errs != nil {
		t.Fatal(errs)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Op != OpBinary || string(m.Payload) != "new message" || !reflect.DeepEqual(m.Frames, []uint64{3, 4}) {
		t.Errorf("message %s %q %v", m.Op, m.Payload, m.Frames)
	}
}

func TestAssemblerMaxMessageSize(t *testing.T) {
	t.Run("fragmented over the limit", func(t *testing.T) {
		a := &Assembler{Dir: ServerToClient, MaxMessageSize: 10}
		msgs, errs := feed(t, a, []uint64{1, 2, 3},
			server(false, OpText, "12345"),
			server(false, OpContinuation, "67890"),
			server(false, OpContinuation, "1"),
		)
		if len(msgs) != 0 || len(errs) != 1 {
			t.Fatalf("messages %v errors %v", msgs, errs)
		}
		var tl *TooLargeError
		if !errors.As(errs[0], &tl) || *tl != (TooLargeError{What: "message", Size: 11, Limit: 10}) {
			t.Errorf("error %#v", errs[0])
		}
		if a.InMessage() {
			t.Error("the message is still open")
		}
		// The next message assembles.
		msgs, errs = feed(t, a, []uint64{4}, server(true, OpText, "ok"))
		if errs != nil || len(msgs) != 1 || string(msgs[0].Payload) != "ok" || !reflect.DeepEqual(msgs[0].Frames, []uint64{4}) {
			t.Errorf("after the error: %+v %v", msgs, errs)
		}
	})
	t.Run("single frame over the limit", func(t *testing.T) {
		a := &Assembler{Dir: ServerToClient, MaxMessageSize: 4}
		msgs, errs := feed(t, a, []uint64{1}, server(true, OpBinary, "12345"))
		var tl *TooLargeError
		if len(msgs) != 0 || len(errs) != 1 || !errors.As(errs[0], &tl) || tl.Size != 5 || tl.Limit != 4 || tl.What != "message" {
			t.Errorf("messages %v errors %v", msgs, errs)
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		a := &Assembler{Dir: ServerToClient, MaxMessageSize: 10}
		msgs, errs := feed(t, a, []uint64{1, 2, 3, 4},
			server(false, OpText, "12345"),
			server(false, OpContinuation, "6789"),
			server(true, OpContinuation, "0"),
			server(true, OpBinary, "0123456789"),
		)
		if errs != nil || len(msgs) != 2 || string(msgs[0].Payload) != "1234567890" || string(msgs[1].Payload) != "0123456789" {
			t.Errorf("messages %+v errors %v", msgs, errs)
		}
	})
	t.Run("control frames do not count", func(t *testing.T) {
		a := &Assembler{Dir: ServerToClient, MaxMessageSize: 3}
		msgs, errs := feed(t, a, []uint64{1, 2, 3},
			server(false, OpText, "ab"),
			server(true, OpPing, "a long ping payload"),
			server(true, OpContinuation, "c"),
		)
		if errs != nil || len(msgs) != 1 || string(msgs[0].Payload) != "abc" {
			t.Errorf("messages %+v errors %v", msgs, errs)
		}
	})
}

// TestAssemblerMessageReuse: a message is valid until the next Add, and a
// long one does not bleed into the next.
func TestAssemblerMessageReuse(t *testing.T) {
	a := &Assembler{Dir: ServerToClient}
	msgs, _ := feed(t, a, []uint64{1, 2, 3, 4, 5},
		server(false, OpText, "a long first "),
		server(true, OpContinuation, "message"),
		server(false, OpText, "b"),
		server(true, OpContinuation, "c"),
		server(true, OpText, "single"),
	)
	var got []string
	for _, m := range msgs {
		got = append(got, string(m.Payload))
	}
	if !reflect.DeepEqual(got, []string{"a long first message", "bc", "single"}) {
		t.Errorf("payloads %q", got)
	}
}

func TestTooLargeErrorMessage(t *testing.T) {
	e := &TooLargeError{What: "frame", Size: 2000, Limit: 1000}
	if got, want := e.Error(), "frame of 2000 bytes exceeds the limit of 1000 bytes"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestAssemblerDropsTheRestOfAnOversizedMessageQuietly(t *testing.T) {
	t.Parallel()
	a := Assembler{Dir: ServerToClient, MaxMessageSize: 4}
	frames := []*Frame{
		{Dir: ServerToClient, Header: Header{Op: OpText, LenEnc: Len7, Length: 3}, Payload: []byte("abc")},
		{Dir: ServerToClient, Header: Header{Op: OpContinuation, LenEnc: Len7, Length: 3}, Payload: []byte("def")},
		{Dir: ServerToClient, Header: Header{Op: OpContinuation, LenEnc: Len7, Length: 3}, Payload: []byte("ghi")},
		{Dir: ServerToClient, Header: Header{Fin: true, Op: OpContinuation, LenEnc: Len7, Length: 3}, Payload: []byte("jkl")},
		{Dir: ServerToClient, Header: Header{Fin: true, Op: OpText, LenEnc: Len7, Length: 2}, Payload: []byte("ok")},
	}
	var tooLarge int
	for i, f := range frames {
		m, err := a.Add(f)
		if err != nil {
			tooLarge++
		}
		if len(f.Violations) > 0 {
			t.Errorf("frame %d: %v", i, f.Violations)
		}
		if i == len(frames)-1 && (m == nil || string(m.Payload) != "ok") {
			t.Errorf("the next message was not assembled: %+v", m)
		}
	}
	if tooLarge != 1 {
		t.Errorf("%d too-large errors, want 1", tooLarge)
	}
}

// Empty continuations cost nothing that grows: past the listed frames, a
// message's state does not grow with its frame count (50 million empty
// frames took a connection to 1.4 GiB), and MaxFrames ends it.
func TestAssemblerFramesBounded(t *testing.T) {
	a := &Assembler{Dir: ServerToClient}
	f := &Frame{Dir: ServerToClient, Header: Header{Op: OpText, LenEnc: Len7}}
	if _, err := a.Add(f); err != nil {
		t.Fatal(err)
	}
	cont := &Frame{Dir: ServerToClient, Header: Header{Op: OpContinuation, LenEnc: Len7}}
	for i := 0; i < 2*maxListedFrames; i++ {
		cont.Seq = uint64(i + 2)
		a.Add(cont)
	}
	if allocs := testing.AllocsPerRun(1000, func() { cont.Seq++; a.Add(cont) }); allocs != 0 {
		t.Errorf("an empty continuation allocates %.1f times", allocs)
	}
	last := &Frame{Dir: ServerToClient, Header: Header{Fin: true, Op: OpContinuation, LenEnc: Len7, Length: 3}, Payload: []byte("end")}
	m, err := a.Add(last)
	if err != nil || m == nil || string(m.Payload) != "end" {
		t.Fatalf("message %+v, %v", m, err)
	}
	if len(m.Frames) != maxListedFrames || m.NumFrames() != 2*maxListedFrames+1001+2 { // AllocsPerRun runs once more
		t.Errorf("listed %d frames of %d", len(m.Frames), m.NumFrames())
	}

	a = &Assembler{Dir: ServerToClient, MaxFrames: 10}
	a.Add(f)
	var tooMany *TooManyFramesError
	for i := 0; i < 20; i++ {
		if _, err := a.Add(cont); err != nil {
			if !errors.As(err, &tooMany) || i != 9 {
				t.Fatalf("frame %d: %v", i+2, err)
			}
		}
	}
	if tooMany == nil {
		t.Fatal("no limit on the frames of a message")
	}
	if m, err := a.Add(server1(t, "next")); err != nil || m == nil || string(m.Payload) != "next" {
		t.Errorf("the next message: %+v %v", m, err)
	}
}

func server1(t *testing.T, text string) *Frame {
	t.Helper()
	var f Frame
	if err := NewDecoder(bytes.NewReader(server(true, OpText, text)), ServerToClient).Next(&f); err != nil {
		t.Fatal(err)
	}
	return &f
}
