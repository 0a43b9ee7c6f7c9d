package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wscope/wscope/cmd"
	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// TestHelpExamples runs the examples of every command's --help, as
// written, against the built binary: each paragraph of an Example block
// (lines between blank lines) is one subtest, its commands run in order
// through sh -c, in a temp dir that holds the files the examples name, with
// the binary's directory first on PATH and HOME set to that dir.
//
// Every example line must have an entry in helpExamples below: a way to
// run it and what to expect, or the reason it is skipped. A new example
// without one fails this test, and so does an entry no example uses.
//
// Servers. Examples address servers on this machine by fixed ports; the
// test runs them on free ports of 127.0.0.1 instead:
//
//   - An example that serves (listen, proxy, demo --serve, replay --serve)
//     has its ADDR, the one token that is N, :N or 127.0.0.1:N, replaced by
//     127.0.0.1:0 (":N", every interface, included: the test listens on
//     loopback only); without one, 127.0.0.1:0 is appended (--listen
//     127.0.0.1:0 for proxy), standing for the command's default port. It
//     is started with exec, so that Ctrl-C reaches wscope itself; once its
//     stderr says where it listens ("listening on", "relaying", "serving"),
//     port N means that address for the rest of the paragraph. It is
//     interrupted when the paragraph is done and must exit 130, unless the
//     entry says it exits by itself (--once).
//   - In any other example, ws://127.0.0.1:N (or localhost:N) means that
//     address; a port no earlier example of the paragraph serves gets a
//     loopback server of the test's, an echo server on coder/websocket
//     unless the entry names another.
//   - $WS_URL (the CI example) is set to such an echo server.
func TestHelpExamples(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for _, c := range commands(cmd.NewRootCmd(&cmd.IOStreams{In: strings.NewReader(""), Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)})) {
		for i, para := range paragraphs(c.Example) {
			specs := make([]exampleSpec, len(para))
			ok := true
			for j, line := range para {
				s, found := helpExamples[line]
				if !found {
					t.Errorf("%s --help: example %q is neither run nor skipped: add it to helpExamples in examples_test.go", c.CommandPath(), line)
					ok = false
				}
				used[line] = true
				specs[j] = s
			}
			if !ok {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", strings.ReplaceAll(c.CommandPath(), " ", "_"), i+1), func(t *testing.T) {
				t.Parallel()
				runParagraph(t, para, specs)
			})
		}
	}
	for line := range helpExamples {
		if !used[line] {
			t.Errorf("helpExamples has %q, which no command's --help shows any more", line)
		}
	}
}

// exampleSpec says how to run one example line and what it must do.
type exampleSpec struct {
	skip   string                          // why it is not run: it needs what the test cannot give
	shell  string                          // the shell that runs it: sh unless it is bash syntax
	code   int                             // exit status (of a serving example: with exits)
	serves bool                            // runs until interrupted: a server or a relay
	exits  bool                            // serves, but exits by itself after probe (--once)
	probe  func(*testing.T, *proc, string) // with serves: a client at the address it serves
	server func(*testing.T) string         // the server for its unserved ports (default: echo); returns host:port
	out    []string                        // regexps stdout must match
	errOut string                          // a regexp stderr must match
	files  map[string]string               // files it leaves behind and a regexp each must match
}

// helpExamples holds every example line of every command's --help, after
// continuations are joined, and how each is run.
var helpExamples = map[string]exampleSpec{
	// wscope
	`wscope demo`: {out: []string{`(?m)Welcome to the wscope demo[\s\S]*^ +[\d.]+ end +1000 Normal Closure by client, clean$`}},
	`echo hello | wscope connect ws://127.0.0.1:8080/echo`: {out: []string{`^hello\n$`}},
	`echo hello | wscope connect ws://127.0.0.1:8080/echo --record session.wsrec.jsonl`: {
		out:   []string{`^hello\n$`},
		files: map[string]string{"session.wsrec.jsonl": `"url":"ws://127\.0\.0\.1:\d+/echo"[\s\S]*"ev":"msg","conn":1,"dir":"s2c","op":"text".*"text":"hello"`},
	},
	`wscope inspect session.wsrec.jsonl --check`: {errOut: `session\.wsrec\.jsonl: no violations`},

	// wscope config
	`wscope config list`:                                  {out: []string{`^staging +ws://127\.0\.0\.1:\d+/\n$`}},
	`wscope config show staging`:                          {out: []string{`(?s)\[targets\.staging\].*Bearer \$\{STAGING_TOKEN\}`}},
	`STAGING_TOKEN=... wscope connect @staging -o frames`: {out: []string{`(?m) end +1000 Normal Closure by client, clean$`}},

	// wscope connect
	`wscope connect wss://example.com/ws -x '{"op":"subscribe"}' -w 2s`:                {skip: "needs a server on the internet (example.com)"},
	`wscope connect ws://127.0.0.1:8080 -x hello -o frames`:                            {out: []string{`(?m)^ +[\d.]+ s2c text +F--- - -------- len=5 +hello$`}},
	`echo '{"op":"ping"}' | wscope connect ws://127.0.0.1:8080 -i -x '{"op":"login"}'`: {out: []string{`^\{"op":"login"\}\n\{"op":"ping"\}\n$`}},
	`wscope connect ws://127.0.0.1:8080 -o json < msgs.txt > session.wsrec.jsonl`: {
		files: map[string]string{"session.wsrec.jsonl": `^\{"wsrec":1,[\s\S]*"dir":"s2c","op":"text".*"text":"hello"[\s\S]*"dir":"s2c","op":"text".*"text":"world"`},
	},
	`wscope connect ws://127.0.0.1:8080/ -v </dev/null`: {errOut: `(?s)GET / HTTP/1\.1.*Upgrade: websocket.*HTTP/1\.1 101 Switching Protocols`},
	`printf '%s\n' '{"op":"ping","text":"x"}' '{"text":"abcdef","fragment":2}' | wscope connect ws://127.0.0.1:8080 --stdin json -o frames`: {
		out: []string{
			`c2s ping +F--- M [0-9a-f]{8} len=1 +x\n[\s\S]*c2s text +---- M [0-9a-f]{8} len=2 +ab\n[\s\S]*c2s cont +---- M [0-9a-f]{8} len=2 +cd\n[\s\S]*c2s cont +F--- M [0-9a-f]{8} len=2 +ef\n`,
			`s2c pong +F--- - -------- len=1 +x\n`,
			`s2c text +F--- - -------- len=6 +abcdef\n`,
		},
	},
	`wscope connect 'ws://127.0.0.1:9001/runCase?case=1&agent=wscope' --echo -w 60s </dev/null`: {
		server: caseServer,
		out:    []string{`^case 1: echo me\n$`},
	},

	// wscope listen
	`wscope listen --echo`: {serves: true, probe: func(t *testing.T, p *proc, addr string) {
		c := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
		expectEcho(t, c, "hello listen")
		p.stdout.waitMatch(t, regexp.MustCompile(`^\[1\] hello listen$`), step)
	}},
	`wscope listen :9000 --broadcast -o frames`: {serves: true, probe: func(t *testing.T, p *proc, addr string) {
		a := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
		p.waitConnected(t, 1)
		b := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
		p.waitConnected(t, 2)
		if err := a.Send(tp.TextMsg("hi all")); err != nil {
			t.Fatal(err)
		}
		if m, err := b.Read(step); err != nil || string(m.Data) != "hi all" {
			t.Fatalf("the other client got %v %v, want the broadcast", m, err)
		}
		p.stdout.waitMatch(t, regexp.MustCompile(`#1 c2s text +F--- M [0-9a-f]{8} len=6 +hi all`), step)
	}},
	`wscope listen 9000 --path /ws --origin https://app.example.com -s graphql-ws`: {serves: true, probe: func(t *testing.T, p *proc, addr string) {
		if _, resp, err := tp.TryDial(t, "ws://"+addr+"/", tp.ClientOptions{}); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("another path: %v %v, want 404", resp, err)
		}
		if _, resp, err := tp.TryDial(t, "ws://"+addr+"/ws", tp.ClientOptions{Header: http.Header{"Origin": {"https://evil.example"}}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("another origin: %v %v, want 403", resp, err)
		}
		c := tp.Dial(t, "ws://"+addr+"/ws", tp.ClientOptions{Header: http.Header{"Origin": {"https://app.example.com"}}, Subprotocols: []string{"graphql-ws"}})
		if c.Subprotocol() != "graphql-ws" {
			t.Errorf("subprotocol %q, want graphql-ws", c.Subprotocol())
		}
	}},
	`wscope listen 8443 --tls-self-signed --echo`: {serves: true, errOut: `SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}\n[\s\S]*listening on wss://127\.0\.0\.1:\d+`},
	`wscope listen 9000 --once --record client.wsrec.jsonl`: {serves: true, exits: true,
		probe: func(t *testing.T, p *proc, addr string) {
			c := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
			if err := c.Send(tp.TextMsg("record me")); err != nil {
				t.Fatal(err)
			}
			p.stdout.waitMatch(t, regexp.MustCompile(`record me`), step)
			if _, err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		},
		files: map[string]string{"client.wsrec.jsonl": `"role":"server"[\s\S]*"ev":"msg","conn":1,"dir":"c2s","op":"text".*"text":"record me"[\s\S]*"ev":"end"`},
	},

	// wscope proxy: the upstreams on the internet are dialled only when a
	// client comes, so these relays start without the network.
	`wscope listen 8443 --tls-cert server.pem --tls-key server-key.pem --client-ca clients-ca.pem --echo -o frames`: {skip: "needs PEM files of a CA and the certificates it issued: TestListenClientCertificateRequired runs the same with its own"},

	`wscope proxy --upstream wss://api.example.com/ws`: {serves: true, errOut: `relaying ws://127\.0\.0\.1:\d+ to wss://api\.example\.com/ws`},
	`wscope proxy --listen 9000 --upstream ws://127.0.0.1:8080 -o frames --record app.wsrec.jsonl`: {serves: true,
		probe: func(t *testing.T, p *proc, addr string) {
			c := tp.Dial(t, "ws://"+addr+"/", tp.ClientOptions{})
			expectEcho(t, c, "through the proxy")
			p.stdout.waitMatch(t, regexp.MustCompile(`s2c text +F--- - -------- len=17 +through the proxy`), step)
		},
		out:   []string{`c2s text +F--- M [0-9a-f]{8} len=17 +through the proxy`},
		files: map[string]string{"app.wsrec.jsonl": `"role":"proxy"[\s\S]*"dir":"s2c","op":"text".*"text":"through the proxy"`},
	},
	`wscope proxy --upstream wss://api.example.com --rewrite-host --rewrite-origin --proxy http://proxy:3128`: {serves: true, errOut: `using proxy http://proxy:3128[\s\S]*relaying ws://127\.0\.0\.1:\d+ to wss://api\.example\.com`},

	// wscope inspect
	`wscope inspect session.wsrec.jsonl`:                                       {out: []string{`(?m)^ +[\d.]+ #1 c2s text +F--- M b9ec91be len=5 +hello$`}},
	`wscope inspect capture.pcapng --check`:                                    {errOut: `capture\.pcapng: no violations`},
	`wscope inspect devtools.har -o json | jq -c 'select(.ev=="msg") | .text'`: {out: []string{`^"\{\\"op\\":\\"hello\\"`}},
	`wscope inspect session.wsrec.jsonl --from server --op text --grep ticker`: {out: []string{`^ +[\d.]+ #1 s2c text +F--- - -------- len=44 +\{"op":"subscribe","channel":"ticker","id":1\}\n$`}},
	`wscope inspect session.wsrec.jsonl --stats`:                               {out: []string{`client → server +5 messages`}},
	`wscope inspect session.wsrec.jsonl -o har > session.har`:                  {files: map[string]string{"session.har": `^\{\n  "log": \{\n    "version": "1\.2",[\s\S]*"_resourceType": "websocket",\n *"_webSocketMessages": \[\n *\{\n *"type": "send",[\s\S]*"data": "hello"`}},
	`cat session.wsrec.jsonl | wscope inspect - -o text`:                       {out: []string{`^\[1\] c2s hello\n`}},
	`wscope inspect --hex '81 05 48 65 6c 6c 6f'`:                              {out: []string{`(?s)frame 1, s2c, 7 bytes on the wire.*payload  5 bytes, text\nHello\n`}},

	// wscope replay: login.wsrec.jsonl is testdata/connect-echo.wsrec.jsonl,
	// recorded against an echo server.
	`wscope replay testdata/login.wsrec.jsonl --url "$WS_URL" --json --ignore '$.ts' --report junit.xml`: {
		out:   []string{`replay: 5 messages sent, 5 received, 0 mismatches`},
		files: map[string]string{"junit.xml": `<testsuites name="testdata/login\.wsrec\.jsonl" tests="\d+" failures="0"`},
	},
	`wscope replay login.wsrec.jsonl --url ws://127.0.0.1:8080/ --capture '$.session=sid'`:                                 {out: []string{`0 mismatches`}},
	"wscope replay sio.wsrec.jsonl --url \"$WS_URL\" --decode socketio --ignore-field sid --capture '@data$[1].token=tok'": {skip: "needs a Socket.IO server that hands out a token: TestReplayCapturesDecodedFields runs the same against the real socket.io"},
	`wscope replay login.wsrec.jsonl --serve 9000`: {serves: true, probe: func(t *testing.T, p *proc, addr string) {
		// The recorded client sent five messages before the first answer.
		c := tp.Dial(t, "ws://"+addr+"/chat?room=1", tp.ClientOptions{})
		sent := []tp.Msg{tp.TextMsg("hello"), tp.TextMsg(`{"op":"subscribe","channel":"ticker","id":1}`), tp.BinaryMsg([]byte{0, 1, 2, 3, 0xfe, 0xff}), tp.TextMsg("split across frames"), tp.TextMsg("")}
		for _, m := range sent {
			if err := c.Send(m); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range sent {
			if m, err := c.Read(step); err != nil || !bytes.Equal(m.Data, want.Data) || m.Binary != want.Binary {
				t.Fatalf("mock answered %v %v, want %v", m, err, want)
			}
		}
	}},

	// wscope demo
	`wscope demo </dev/null | cat`: {out: []string{`(?m)Welcome to the wscope demo[\s\S]*^ +[\d.]+ end +1000 Normal Closure by client, clean$`}},
	`printf '%s\n' hello 'fragment split me up' | wscope demo -o json --duration 2s`: {
		out: []string{`"dir":"s2c","op":"text","frames":\[\d+\],"deflated":false,"text":"hello"\}\n[\s\S]*"dir":"s2c","op":"text","frames":\[\d+,\d+,\d+\],"deflated":false,"text":"split me up"\}\n[\s\S]*"ev":"end","conn":1,"clean":true,"code":1000`},
	},
	`echo 'close 4000 bye' | wscope demo; echo "exit $?"`:      {out: []string{`s2c close .* 4000 Private Use "bye"\n[\s\S]*exit 4\n$`}},
	`wscope demo --serve 9000`:                                 {serves: true, errOut: `demo server listening on ws://127\.0\.0\.1:\d+/`},
	`wscope connect ws://127.0.0.1:9000/ --compress -o frames`: {out: []string{`open +ws://127\.0\.0\.1:\d+/ .* ext=permessage-deflate\n[\s\S]*end +1000 Normal Closure by client, clean`}},

	// wscope version
	`wscope version`:                        {out: []string{`^wscope \S+.*\ncommit: .*\ndate: .*\ngo: +go1\.`}},
	`wscope --version`:                      {out: []string{`^wscope \S+.*\n$`}},
	`wscope version --json | jq -r .commit`: {out: []string{`^.*\n$`}},

	// wscope completion
	`mkdir -p ~/.local/share/bash-completion/completions ~/.config/fish/completions`: {},
	`wscope completion bash > ~/.local/share/bash-completion/completions/wscope`: {
		files: map[string]string{".local/share/bash-completion/completions/wscope": `complete .*__start_wscope wscope`},
	},
	`wscope completion fish > ~/.config/fish/completions/wscope.fish`: {
		files: map[string]string{".config/fish/completions/wscope.fish": `complete -c wscope`},
	},
	`mkdir -p ~/.zfunc && wscope completion zsh > ~/.zfunc/_wscope`: {
		files: map[string]string{".zfunc/_wscope": `^#compdef wscope`},
	},
	`source <(wscope completion bash)`: {shell: "bash"},
}

// fixtures are the files examples name, copied into a paragraph's dir when
// it mentions them.
var fixtures = map[string]string{
	"session.wsrec.jsonl":        "../testdata/connect-echo.wsrec.jsonl",
	"login.wsrec.jsonl":          "../testdata/connect-echo.wsrec.jsonl",
	"testdata/login.wsrec.jsonl": "../testdata/connect-echo.wsrec.jsonl",
	"capture.pcapng":             "../internal/pcap/testdata/deflate.pcapng",
	"devtools.har":               "../testdata/har/chrome-session.har",
	"msgs.txt":                   "", // two lines: hello, world
}

// commands returns c and every command under it.
func commands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		out = append(out, commands(sub)...)
	}
	return out
}

// paragraphs splits an Example block into paragraphs of command lines:
// comments dropped, lines ending in \ or | joined with the next.
func paragraphs(example string) [][]string {
	var out [][]string
	var para []string
	pending := ""
	for _, raw := range strings.Split(example, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
			if len(para) > 0 {
				out = append(out, para)
			}
			para = nil
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		if pending != "" {
			line = pending + " " + line
			pending = ""
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			pending = strings.TrimSpace(s)
			continue
		}
		if strings.HasSuffix(line, "|") {
			pending = line
			continue
		}
		para = append(para, line)
	}
	if len(para) > 0 {
		out = append(out, para)
	}
	return out
}

var (
	loopbackPort = regexp.MustCompile(`\b(?:127\.0\.0\.1|localhost):(\d+)\b`)
	addrToken    = regexp.MustCompile(`(\s)(?:127\.0\.0\.1:|localhost:|:)?(\d{2,5})(\s|$)`)
	servingLine  = regexp.MustCompile(`(?:listening on|relaying|serving .* as) wss?://(127\.0\.0\.1:\d+)`)
)

// runParagraph runs the lines of one paragraph in order in a fresh dir.
func runParagraph(t *testing.T, para []string, specs []exampleSpec) {
	dir := t.TempDir()
	text := strings.Join(para, "\n")
	for name, src := range fixtures {
		// A paragraph that records the file itself starts without it:
		// --record will not overwrite one.
		if !strings.Contains(text, name) || strings.Contains(text, "--record "+name) {
			continue
		}
		b := []byte("hello\nworld\n")
		if src != "" {
			var err error
			if b, err = os.ReadFile(src); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(append([]string(nil), testEnv...),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+dir)
	if strings.Contains(text, "$WS_URL") {
		env = append(env, "WS_URL=ws://"+echoServer(t)+"/")
	}
	if strings.Contains(text, "wscope config") || strings.Contains(text, "@staging") {
		// The configuration file the examples name, with its target on
		// loopback.
		conf := filepath.Join(dir, ".config", "wscope", "config.toml")
		os.MkdirAll(filepath.Dir(conf), 0o755)
		os.WriteFile(conf, []byte("[targets.staging]\nurl = \"ws://"+echoServer(t)+"/\"\nheaders = [\"Authorization: Bearer ${STAGING_TOKEN}\"]\n"), 0o600)
		env = append(env, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"), "WSCOPE_CONFIG=")
	}
	bound := map[string]string{} // example port -> where it is served
	type serving struct {
		p    *proc
		line string
		s    exampleSpec
	}
	var running []serving
	for i, line := range para {
		s := specs[i]
		if s.skip != "" {
			t.Logf("skipped %q: %s", line, s.skip)
			continue
		}
		if strings.Contains(line, "| jq") {
			if _, err := exec.LookPath("jq"); err != nil {
				t.Skipf("%q needs jq, which is not installed", line)
			}
		}
		// Ports of servers on this machine become the test's.
		local := func(line string) string {
			return loopbackPort.ReplaceAllStringFunc(line, func(hp string) string {
				port := hp[strings.LastIndex(hp, ":")+1:]
				if bound[port] == "" {
					serve := echoServer
					if s.server != nil {
						serve = s.server
					}
					bound[port] = serve(t)
				}
				return bound[port]
			})
		}
		if s.serves {
			before, after, port := serveOnFreePort(t, line)
			p := startShell(t, dir, env, "exec "+local(before)+"127.0.0.1:0"+local(after))
			m := p.stderr.waitMatch(t, servingLine, step)
			addr := servingLine.FindStringSubmatch(m)[1]
			bound[port] = addr
			if s.probe != nil {
				s.probe(t, p, addr)
			}
			if s.exits {
				if code := p.wait(step); code != s.code {
					t.Errorf("%q: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", line, code, s.code, p.stdout, p.stderr)
				}
				checkExample(t, dir, line, s, p.stdout.String(), p.stderr.String())
				continue
			}
			running = append(running, serving{p, para[i], s})
			continue
		}
		line = local(line)
		shell := "sh"
		if s.shell != "" {
			shell = s.shell
		}
		r := runShell(t, dir, env, shell, line)
		if r.Code != s.code {
			t.Errorf("%q: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", line, r.Code, s.code, r.Stdout, r.Stderr)
		}
		checkExample(t, dir, para[i], s, r.Stdout, r.Stderr)
	}
	for i := len(running) - 1; i >= 0; i-- {
		r := running[i]
		r.p.interrupt()
		if code := r.p.wait(step); code != 130 {
			t.Errorf("%q: exit status %d after Ctrl-C, want 130\nstdout:\n%s\nstderr:\n%s", r.line, code, r.p.stdout, r.p.stderr)
		}
		checkExample(t, dir, r.line, r.s, r.p.stdout.String(), r.p.stderr.String())
	}
}

// serveOnFreePort splits a serving example around its ADDR, which the
// caller replaces with 127.0.0.1:0, and returns the port the ADDR stood for.
func serveOnFreePort(t *testing.T, line string) (before, after, port string) {
	if strings.ContainsAny(line, "|;&<>") {
		t.Fatalf("%q: a serving example must be one command", line)
	}
	switch ms := addrToken.FindAllStringSubmatchIndex(line, -1); {
	case len(ms) == 1:
		m := ms[0]
		return line[:m[3]], line[m[6]:], line[m[4]:m[5]]
	case len(ms) > 1:
		t.Fatalf("%q: more than one token looks like an ADDR", line)
	}
	if strings.Fields(line)[1] == "proxy" {
		return line + " --listen ", "", "9000"
	}
	return line + " ", "", "8080"
}

// checkExample checks what an example printed and left behind.
func checkExample(t *testing.T, dir, line string, s exampleSpec, stdout, stderr string) {
	t.Helper()
	for _, re := range s.out {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("%q: stdout does not match %q:\n%s\nstderr:\n%s", line, re, stdout, stderr)
		}
	}
	if s.errOut != "" && !regexp.MustCompile(s.errOut).MatchString(stderr) {
		t.Errorf("%q: stderr does not match %q:\n%s", line, s.errOut, stderr)
	}
	for name, re := range s.files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("%q: %s does not match %q:\n%s", line, name, re, b)
		}
	}
}

// runShell runs one example line and returns how it ended.
func runShell(t *testing.T, dir string, env []string, shell, line string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, shell, "-c", line)
	c.Dir, c.Env = dir, env
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q: timed out\nstdout:\n%s\nstderr:\n%s", line, out.String(), errOut.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// startShell starts a serving example (its line begins with exec, so the
// process is wscope's and gets the Ctrl-C); it is killed at cleanup.
func startShell(t *testing.T, dir string, env []string, line string) *proc {
	t.Helper()
	c := exec.Command("sh", "-c", line)
	c.Dir, c.Env = dir, env
	return startProc(t, c, nil)
}

// echoServer is coder/websocket echoing every message; it returns its
// 127.0.0.1:port.
func echoServer(t *testing.T) string {
	return tp.NewServer(t, tp.ServerOptions{Echo: true}).Addr()
}

// caseServer plays a server that tests its clients, as Autobahn's
// fuzzingserver does: it sends a message, wants it back, and closes.
func caseServer(t *testing.T) string {
	return acceptThen(t, func(rc *tp.RawConn) {
		const msg = "case 1: echo me"
		rc.WriteFrame(tp.ServerFrame(inspect.OpText, []byte(msg)))
		f, err := rc.ReadFrame(step)
		if err != nil || f.Op != inspect.OpText || string(f.Payload) != msg {
			t.Errorf("case server: got %v %v, want the message back", f, err)
			return
		}
		rc.WriteFrame(tp.ServerFrame(inspect.OpClose, tp.ClosePayload(1000, "")))
		if f, err := rc.ReadFrame(step); err != nil || f.Op != inspect.OpClose {
			t.Errorf("case server: got %v %v, want the close answered", f, err)
		}
	}).Addr()
}

// expectEcho sends msg and wants it back.
func expectEcho(t *testing.T, c *tp.Client, msg string) {
	t.Helper()
	if err := c.Send(tp.TextMsg(msg)); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Read(step); err != nil || string(m.Data) != msg {
		t.Fatalf("got %v %v, want %q back", m, err, msg)
	}
}
