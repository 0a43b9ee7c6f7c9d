package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python's websockets (Debian's python3-websockets, run with
// /usr/bin/python3, not whatever python3 is first on PATH) is the asyncio
// peer: its default server bounds both windows to 12 bits. .ci/run
// installs it and sets CI, where a missing install fails; elsewhere the
// tests skip and say how to install it.
const python = "/usr/bin/python3"

var pythonCheck struct {
	once sync.Once
	err  error
}

func pythonPeer(t *testing.T) string {
	t.Helper()
	pythonCheck.once.Do(func() {
		out, err := exec.Command(python, "-c", "import websockets").CombinedOutput()
		if err != nil {
			pythonCheck.err = fmt.Errorf("%v %s", err, strings.TrimSpace(string(out)))
		}
	})
	if err := pythonCheck.err; err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Python's websockets is not installed (%s: %v): apt-get install python3-websockets", python, err)
		}
		t.Skip("Python's websockets is not installed: apt-get install python3-websockets")
	}
	script, _ := filepath.Abs("python/peer.py")
	return script
}

// pyServer starts `peer.py server DEFLATE` and returns its URL and output.
func pyServer(t *testing.T, deflate string) (string, *lines) {
	t.Helper()
	port, out := startListeningPeer(t, 2*step, python, pythonPeer(t), "server", deflate)
	return "ws://127.0.0.1:" + port + "/", out
}

// pyClient runs `peer.py client URL DEFLATE msgs...` to its end.
func pyClient(t *testing.T, url, deflate string, msgs ...string) string {
	t.Helper()
	c := exec.Command(python, append([]string{pythonPeer(t), "client", url, deflate}, msgs...)...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = c.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * step):
		c.Process.Kill()
		<-done
	}
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	return string(out)
}

// digest is how peer.py names a message: its length and the start of its
// SHA-256.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%d %s", len(s), hex.EncodeToString(sum[:])[:16])
}

// extHeader normalises a Sec-WebSocket-Extensions value: gobwas/ws writes
// no space after ';', websockets does.
func extHeader(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, ";", "; ")), " ")
}

// offerAnswer returns the offer and the answer a peer.py run printed.
func offerAnswer(t *testing.T, out string) (offer, answer string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "offer"); ok {
			offer = extHeader(v)
		}
		if v, ok := strings.CutPrefix(line, "answer"); ok {
			answer = extHeader(v)
		}
	}
	return offer, answer
}

// windowText repeats itself 2,500 bytes back, farther than the smaller
// windows reach and within the 12-bit default of websockets; sent three
// times, each copy is 5,000 bytes after the last, beyond even that
// window: a windowed encoder may refer to neither, and websockets' zlib,
// given the agreed window, says "invalid distance too far back" when one
// reaches past the text it still has.
var windowText = func() string {
	words := []string{"frame", "mask", "deflate", "window", "opcode", "close", "ping", "pong", "text", "binary", "rsv1", "fin"}
	var b strings.Builder
	x := uint32(7)
	for b.Len() < 2500 {
		x = x*1664525 + 1013904223
		b.WriteString(words[x>>28%uint32(len(words))])
		b.WriteByte(" ,.;"[x>>8&3])
	}
	half := b.String()[:2500]
	return half + half
}()

// connectPiped runs wscope connect with args, writes msgs on its stdin,
// waits for n server messages on its -o json stdout, then closes stdin and
// waits for it to exit (stdin stays open until the replies are in).
func connectPiped(t *testing.T, url string, n int, msgs []string, args ...string) (int, []event, string) {
	t.Helper()
	p := start(t, append([]string{"connect", url, "-o", "json"}, args...)...)
	for _, m := range msgs {
		fmt.Fprintln(p.stdin, m)
	}
	if n > 0 {
		p.stdout.waitCount(t, regexp.MustCompile(`"ev":"msg".*"dir":"s2c"`), n, 2*step)
	}
	p.stdin.Close()
	code := p.wait(2 * step)
	return code, parseEvents(t, p.stdout.String()), p.stderr.String()
}

// checkMessages checks the msg events of dir: want, in order, deflated or
// not, and the data frames' RSV1 to match.
func checkMessages(t *testing.T, evs []event, dir string, deflated bool, want ...string) {
	t.Helper()
	ms := filter(evs, "msg", dir)
	if len(ms) != len(want) {
		t.Fatalf("%s: %d messages, want %d", dir, len(ms), len(want))
	}
	for i, m := range ms {
		if m["text"] != want[i] || m["deflated"] != deflated {
			t.Errorf("%s message %d: deflated=%v wire_len=%v text=%.40q, want deflated=%v %.40q", dir, i, m["deflated"], m["wire_len"], m["text"], deflated, want[i])
		}
		if deflated && m.num("wire_len") >= len(want[i]) && len(want[i]) > 100 {
			t.Errorf("%s message %d: %d bytes on the wire for %d", dir, i, m.num("wire_len"), len(want[i]))
		}
	}
	for _, f := range filter(evs, "frame", dir) {
		if op := f["op"]; (op == "text" || op == "binary") && f["rsv1"] != deflated {
			t.Errorf("%s frame %d: rsv1=%v, want %v", dir, f.num("seq"), f["rsv1"], deflated)
		}
	}
}

// waitRecv waits until the python server has printed a recv line for each
// of msgs: it received them intact (inflated, when compressed).
func waitRecv(t *testing.T, out *lines, msgs ...string) {
	t.Helper()
	counts := map[string]int{}
	for _, m := range msgs {
		counts[digest(m)]++
	}
	for d, n := range counts {
		out.waitCount(t, regexp.MustCompile("^recv "+regexp.QuoteMeta(d)+"$"), n, step)
	}
}

// checkWindow inflates the deflated messages of dir as they crossed the
// wire with Python's zlib and exactly the agreed window (2^bits bytes,
// python/inflate.py): a back-reference beyond it fails. websockets itself
// would let one through when it reaches no farther than the same frame.
func checkWindow(t *testing.T, evs []event, dir string, bits int, takeover bool) {
	t.Helper()
	bySeq := map[int]event{}
	for _, f := range filter(evs, "frame", dir) {
		bySeq[f.num("seq")] = f
	}
	type msg struct {
		Z    string `json:"z"`
		Want string `json:"want"`
	}
	var msgs []msg
	for _, m := range filter(evs, "msg", dir) {
		seqs, _ := m["frames"].([]any)
		var z []byte
		for _, seq := range seqs {
			f := bySeq[int(seq.(float64))]
			if s, ok := f["text"].(string); ok {
				z = append(z, s...)
			} else {
				b, _ := base64.StdEncoding.DecodeString(f["b64"].(string))
				z = append(z, b...)
			}
		}
		msgs = append(msgs, msg{base64.StdEncoding.EncodeToString(z), base64.StdEncoding.EncodeToString([]byte(m["text"].(string)))})
	}
	in, _ := json.Marshal(map[string]any{"name": dir, "bits": bits, "takeover": takeover, "msgs": msgs})
	script, _ := filepath.Abs("python/inflate.py")
	pythonPeer(t)
	c := exec.Command(python, script)
	c.Stdin = bytes.NewReader(in)
	out, err := c.CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != dir+" ok" {
		t.Errorf("%s inflated with a %d-bit window: %v %s", dir, bits, err, got)
	}
}

// wscope connect, uncompressed, to websockets: messages both ways.
func TestPythonServerConnectPlain(t *testing.T) {
	t.Parallel()
	url, srv := pyServer(t, "off")
	msgs := []string{"hello", "wörld", windowText}
	code, evs, stderr := connectPiped(t, url, 3, msgs)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	checkMessages(t, evs, "c2s", false, msgs...)
	checkMessages(t, evs, "s2c", false, msgs...)
	waitRecv(t, srv, msgs...)
	srv.waitMatch(t, regexp.MustCompile(`^closed 1000$`), step)
}

// wscope connect --compress to websockets, with its default answer (both
// windows 12 bits) and with the server configured otherwise: wscope
// compresses within the client's window it is given and inflates the
// server's, websockets inflates what wscope sent, messages intact at both
// ends, RSV1 on every data frame.
func TestPythonServerConnectCompress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, server string
		args         []string
		offer        string
		answer       string
		c2s, s2c     int // the windows agreed, in bits
		takeover     bool
	}{
		{"default", "default", []string{"--compress"},
			"permessage-deflate; client_max_window_bits",
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", 12, 12, true},
		{"client window 9", `{"client_max_window_bits": 9}`, []string{"--compress"},
			"permessage-deflate; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=9", 9, 15, true},
		{"server window 10", `{"server_max_window_bits": 10}`, []string{"--compress"},
			"permessage-deflate; client_max_window_bits",
			"permessage-deflate; server_max_window_bits=10", 15, 10, true},
		{"client window 8, no context takeover", `{"server_no_context_takeover": true, "client_no_context_takeover": true, "client_max_window_bits": 8}`, []string{"--compress"},
			"permessage-deflate; client_max_window_bits",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=8", 8, 15, false},
		{"windows asked by wscope", "{}", []string{"--compress-server-max-window-bits", "9", "--compress-client-max-window-bits", "10"},
			"permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=9; client_max_window_bits=10", 10, 9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, srv := pyServer(t, tc.server)
			msgs := []string{windowText, windowText, windowText, "short"}
			code, evs, stderr := connectPiped(t, url, len(msgs), msgs, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\nserver:\n%s", code, stderr, srv)
			}
			waitRecv(t, srv, msgs...)
			if offer, answer := offerAnswer(t, srv.String()); offer != tc.offer || answer != tc.answer {
				t.Errorf("offer %q, answer %q; want %q, %q", offer, answer, tc.offer, tc.answer)
			}
			checkMessages(t, evs, "c2s", true, msgs...)
			checkMessages(t, evs, "s2c", true, msgs...)
			checkWindow(t, evs, "c2s", tc.c2s, tc.takeover)
			checkWindow(t, evs, "s2c", tc.s2c, tc.takeover)
			srv.waitMatch(t, regexp.MustCompile(`^closed 1000$`), step)
		})
	}
}

// websockets sends a reply as fragments (an async iterator): wscope
// reassembles and inflates it, RSV1 on the first frame only.
func TestPythonServerFragments(t *testing.T) {
	t.Parallel()
	url, _ := pyServer(t, "default")
	code, evs, stderr := connectPiped(t, url, 1, []string{"fragments alpha beta gamma"}, "--compress")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	ms := filter(evs, "msg", "s2c")
	if len(ms) != 1 || ms[0]["text"] != "alphabetagamma" || ms[0]["deflated"] != true {
		t.Fatalf("messages %v", ms)
	}
	seqs, _ := ms[0]["frames"].([]any)
	bySeq := map[int]event{}
	for _, f := range filter(evs, "frame", "s2c") {
		bySeq[f.num("seq")] = f
	}
	if len(seqs) < 3 {
		t.Fatalf("the message came in %d frames: %v", len(seqs), ms[0])
	}
	for i, seq := range seqs {
		f := bySeq[int(seq.(float64))]
		first, last := i == 0, i == len(seqs)-1
		if wantOp := map[bool]string{true: "text", false: "cont"}[first]; f["op"] != wantOp || f["rsv1"] != first || f["fin"] != last {
			t.Errorf("fragment %d: op=%v rsv1=%v fin=%v", i, f["op"], f["rsv1"], f["fin"])
		}
	}
}

// websockets pings: wscope answers with a pong, which the server sees;
// -o frames shows both, and RSV1 on the compressed text frames.
func TestPythonServerPing(t *testing.T) {
	t.Parallel()
	url, srv := pyServer(t, "default")
	p := start(t, "connect", url, "--compress", "-o", "frames")
	fmt.Fprintln(p.stdin, "ping")
	p.stdout.waitMatch(t, regexp.MustCompile(`s2c msg .* pinged$`), step)
	srv.waitMatch(t, regexp.MustCompile(`^pong$`), step)
	p.stdin.Close()
	if code := p.wait(step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	out := p.stdout.String()
	for _, re := range []string{`s2c ping +F--- - .* from python`, `c2s pong +F--- M .* from python`, `c2s text +F1-- M `, `s2c text +F1-- - `} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no frame line matching %q in:\n%s", re, out)
		}
	}
}

// The server's close code decides wscope's exit: 1000 is 0, 4000 is 4
// with the code printed.
func TestPythonServerCloseCodes(t *testing.T) {
	t.Parallel()
	url, _ := pyServer(t, "default")
	for _, tc := range []struct {
		cmd    string
		code   int
		stderr string
	}{
		{"close 1000 bye", 0, ""},
		{"close 4000 custom reason", 4, `4000 Private Use "custom reason" by server`},
	} {
		p := start(t, "connect", url, "--compress")
		fmt.Fprintln(p.stdin, tc.cmd)
		if code := p.wait(2 * step); code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.cmd, code, tc.code, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), tc.stderr) {
			t.Errorf("%s: stderr %q, want %q", tc.cmd, p.stderr, tc.stderr)
		}
	}
}

// websockets as a client of wscope listen --echo --compress, with the
// default window and with windows wscope sets: the client gets its
// messages back inflated, wscope shows them deflated both ways.
func TestPythonClientListenCompress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, client string
		args         []string
		answer       string
		c2s, s2c     int // the windows agreed, in bits
	}{
		{"default", "default", nil, "permessage-deflate", 15, 15},
		{"server window 9", "default", []string{"--compress-server-max-window-bits", "9"}, "permessage-deflate; server_max_window_bits=9", 15, 9},
		{"client window 10", "default", []string{"--compress-client-max-window-bits", "10"}, "permessage-deflate; client_max_window_bits=10", 10, 15},
		{"client asks server window 10", `{"server_max_window_bits": 10}`, nil, "permessage-deflate; server_max_window_bits=10", 15, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, url := listen(t, append([]string{"--echo", "--compress", "-o", "json"}, tc.args...)...)
			msgs := []string{windowText, windowText, windowText}
			out := pyClient(t, url+"/", tc.client, msgs...)
			if _, answer := offerAnswer(t, out); answer != tc.answer {
				t.Errorf("answer %q, want %q", answer, tc.answer)
			}
			if strings.Count(out, "echo "+digest(windowText)) != 3 || !strings.Contains(out, "closed 1000") {
				t.Fatalf("python client:\n%s", out)
			}
			p.stdout.waitMatch(t, regexp.MustCompile(`"ev":"end"`), step)
			p.interrupt()
			p.wait(step)
			evs := parseEvents(t, p.stdout.String())
			checkMessages(t, evs, "c2s", true, msgs...)
			checkMessages(t, evs, "s2c", true, msgs...)
			checkWindow(t, evs, "c2s", tc.c2s, true)
			checkWindow(t, evs, "s2c", tc.s2c, true)
		})
	}
}

// websockets on both sides of wscope proxy: the extension is negotiated
// between them (windows of 12 bits), the frames cross compressed, and
// wscope shows each message inflated both ways.
func TestPythonThroughProxy(t *testing.T) {
	t.Parallel()
	url, srv := pyServer(t, "default")
	p, purl := proxyTo(t, url, "-o", "json", "--once")
	msgs := []string{windowText, windowText, "short"}
	out := pyClient(t, purl+"/", "default", msgs...)
	for _, m := range msgs {
		if !strings.Contains(out, "echo "+digest(m)) {
			t.Errorf("no echo of %s:\n%s", digest(m), out)
		}
	}
	if !strings.Contains(out, "closed 1000") {
		t.Errorf("python client:\n%s", out)
	}
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("proxy exit %d\n%s", code, p.stderr)
	}
	waitRecv(t, srv, msgs...)
	const answer = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
	if offer, got := offerAnswer(t, srv.String()); offer != "permessage-deflate; client_max_window_bits" || got != answer {
		t.Errorf("server saw offer %q, answered %q", offer, got)
	}
	if _, got := offerAnswer(t, out); got != answer {
		t.Errorf("client got answer %q, want %q", got, answer)
	}
	evs := parseEvents(t, p.stdout.String())
	checkMessages(t, evs, "c2s", true, msgs...)
	checkMessages(t, evs, "s2c", true, msgs...)
	checkWindow(t, evs, "c2s", 12, true)
	checkWindow(t, evs, "s2c", 12, true)
}
