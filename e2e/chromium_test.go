package e2e

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// browserText is long, repetitive and not ASCII, so that deflate and its
// context takeover show and UTF-8 is carried intact.
var browserText = strings.Repeat("héllo from the browser, wörld ✓ — ", 24)

// pseudoRandom is n bytes that do not compress, the same in every run.
func pseudoRandom(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// browserMessages are what a page sends in the echo sessions: the long
// text twice (the second copy compresses to less with context takeover),
// a short text, a compressible binary message, and an incompressible one
// twice (with context takeover the second copy is a few bytes on the
// wire, a reference 3000 bytes back into the first).
func browserMessages() []pageMessage {
	block := pseudoRandom(3000, 1)
	return []pageMessage{
		textMsg(browserText),
		textMsg(browserText),
		textMsg("hi"),
		binaryMsg(bytes.Repeat([]byte{0, 1, 2, 3, 0xfe, 0xff}, 2000)),
		binaryMsg(block),
		binaryMsg(block),
	}
}

// takeover is what a compressor's context takeover should show.
type takeover int

const (
	contextKept  takeover = iota // a message repeated compresses to less
	contextReset                 // a message repeated compresses alike
	contextAny                   // either: not checked
)

// checkBrowserSide checks one direction of a -o json session with the page:
// every message there, deflated, with the payload the page sent; a message
// sent twice in a row smaller on the wire the second time with context
// takeover, the same size without; frames masked exactly when they come
// from the client, RSV1 on the first frame of each, and no frame breaking
// a rule.
func checkBrowserSide(t *testing.T, evs []event, dir string, msgs []pageMessage, ctx takeover) {
	t.Helper()
	ms := filter(evs, "msg", dir)
	if len(ms) != len(msgs) {
		t.Fatalf("%s: %d messages, want %d", dir, len(ms), len(msgs))
	}
	for i, m := range ms {
		want := msgs[i]
		wantOp := "text"
		if want.Binary != nil {
			wantOp = "binary"
		}
		if got := payload(t, m); m["op"] != wantOp || got != string(want.payload()) {
			t.Errorf("%s message %d: %v of %d bytes, want %s", dir, i+1, m["op"], len(got), want)
		}
		if m["deflated"] != true {
			t.Errorf("%s message %d (%s) not deflated", dir, i+1, want)
		}
	}
	for i := 1; i < len(msgs); i++ {
		if !bytes.Equal(msgs[i-1].payload(), msgs[i].payload()) {
			continue
		}
		w0, w1 := ms[i-1].num("wire_len"), ms[i].num("wire_len")
		if ctx == contextKept && w1 >= w0 {
			t.Errorf("%s: message %d repeated took %d then %d bytes on the wire: context takeover not seen", dir, i, w0, w1)
		} else if ctx == contextReset && w1 != w0 {
			t.Errorf("%s: without context takeover message %d repeated should compress alike: %d then %d bytes", dir, i, w0, w1)
		}
	}
	for _, f := range filter(evs, "frame", dir) {
		if f["masked"] != (dir == "c2s") {
			t.Errorf("%s frame %d: masked=%v", dir, f.num("seq"), f["masked"])
		}
		// Among the rules: RSV1 only on the first frame of a message.
		if v := f.rules(); len(v) > 0 {
			t.Errorf("%s frame %d breaks %v", dir, f.num("seq"), v)
		}
		// RFC 7692 6: a compressed message has RSV1 on its first frame.
		if op := f["op"]; (op == "text" || op == "binary") && f["rsv1"] != true {
			t.Errorf("%s %s frame %d without RSV1", dir, op, f.num("seq"))
		}
	}
}

// checkEnd checks the session's end event: the client closed with code
// (and, for 1000, cleanly).
func checkEnd(t *testing.T, evs []event, code int, reason string) {
	t.Helper()
	end := filter(evs, "end", "")
	if len(end) != 1 {
		t.Fatalf("%d end events, want 1", len(end))
	}
	e := end[0]
	if e["closer"] != "client" || e.num("code") != code || e["reason"] != reason || e["clean"] != true {
		t.Errorf("end event %v, want the client's close %d %q", e, code, reason)
	}
}

// Chromium as a client of `wscope listen --echo`, once per way of
// answering the browser's own offer (permessage-deflate;
// client_max_window_bits): its messages arrive compressed and masked and go
// back compressed, the page gets every echo intact, and the close with 1000
// ends the session cleanly. One browser serves every case in turn.
func TestChromiumClientListenCompress(t *testing.T) {
	t.Parallel()
	b := startChromium(t)
	for _, c := range []struct {
		name     string
		flags    []string
		answer   string // wscope's Sec-WebSocket-Extensions
		c2s, s2c takeover
	}{
		{"plain answer", []string{"--compress"}, "permessage-deflate", contextKept, contextKept},
		// Every parameter a server can put in its answer to this offer: a
		// small window for the browser's compressor, no context kept.
		{"client window and no context takeover", []string{"--compress-client-max-window-bits", "10", "--compress-client-no-context-takeover", "--compress-server-no-context-takeover"},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10", contextReset, contextReset},
		// A window for wscope's own compressor, which RFC 7692 7.1.2.1 lets
		// a server choose though the offer did not ask: Chromium takes the
		// answer and the messages cross. (Chromium inflates with a 32 KiB
		// window whatever the answer says, so it cannot tell whether wscope
		// keeps within 1 KiB; a peer that inflates with the negotiated
		// window can.)
		// Whether wscope keeps its context within such a window is its own
		// choice: a compressor that needs no window keeps none.
		{"server window 10", []string{"--compress-server-max-window-bits", "10"},
			"permessage-deflate; server_max_window_bits=10", contextKept, contextAny},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, url := listen(t, append([]string{"--echo", "-o", "json"}, c.flags...)...)
			msgs := browserMessages()
			rep := b.session(t, pagePlan{URL: url + "/chat", Messages: msgs, Close: pageClose{Code: 1000, Reason: "done"}})
			rep.checkEchoes(t, msgs)
			// wscope answers the close with the code alone (RFC 6455 5.5.1
			// leaves the reason to each side): that is what the page sees.
			if rep.Close == nil || rep.Close.Code != 1000 || !rep.Close.Clean {
				t.Errorf("page's close event %+v, want 1000, clean", rep.Close)
			}

			p.stdout.waitMatch(t, regexp.MustCompile(`"ev":"end"`), step)
			p.interrupt()
			p.wait(step)
			evs := parseEvents(t, p.stdout.String())
			open := filter(evs, "open", "")
			if len(open) != 1 {
				t.Fatalf("%d open events, want 1", len(open))
			}
			offer := headerMap(open[0]["request"].(map[string]any))["Sec-WebSocket-Extensions"]
			answer := headerMap(open[0]["response"].(map[string]any))["Sec-WebSocket-Extensions"]
			if !regexp.MustCompile(`^permessage-deflate; ?client_max_window_bits$`).MatchString(offer) {
				t.Errorf("Chromium's offer %q: not the browser offer this test is about", offer)
			}
			if extParams(answer) != extParams(c.answer) || rep.Extensions != answer {
				t.Errorf("wscope answered %q, want %q; the page's ws.extensions is %q", answer, c.answer, rep.Extensions)
			}
			if exts, _ := open[0]["extensions"].([]any); len(exts) != 1 || exts[0].(map[string]any)["name"] != "permessage-deflate" {
				t.Errorf("open event extensions %v", open[0]["extensions"])
			}
			checkBrowserSide(t, evs, "c2s", msgs, c.c2s)
			checkBrowserSide(t, evs, "s2c", msgs, c.s2c)
			checkEnd(t, evs, 1000, "done")
		})
	}
}

// extParams is an extension header's value with its parameters sorted, to
// compare answers whatever order their parameters come in.
func extParams(h string) string {
	ps := strings.Split(h, ";")
	for i := range ps {
		ps[i] = strings.TrimSpace(ps[i])
	}
	slices.Sort(ps[1:])
	return strings.Join(ps, "; ")
}

// ofConn returns the events of connection n.
func ofConn(evs []event, n int) []event {
	var out []event
	for _, e := range evs {
		if e.num("conn") == n {
			out = append(out, e)
		}
	}
	return out
}

// Chromium through `wscope proxy` to Node's ws with deflate: the browser's
// offer reaches Node as it was sent, Node's answer reaches the browser,
// and the proxy shows both directions inflated. Then, on a second
// connection, a 1 MiB message and replies Node sends in four fragments,
// and a close code of the browser's own that crosses to Node and back.
func TestChromiumThroughProxyToNode(t *testing.T) {
	t.Parallel()
	b := startChromium(t)
	upstream, srvOut := nodeServer(t) // which gives up after 30 s
	p, purl := proxyTo(t, strings.TrimSuffix(upstream, "/"), "-o", "json")

	msgs := browserMessages()
	rep := b.session(t, pagePlan{URL: purl + "/", Messages: msgs, Close: pageClose{Code: 1000, Reason: "done"}})
	rep.checkEchoes(t, msgs)
	if rep.Close == nil || rep.Close.Code != 1000 || rep.Close.Reason != "done" || !rep.Close.Clean {
		t.Errorf("page's close event %+v, want Node's echo of 1000 \"done\", clean", rep.Close)
	}
	srvOut.waitMatch(t, regexp.MustCompile(`^closed 1000$`), step)
	srvOut.waitMatch(t, regexp.MustCompile(`^close reason done$`), step)
	// The offer reaches Node with its parameter (gobwas/ws writes it
	// without the optional space after ';').
	srvOut.waitMatch(t, regexp.MustCompile(`^extensions permessage-deflate; ?client_max_window_bits$`), step)

	big := []pageMessage{binaryMsg(pseudoRandom(1<<20, 2)), textMsg(browserText)}
	rep2 := b.session(t, pagePlan{URL: purl + "/fragments/4", Messages: big, Close: pageClose{Code: 4000, Reason: "the browser's own code"}})
	rep2.checkEchoes(t, big)
	if rep2.Close == nil || rep2.Close.Code != 4000 || rep2.Close.Reason != "the browser's own code" {
		t.Errorf("page's close event %+v, want Node's echo of 4000", rep2.Close)
	}
	srvOut.waitMatch(t, regexp.MustCompile(`^closed 4000$`), step)

	p.stdout.waitCount(t, regexp.MustCompile(`"ev":"end"`), 2, step)
	p.interrupt()
	p.wait(step)
	evs := parseEvents(t, p.stdout.String())
	first, second := ofConn(evs, 1), ofConn(evs, 2)
	for i, conn := range []struct {
		evs []event
		rep pageReport
	}{{first, rep}, {second, rep2}} {
		open := filter(conn.evs, "open", "")
		if len(open) != 1 {
			t.Fatalf("connection %d: %d open events, want 1", i+1, len(open))
		}
		answer := headerMap(open[0]["response"].(map[string]any))["Sec-WebSocket-Extensions"]
		if !strings.HasPrefix(answer, "permessage-deflate") || conn.rep.Extensions != answer {
			t.Errorf("connection %d: Node answered %q; the page's ws.extensions is %q", i+1, answer, conn.rep.Extensions)
		}
	}
	checkBrowserSide(t, first, "c2s", msgs, contextKept)
	checkBrowserSide(t, first, "s2c", msgs, contextKept)
	checkEnd(t, first, 1000, "done")

	checkBrowserSide(t, second, "c2s", big, contextKept)
	checkBrowserSide(t, second, "s2c", big, contextKept)
	for i, m := range filter(second, "msg", "s2c") {
		if n := len(m["frames"].([]any)); n != 4 {
			t.Errorf("Node's echo %d in %d frames, want 4", i+1, n)
		}
	}
	checkEnd(t, second, 4000, "the browser's own code")
}
