package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Node's ws (e2e/node, pinned by its package-lock.json) is the peer closest
// to a browser: permessage-deflate on every message with context takeover
// both ways. .ci/run installs it (npm ci) and sets CI, where a missing
// install fails; elsewhere the tests skip and say how to install it.
func nodePeer(t *testing.T) string {
	t.Helper()
	script, _ := filepath.Abs("node/peer.js")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat("node/node_modules/ws")
	if errNode != nil || errMods != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Node's ws is not installed (node: %v, modules: %v): run npm ci --prefix e2e/node", errNode, errMods)
		}
		t.Skip("Node's ws is not installed: run npm ci --prefix e2e/node")
	}
	return script
}

// nodeServer starts `node peer.js server` and returns its URL and stdout.
func nodeServer(t *testing.T) (string, *lines) {
	t.Helper()
	port, out := startListeningPeer(t, step, "node", nodePeer(t), "server")
	return "ws://127.0.0.1:" + port + "/", out
}

// startListeningPeer starts a peer program that says `listening PORT`
// when it is ready, waits within for that line, and returns the port and
// the program's output. Cleanup closes its stdin and kills it.
func startListeningPeer(t *testing.T, within time.Duration, name string, args ...string) (string, *lines) {
	t.Helper()
	c := exec.Command(name, args...)
	stdin, _ := c.StdinPipe()
	out := newLines()
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		c.Process.Kill()
		c.Wait()
	})
	line := out.waitMatch(t, regexp.MustCompile(`^listening \d+$`), within)
	return strings.Fields(line)[1], out
}

// nodeClient runs `node peer.js client url msgs...` to its end.
func nodeClient(t *testing.T, url string, msgs ...string) string {
	t.Helper()
	return nodeClientEnv(t, nil, url, msgs...)
}

// nodeClientEnv is nodeClient with env added to the environment (PEER_CA,
// PEER_CERT, PEER_KEY: see peer.js).
func nodeClientEnv(t *testing.T, env []string, url string, msgs ...string) string {
	t.Helper()
	c := exec.Command("node", append([]string{nodePeer(t), "client", url}, msgs...)...)
	c.Env = append(os.Environ(), env...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = c.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * step):
		c.Process.Kill()
		<-done
	}
	if err != nil {
		t.Fatalf("node client: %v\n%s", err, out)
	}
	return string(out)
}

// compressible is long and repetitive, so that context takeover shows.
var compressible = strings.Repeat("the same words again and again, ", 30)

// checkTakeover checks a -o json session: three deflated messages in dir,
// inflated to want, the later ones smaller on the wire (context kept).
func checkTakeover(t *testing.T, evs []event, dir, want string) {
	t.Helper()
	ms := filter(evs, "msg", dir)
	if len(ms) != 3 {
		t.Fatalf("%s messages: %d, want 3", dir, len(ms))
	}
	for i, m := range ms {
		if m["deflated"] != true || m["text"] != want {
			t.Fatalf("%s message %d: %v", dir, i, m)
		}
	}
	if first, last := ms[0].num("wire_len"), ms[2].num("wire_len"); !(last < first) {
		t.Errorf("%s compressed sizes %d then %d: context takeover not seen", dir, first, last)
	}
}

// wscope connect --compress against Node's ws server: the messages go
// compressed both ways with context takeover, and come back intact.
func TestNodeServerConnectCompress(t *testing.T) {
	t.Parallel()
	url, srvOut := nodeServer(t)
	r := run(t, strings.Repeat(compressible+"\n", 3), "connect", url, "--compress", "-o", "json")
	r.expectCode(t, 0)
	evs := parseEvents(t, r.Stdout)
	checkTakeover(t, evs, "s2c", compressible)
	checkTakeover(t, evs, "c2s", compressible)
	srvOut.waitMatch(t, regexp.MustCompile(`^extensions permessage-deflate`), step)
	srvOut.waitMatch(t, regexp.MustCompile(`^closed 1000$`), step)
}

// Node's ws client against wscope listen --compress --echo.
func TestNodeClientListenCompress(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--compress", "--echo", "-o", "json")
	out := nodeClient(t, url+"/", compressible, compressible, compressible)
	if !strings.Contains(out, "extensions permessage-deflate") || strings.Count(out, "echo "+compressible) != 3 || !strings.Contains(out, "closed 1000") {
		t.Fatalf("node client:\n%s", out)
	}
	p.stdout.waitMatch(t, regexp.MustCompile(`"ev":"end"`), step)
	p.interrupt()
	p.wait(step)
	checkTakeover(t, parseEvents(t, p.stdout.String()), "c2s", compressible)
}

// Node's ws on both sides of wscope proxy: the extension is negotiated
// between them, the frames cross compressed, and wscope shows each message
// inflated in both directions.
func TestNodeThroughProxy(t *testing.T) {
	t.Parallel()
	url, srvOut := nodeServer(t)
	p, purl := proxyTo(t, url, "-o", "json", "--once")
	out := nodeClient(t, purl+"/", compressible, compressible, compressible)
	if strings.Count(out, "echo "+compressible) != 3 || !strings.Contains(out, "closed 1000") {
		t.Fatalf("node client:\n%s", out)
	}
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("proxy exit %d\n%s", code, p.stderr)
	}
	evs := parseEvents(t, p.stdout.String())
	checkTakeover(t, evs, "c2s", compressible)
	checkTakeover(t, evs, "s2c", compressible)
	// The offer reaches the server with its extensions and parameters
	// (gobwas/ws writes it without the optional space after ';').
	srvOut.waitMatch(t, regexp.MustCompile(`^extensions permessage-deflate; ?client_max_window_bits$`), step)
}

// A frame with RSV2 set makes Node's ws fail the connection with 1002.
// The connection's close code is the one received (RFC 6455 section
// 7.1.5), whichever close frame went first: exit 4 every time.
func TestNodeServerAnswersRSV2With1002(t *testing.T) {
	t.Parallel()
	url, _ := nodeServer(t)
	for _, stdin := range []string{
		`{"text":"hi","rsv2":true}` + "\n",
		`{"text":"hi","rsv2":true}` + "\n" + `{"sleep":0.5}` + "\n",
	} {
		r := run(t, stdin, "connect", url, "--stdin", "json")
		if r.Code != 4 || !strings.Contains(r.Stderr, "1002 Protocol Error") || !strings.Contains(r.Stderr, "by server") {
			t.Errorf("stdin %q: exit %d, stderr %q: want 4 and 1002 from the server", stdin, r.Code, r.Stderr)
		}
	}
}

// Node's ws.close() sends a close frame without a code: the handshake
// completes all the same, and 1005 from a completed handshake exits 0.
func TestNodeClientEmptyCloseIsClean(t *testing.T) {
	t.Parallel()
	p, url := listen(t, "--once", "-o", "json")
	c := exec.Command("node", nodePeer(t), "close-empty", url+"/")
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "closed 1005") {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if code := p.wait(step); code != 0 {
		t.Fatalf("listen --once exit %d, want 0\n%s", code, p.stderr)
	}
	if !regexp.MustCompile(`(?m)^\[1\] closed: 1005 No Status Received by client, clean$`).MatchString(p.stderr.String()) {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}
