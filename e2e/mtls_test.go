package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
)

// Mutual TLS on the servers: `listen --client-ca` asks every client for a
// certificate and verifies it; the open event names the certificate.

// fingerprintOf is a certificate's SHA-256 as wscope writes it: upper-case
// hex pairs joined by colons.
func fingerprintOf(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// tlsRead dials addr with conf, writes an upgrade request and reads: the
// error a client sees when the server refuses its certificate (over TLS
// 1.3 the client's handshake ends before the server has checked it, so
// the refusal arrives as an alert on the first read).
func tlsRead(addr string, conf *tls.Config) error {
	c, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(step))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 1))
	return err
}

func TestListenClientCertificateRequired(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	_, srvCert, srvKey := pk.issue(t, "listener", false, "127.0.0.1")
	alice, aliceCert, aliceKey := pk.issue(t, "alice", true)
	other := newPKI(t)
	mallory, _, _ := other.issue(t, "mallory", true)
	roots := x509.NewCertPool()
	roots.AddCert(pk.ca)

	p := start(t, "listen", "127.0.0.1:0", "--echo", "--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", pk.CAFile, "-o", "json")
	addr := p.listenAddr()

	// Go's TLS client without a certificate, over TLS 1.3 and 1.2, and
	// with one from another CA: each refused in the handshake, with the
	// alert that says why.
	for _, c := range []struct {
		name string
		conf *tls.Config
		want string
	}{
		{"no certificate, TLS 1.3", &tls.Config{RootCAs: roots}, "certificate required"},
		{"no certificate, TLS 1.2", &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS12}, "handshake failure"},
		{"another CA's certificate", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{mallory}}, "unknown certificate authority"},
	} {
		if err := tlsRead(addr, c.conf); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: client saw %v, want %q", c.name, err, c.want)
		}
	}
	p.stderr.waitMatch(t, regexp.MustCompile(`client didn't provide a certificate`), step)

	// wscope itself without --cert: exit 3 with a hint.
	r := run(t, "x\n", "connect", "wss://"+addr+"/", "--ca", pk.CAFile)
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "--cert") {
		t.Errorf("connect without a certificate: stderr %q does not say --cert", r.Stderr)
	}

	// gorilla with alice's certificate: accepted, and named.
	d := gws.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{alice}}, HandshakeTimeout: step}
	c, _, err := d.Dial("wss://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(gws.TextMessage, []byte("from alice"))
	c.SetReadDeadline(time.Now().Add(step))
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "from alice" {
		t.Fatalf("echo %q %v", m, err)
	}
	c.Close()
	p.stderr.waitMatch(t, regexp.MustCompile(`^\[\d+\] connected from 127\.0\.0\.1:\d+ / \(client certificate CN=alice, SHA-256 `+fingerprintOf(alice)+`\)$`), step)
	opens := filter(parseEvents(t, p.stdout.waitMatchAll(t, `"ev":"open"`)), "open", "")
	if len(opens) != 1 {
		t.Fatalf("%d open events, want 1 (the refused clients have none)", len(opens))
	}
	tlsInfo, _ := opens[0]["tls"].(map[string]any)
	want := map[string]any{"client_subject": "CN=alice", "client_issuer": "CN=wscope test CA", "client_sha256": fingerprintOf(alice), "peer_subject": "CN=alice"}
	for k, v := range want {
		if tlsInfo[k] != v {
			t.Errorf("open tls.%s = %v, want %v", k, tlsInfo[k], v)
		}
	}

	// Node's ws and wscope connect with the certificate files.
	out := nodeClientEnv(t, []string{"PEER_CA=" + pk.CAFile, "PEER_CERT=" + aliceCert, "PEER_KEY=" + aliceKey}, "wss://"+addr+"/", "node with a certificate")
	if !strings.Contains(out, "echo node with a certificate") {
		t.Errorf("node client: %s", out)
	}
	r = run(t, "wscope with a certificate\n", "connect", "wss://"+addr+"/", "--ca", pk.CAFile, "--cert", aliceCert, "--key", aliceKey)
	r.expectCode(t, 0)
	if r.Stdout != "wscope with a certificate\n" {
		t.Errorf("connect stdout %q", r.Stdout)
	}
}

// --client-cert optional: a client without a certificate is served, one
// with a certificate that verifies is named, one that does not verify is
// refused.
func TestListenClientCertificateOptional(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	_, srvCert, srvKey := pk.issue(t, "listener", false, "127.0.0.1")
	alice, _, _ := pk.issue(t, "alice", true)
	mallory, _, _ := newPKI(t).issue(t, "mallory", true)
	roots := x509.NewCertPool()
	roots.AddCert(pk.ca)
	p := start(t, "listen", "127.0.0.1:0", "--echo", "--tls-cert", srvCert, "--tls-key", srvKey,
		"--client-ca", pk.CAFile, "--client-cert", "optional", "-o", "frames")
	url := "wss://" + p.listenAddr() + "/"

	for _, certs := range [][]tls.Certificate{nil, {alice}} {
		d := gws.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}, HandshakeTimeout: step}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("%d certificates: %v", len(certs), err)
		}
		c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
		c.SetReadDeadline(time.Now().Add(step))
		c.ReadMessage()
		c.Close()
	}
	d := gws.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{mallory}}, HandshakeTimeout: step}
	if c, _, err := d.Dial(url, nil); err == nil {
		c.Close()
		t.Error("a certificate from another CA was accepted")
	}
	// The -o frames open line: the first client names no certificate, the
	// second names alice's.
	p.stdout.waitMatch(t, regexp.MustCompile(`#2 open .* client-cert="CN=alice" sha256=`+fingerprintOf(alice)+`$`), step)
	first := p.stdout.waitMatch(t, regexp.MustCompile(`#1 open `), step)
	if strings.Contains(first, "client-cert") {
		t.Errorf("a client without a certificate: %s", first)
	}
}

func TestServerTLSFlagErrors(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	_, srvCert, srvKey := pk.issue(t, "listener", false, "127.0.0.1")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"listen", "127.0.0.1:0", "--client-ca", pk.CAFile}, "--client-ca needs wss"},
		{[]string{"listen", "127.0.0.1:0", "--tls-cert", srvCert, "--tls-key", srvKey, "--client-cert", "optional"}, "--client-cert needs --client-ca"},
		{[]string{"listen", "127.0.0.1:0", "--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", pk.CAFile, "--client-cert", "maybe"}, `want require or optional, not "maybe"`},
		{[]string{"listen", "127.0.0.1:0", "--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", srvKey}, "no PEM certificate"},
		{[]string{"proxy", "--listen", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:1/", "--tls-self-signed", "--client-ca", "/nonexistent/ca.pem"}, "--client-ca: open /nonexistent/ca.pem"},
	} {
		r := run(t, "", c.args...)
		r.expectCode(t, 2)
		if !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: stderr %q, want %q", c.args, r.Stderr, c.want)
		}
	}
}

// The proxy both ways: it asks its clients for a certificate (--client-ca)
// and presents its own upstream (--cert/--key) to a Go TLS server that
// requires one; without --cert the upstream's refusal is a 502.
func TestProxyMutualTLS(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	upCert, _, _ := pk.issue(t, "upstream", false, "127.0.0.1")
	pool := x509.NewCertPool()
	pool.AddCert(pk.ca)
	upstream := tlsEcho(t, upCert, pool)
	_, proxyCert, proxyKey := pk.issue(t, "proxy-client", true)
	_, srvCert, srvKey := pk.issue(t, "proxy-server", false, "127.0.0.1")
	alice, _, _ := pk.issue(t, "alice", true)

	p, url := proxyTo(t, upstream, "--ca", pk.CAFile, "--cert", proxyCert, "--key", proxyKey,
		"--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", pk.CAFile, "-o", "json", "--once")
	d := gws.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{alice}}, HandshakeTimeout: step}
	c, _, err := d.Dial(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(gws.TextMessage, []byte("two certificates"))
	c.SetReadDeadline(time.Now().Add(step))
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "two certificates" {
		t.Fatalf("echo %q %v", m, err)
	}
	c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
	c.ReadMessage()
	c.Close()
	if code := p.wait(2 * step); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr)
	}
	open := filter(parseEvents(t, p.stdout.String()), "open", "")
	tlsInfo, _ := open[0]["tls"].(map[string]any)
	if tlsInfo["peer_subject"] != "CN=upstream" || tlsInfo["client_subject"] != "CN=alice" || tlsInfo["client_sha256"] != fingerprintOf(alice) {
		t.Errorf("open event tls: %v", tlsInfo)
	}

	// Without --cert the upstream refuses the proxy: a 502 for the client.
	p, url = proxyTo(t, upstream, "--ca", pk.CAFile, "--once")
	_, resp, err := gws.DefaultDialer.Dial(url+"/", nil)
	if err == nil || resp == nil || resp.StatusCode != 502 {
		t.Fatalf("upstream refusing the proxy: %v %v", resp, err)
	}
	if code := p.wait(2 * step); code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, p.stderr)
	}
}
