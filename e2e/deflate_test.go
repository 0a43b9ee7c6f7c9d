package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// deflateText is long enough for coder/websocket to compress it (it leaves
// messages under 512 bytes alone); sent several times, the second copy
// compresses to less than the first when the sender keeps its context.
var deflateText = strings.Repeat("permessage-deflate with context takeover, said again. ", 12)

// checkDeflatedEvents checks the frame and msg events of direction dir:
// RSV1 set on the data frames, messages decompressed and marked deflated,
// and, with takeover, the second message smaller on the wire.
func checkDeflatedEvents(t *testing.T, evs []event, dir string, n int, takeover bool) {
	t.Helper()
	msgs := filter(evs, "msg", dir)
	if len(msgs) != n {
		t.Fatalf("%s: %d msg events, want %d", dir, len(msgs), n)
	}
	for i, m := range msgs {
		if m["deflated"] != true || m["text"] != deflateText || m.num("wire_len") == 0 || m.num("wire_len") >= len(deflateText) {
			t.Errorf("%s message %d: deflated=%v wire_len=%v text=%.40q", dir, i, m["deflated"], m["wire_len"], m["text"])
		}
	}
	if w0, w1 := msgs[0].num("wire_len"), msgs[1].num("wire_len"); takeover && w1 >= w0 {
		t.Errorf("%s: with context takeover the second message should be smaller on the wire: %d then %d", dir, w0, w1)
	} else if !takeover && w1 != w0 {
		t.Errorf("%s: without context takeover both should compress alike: %d then %d", dir, w0, w1)
	}
	for _, f := range filter(evs, "frame", dir) {
		if op := f["op"]; (op == "text" || op == "binary") && (f["rsv1"] != true || f.num("len") >= len(deflateText)) {
			t.Errorf("%s data frame without RSV1 or not compressed: %v", dir, f)
		}
	}
}

func TestConnectCompressCoderServer(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	in := strings.Repeat(deflateText+"\n", 3)
	r := run(t, in, "connect", srv.URL(), "--compress", "-v", "-o", "json", "-w", "1s")
	r.expectCode(t, 0)
	if !strings.Contains(r.Stderr, "* extension: permessage-deflate") {
		t.Errorf("-v does not show the negotiated extension:\n%s", r.Stderr)
	}
	evs := parseEvents(t, r.Stdout)
	open := filter(evs, "open", "")
	if len(open) != 1 || !strings.Contains(strings.Join(strings.Fields(toString(open[0]["extensions"])), " "), "permessage-deflate") {
		t.Errorf("open event extensions: %v", open)
	}
	checkDeflatedEvents(t, evs, "c2s", 3, true)
	checkDeflatedEvents(t, evs, "s2c", 3, true)
	for i, m := range srv.Received() {
		if string(m.Data) != deflateText {
			t.Errorf("server got message %d: %.40q", i, m.Data)
		}
	}
}

func toString(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + " ")
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return b.String()
}

func TestConnectCompressParameters(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	in := strings.Repeat(deflateText+"\n", 2)
	r := run(t, in, "connect", srv.URL(), "--compress-client-no-context-takeover", "--compress-server-no-context-takeover", "-v", "-o", "json", "-w", "1s")
	r.expectCode(t, 0)
	if !regexp.MustCompile(`\* extension: permessage-deflate.*server_no_context_takeover`).MatchString(r.Stderr) {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
	if req := srv.Requests()[0].Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(req, "client_no_context_takeover") || !strings.Contains(req, "server_no_context_takeover") {
		t.Errorf("offer %q", req)
	}
	evs := parseEvents(t, r.Stdout)
	checkDeflatedEvents(t, evs, "c2s", 2, false)
	checkDeflatedEvents(t, evs, "s2c", 2, false)
}

func TestConnectCompressRefusesBadWindow(t *testing.T) {
	t.Parallel()
	r := run(t, "", "connect", "ws://127.0.0.1:1/", "--compress-client-max-window-bits", "7")
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, "client_max_window_bits=7: must be between 8 and 15") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestListenCompressGorillaClient(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--compress", "--echo", "-o", "json")
	cl := tp.Dial(t, url, tp.ClientOptions{Compression: true})
	if h := cl.Response().Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(h, "permessage-deflate") {
		t.Fatalf("response extension %q", h)
	}
	for i := 0; i < 3; i++ {
		if err := cl.Send(tp.TextMsg(deflateText)); err != nil {
			t.Fatal(err)
		}
		m, err := cl.Read(step)
		if err != nil || string(m.Data) != deflateText {
			t.Fatalf("echo %d: %.40q %v", i, m.Data, err)
		}
	}
	cl.Close(1000, "")
	p.stdout.waitMatch(t, regexp.MustCompile(`"ev":"end"`), step)
	p.interrupt()
	p.wait(step)
	evs := parseEvents(t, p.stdout.String())
	// gorilla offers no context takeover either way.
	checkDeflatedEvents(t, evs, "c2s", 3, false)
	checkDeflatedEvents(t, evs, "s2c", 3, false)
}

func TestListenCompressBrowserOffer(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--compress", "-o", "json")
	rc := tp.DialRaw(t, url+"/", tp.RawDialOptions{Headers: []tp.HeaderField{tp.H("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")}})
	if resp := rc.Response(); resp.Status != 101 || resp.Get("Sec-WebSocket-Extensions") != "permessage-deflate" {
		t.Fatalf("response %d %q", resp.Status, resp.Get("Sec-WebSocket-Extensions"))
	}
	d := inspect.Deflater{Takeover: true}
	for i := 0; i < 2; i++ {
		z, _ := d.Deflate([]byte(deflateText))
		f := tp.ClientFrame(inspect.OpText, z)
		f.Rsv = inspect.Rsv1
		if err := rc.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	p.stdout.waitCount(t, regexp.MustCompile(`"ev":"msg"`), 2, step)
	checkDeflatedEvents(t, parseEvents(t, p.stdout.String()), "c2s", 2, true)
	rc.CloseTCP()
}

func TestConnectCompressBadAnswers(t *testing.T) {
	t.Parallel()
	for answer, want := range map[string]string{
		"permessage-deflate; client_max_window_bits": "client_max_window_bits needs a value",
		"permessage-deflate; x_unknown=1":            "unknown parameter x_unknown",
		"x-webkit-deflate-frame":                     "did not offer",
	} {
		srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
			rc.Accept(tp.H("Sec-WebSocket-Extensions", answer))
			rc.WaitEOF(step)
		})
		r := run(t, "", "connect", srv.URL(), "--compress")
		r.expectCode(t, 3)
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("answer %q: stderr %q, want %q", answer, r.Stderr, want)
		}
	}
}

// deflateServer accepts permessage-deflate, sends f, and reports the code
// of the close frame the client answers with.
func deflateServer(t *testing.T, f tp.FrameSpec) (*tp.RawServer, <-chan tp.CloseInfo) {
	got := make(chan tp.CloseInfo, 1)
	srv := tp.NewRawServer(t, func(rc *tp.RawConn) {
		rc.Accept(tp.H("Sec-WebSocket-Extensions", "permessage-deflate"))
		rc.WriteFrame(f)
		for {
			fr, err := rc.ReadFrame(step)
			if err != nil {
				return
			}
			if ci, ok := fr.Close(); ok {
				got <- ci
				rc.WriteFrame(tp.ServerFrame(inspect.OpClose, tp.ClosePayload(ci.Code, "")))
				return
			}
		}
	})
	return srv, got
}

func TestConnectCompressInvalidDataCloses1007(t *testing.T) {
	t.Parallel()
	f := tp.ServerFrame(inspect.OpText, []byte{0xff, 0xff, 0xff, 0xff})
	f.Rsv = inspect.Rsv1
	srv, got := deflateServer(t, f)
	r := run(t, "", "connect", srv.URL(), "--compress", "-o", "json", "-w", "5s")
	if ci := <-got; ci.Code != 1007 || !strings.Contains(ci.Reason, "decompress") {
		t.Errorf("close %v", ci)
	}
	if !strings.Contains(r.Stderr, "1007") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestConnectCompressZipBombCloses1009(t *testing.T) {
	t.Parallel()
	z, _ := (&inspect.Deflater{}).Deflate(make([]byte, 16<<20))
	f := tp.ServerFrame(inspect.OpBinary, z)
	f.Rsv = inspect.Rsv1
	srv, got := deflateServer(t, f)
	r := run(t, "", "connect", srv.URL(), "--compress", "--max-message-size", "1MiB", "-o", "json", "-w", "5s")
	if ci := <-got; ci.Code != 1009 {
		t.Errorf("close %v (%d compressed bytes)", ci, len(z))
	}
	if !strings.Contains(r.Stderr, "1009") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestConnectCompressFramesOutput(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Compression: true, Echo: true})
	r := run(t, deflateText+"\n", "connect", srv.URL(), "--compress", "-o", "frames", "-w", "1s")
	r.expectCode(t, 0)
	// Frames show RSV1 and the compressed length; the deflated messages
	// follow with the decompressed length, the wire size and the ratio.
	for _, re := range []string{
		`c2s text +F1-- M \w+ len=\d+ `,
		`s2c text +F1-- - -+ len=\d+ `,
		`c2s msg +text +frames=1 len=` + fmt.Sprint(len(deflateText)) + ` wire=\d+ ratio=0\.\d\d permessage-deflate`,
		`s2c msg +text +frames=1 len=` + fmt.Sprint(len(deflateText)) + ` wire=\d+ ratio=0\.\d\d permessage-deflate`,
	} {
		if !regexp.MustCompile(re).MatchString(r.Stdout) {
			t.Errorf("no line matching %s in:\n%s", re, r.Stdout)
		}
	}
}
