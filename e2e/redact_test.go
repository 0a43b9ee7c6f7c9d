package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// The secrets of these tests: each must reach the server and stay out of
// the recording.
const (
	secretQuery  = "q-s3cret-1"
	secretKey    = "k-s3cret-2"
	secretTenant = "t-s3cret-3"
	secretBearer = "YmVhcmVyLXMzY3JldC00" // base64url, as kubectl sends it
)

var bearerOffer = inspect.BearerSubprotocol + secretBearer

// checkRedacted reads a recording (a file or -o json) and checks that no
// secret is in it, that the redacted places say so, and that the header
// line lists the rules, --redact X-Tenant included.
func checkRedacted(t *testing.T, what, rec string) {
	t.Helper()
	for _, s := range []string{secretQuery, secretKey, secretTenant, secretBearer} {
		if i := strings.Index(rec, s); i >= 0 {
			t.Errorf("%s: secret %q recorded at byte %d of %d: %.200s", what, s, i, len(rec), rec[max(0, i-100):])
		}
	}
	header, _, _ := strings.Cut(rec, "\n")
	for _, want := range []string{`"X-Api-Key"`, `"X-Tenant"`, `"?X-Tenant"`, `"?token"`, `"` + inspect.BearerSubprotocol + `*"`} {
		if !strings.Contains(header, want) {
			t.Errorf("%s: header line does not list %s: %.300s", what, want, header)
		}
	}
	open := filter(parseEvents(t, rec), "open", "")
	if len(open) != 1 {
		t.Fatalf("%s: %d open events", what, len(open))
	}
	o := open[0]
	red := inspect.BearerSubprotocol + inspect.Redacted
	if url, _ := o["url"].(string); !strings.HasSuffix(url, "?room=1&token=[redacted]") {
		t.Errorf("%s: url %q", what, url)
	}
	if o["subprotocol"] != red {
		t.Errorf("%s: subprotocol %q, want %q", what, o["subprotocol"], red)
	}
	req, _ := o["request"].(map[string]any)
	if target, _ := req["target"].(string); !strings.HasSuffix(target, "?room=1&token=[redacted]") {
		t.Errorf("%s: target %q", what, target)
	}
	headers := map[string]string{}
	for _, h := range req["headers"].([]any) {
		pair := h.([]any)
		headers[strings.ToLower(pair[0].(string))] = pair[1].(string)
	}
	if headers["x-api-key"] != inspect.Redacted || headers["x-tenant"] != inspect.Redacted || headers["x-plain"] != "plain" ||
		!strings.HasPrefix(headers["sec-websocket-protocol"], red) || !strings.Contains(headers["sec-websocket-protocol"], "v4.channel.k8s.io") {
		t.Errorf("%s: request headers %v", what, headers)
	}
}

// connect to Node's ws with a token in the query, an API key header, a
// header named by --redact and the Kubernetes bearer subprotocol (which
// ws chooses, being offered first): Node gets them all, neither the
// --record file nor -o json has any.
func TestConnectRecordingRedactsSecretsNodeReceives(t *testing.T) {
	t.Parallel()
	url, srvOut := nodeServer(t)
	rec := filepath.Join(t.TempDir(), "s.wsrec.jsonl")
	r := run(t, "hello\n", "connect", url+"?room=1&token="+secretQuery, "-o", "json", "--record", rec,
		"-H", "X-Api-Key: "+secretKey, "-H", "X-Tenant: "+secretTenant, "-H", "X-Plain: plain", "--redact", "X-Tenant",
		"-s", bearerOffer, "-s", "v4.channel.k8s.io")
	r.expectCode(t, 0)
	srvOut.waitMatch(t, regexp.MustCompile(`^request /\?room=1&token=`+secretQuery+` key=`+secretKey+` protocol=`+regexp.QuoteMeta(bearerOffer)+`$`), step)
	if !strings.Contains(r.Stdout, `"text":"hello"`) {
		t.Errorf("no echo in %s", bounded(r.Stdout))
	}
	checkRedacted(t, "-o json", r.Stdout)
	file, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "--record", string(file))

	// --record-secrets keeps every one of them.
	r = run(t, "hello\n", "connect", url+"?room=1&token="+secretQuery, "-o", "json", "--record-secrets",
		"-H", "X-Api-Key: "+secretKey, "--redact", "X-Tenant", "-s", bearerOffer)
	r.expectCode(t, 0)
	for _, s := range []string{secretQuery, secretKey, secretBearer, `"redacted":[]`} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("--record-secrets: %q missing from %s", s, bounded(r.Stdout))
		}
	}
}

// The same through proxy: a gorilla client, Node's ws upstream.
func TestProxyRecordingRedactsSecrets(t *testing.T) {
	t.Parallel()
	upstream, srvOut := nodeServer(t)
	rec := filepath.Join(t.TempDir(), "p.wsrec.jsonl")
	p, url := proxyTo(t, upstream, "--record", rec, "--once", "--redact", "X-Tenant")
	c := tp.Dial(t, url+"/?room=1&token="+secretQuery, tp.ClientOptions{
		Subprotocols: []string{bearerOffer, "v4.channel.k8s.io"},
		Header:       http.Header{"X-Api-Key": {secretKey}, "X-Tenant": {secretTenant}, "X-Plain": {"plain"}},
	})
	if err := c.Send(tp.TextMsg("hi")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Read(step); err != nil || string(got.Data) != "hi" {
		t.Fatalf("echo: %v %v", got, err)
	}
	c.Close(1000, "")
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, bounded(p.stderr.String()))
	}
	srvOut.waitMatch(t, regexp.MustCompile(`^request /\?room=1&token=`+secretQuery+` key=`+secretKey+` protocol=`+regexp.QuoteMeta(bearerOffer)+`$`), step)
	file, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "proxy --record", string(file))
}

// --record will not overwrite a recording, nor write through a link; with
// --force it replaces the file, and a link by a file of its own.
func TestRecordRefusesAnExistingFileUnlessForce(t *testing.T) {
	t.Parallel()
	url, _ := nodeServer(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "s.wsrec.jsonl")
	run(t, "one\n", "connect", url, "--record", rec).expectCode(t, 0)
	first, _ := os.ReadFile(rec)

	r := run(t, "two\n", "connect", url, "--record", rec)
	r.expectCode(t, 2)
	if want := "wscope: --record: " + rec + " exists (--force replaces it)\n"; r.Stderr != want {
		t.Errorf("stderr %q, want %q", r.Stderr, want)
	}
	if again, _ := os.ReadFile(rec); string(again) != string(first) {
		t.Error("the refused recording changed")
	}
	run(t, "two\n", "connect", url, "--record", rec, "--force").expectCode(t, 0)
	if again, _ := os.ReadFile(rec); !strings.Contains(string(again), `"text":"two"`) || strings.Contains(string(again), `"text":"one"`) {
		t.Errorf("--force did not replace the recording: %s", bounded(string(again)))
	}

	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("not a recording\n"), 0o644)
	link := filepath.Join(dir, "link.wsrec.jsonl")
	os.Symlink(target, link)
	r = run(t, "three\n", "connect", url, "--record", link)
	r.expectCode(t, 2)
	if !strings.Contains(r.Stderr, link+" is a symbolic link") {
		t.Errorf("stderr %q", r.Stderr)
	}
	run(t, "three\n", "connect", url, "--record", link, "--force").expectCode(t, 0)
	if b, _ := os.ReadFile(target); string(b) != "not a recording\n" {
		t.Errorf("written through the link: %s", bounded(string(b)))
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the link was not replaced by a file: %v", err)
	}
}

// listen records what its clients sent in the query with the token
// redacted: Node's ws as the client.
func TestListenRecordingRedactsTheQuery(t *testing.T) {
	t.Parallel()
	rec := filepath.Join(t.TempDir(), "l.wsrec.jsonl")
	p, url := listen(t, "--echo", "--once", "-o", "json", "--record", rec)
	if out := nodeClient(t, url+"/feed?room=1&api_key="+secretQuery, "hi"); !strings.Contains(out, "echo hi") {
		t.Fatalf("node client: %s", bounded(out))
	}
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, bounded(p.stderr.String()))
	}
	file, _ := os.ReadFile(rec)
	for what, r := range map[string]string{"--record": string(file), "-o json": p.stdout.String()} {
		open := filter(parseEvents(t, r), "open", "")
		if strings.Contains(r, secretQuery) || len(open) != 1 || !strings.HasSuffix(open[0]["url"].(string), "/feed?room=1&api_key=[redacted]") {
			t.Errorf("%s: %s", what, bounded(r))
		}
	}
}

// A recording whose URL lost its token replays with a warning that says
// to give the real URL; --url silences it. replay --record --redact
// redacts like connect.
func TestReplayOfARedactedURLWarns(t *testing.T) {
	t.Parallel()
	url, _ := nodeServer(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "s.wsrec.jsonl")
	run(t, "hello\n", "connect", url+"?token="+secretQuery, "--record", rec).expectCode(t, 0)

	again := filepath.Join(dir, "again.wsrec.jsonl")
	r := run(t, "", "replay", rec, "--record", again, "--redact", "X-Tenant")
	r.expectCode(t, 0)
	if !strings.Contains(r.Stderr, "wscope: warning: the recorded URL "+url+"?token=[redacted] had secrets redacted: give the real one with --url") {
		t.Errorf("stderr %q", bounded(r.Stderr))
	}
	file, _ := os.ReadFile(again)
	if header, _, _ := strings.Cut(string(file), "\n"); !strings.Contains(header, `"?X-Tenant"`) {
		t.Errorf("replay --record header %s", bounded(header))
	}
	r = run(t, "", "replay", rec, "--url", url+"?token="+secretQuery)
	r.expectCode(t, 0)
	if strings.Contains(r.Stderr, "warning") {
		t.Errorf("with --url: stderr %q", bounded(r.Stderr))
	}

	// The bearer subprotocol (Node chose it): the same, with -s.
	bearer := filepath.Join(dir, "bearer.wsrec.jsonl")
	run(t, "hello\n", "connect", url, "-s", bearerOffer, "--record", bearer).expectCode(t, 0)
	r = run(t, "", "replay", bearer) // Node refuses the offer: 400, exit 3
	if r.Code != 3 || !strings.Contains(r.Stderr, "wscope: warning: the recorded subprotocol "+inspect.BearerSubprotocol+"[redacted] had its token redacted: offer the real one with -s") {
		t.Errorf("bearer: exit %d, stderr %q", r.Code, bounded(r.Stderr))
	}
	r = run(t, "", "replay", bearer, "-s", bearerOffer)
	r.expectCode(t, 0)
	if strings.Contains(r.Stderr, "warning") {
		t.Errorf("with -s: stderr %q", bounded(r.Stderr))
	}
}
