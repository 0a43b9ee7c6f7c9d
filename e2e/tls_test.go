package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// pki is a throwaway CA with the certificates a TLS test needs, written
// as PEM files.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wscope test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), ca: ca, caKey: key}
	p.CAFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a leaf for the given names (IPs or DNS names) and returns
// it loaded, plus its PEM files.
func (p *pki) issue(t *testing.T, name string, client bool, hosts ...string) (tls.Certificate, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile := p.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// tlsEcho serves a coder/websocket echo over TLS with cert; clientCAs,
// when set, makes it require a client certificate.
func tlsEcho(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		srv.TLS.ClientCAs = clientCAs
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "wss://" + srv.Listener.Addr().String() + "/"
}

func TestConnectTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	good, _, _ := p.issue(t, "server", false, "127.0.0.1")
	url := tlsEcho(t, good, nil)

	// Verification is on by default: an unknown CA is refused.
	r := run(t, "hi\n", "connect", url)
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "not trusted") || !strings.Contains(r.Stderr, "--ca") {
		t.Errorf("unknown CA: %q", r.Stderr)
	}
	// --ca trusts it; -v shows the TLS session.
	r = run(t, "hi\n", "connect", url, "--ca", p.CAFile, "-v")
	r.expectCode(t, 0)
	if r.Stdout != "hi\n" || !strings.Contains(r.Stderr, "* TLS: TLS 1.3") || !strings.Contains(r.Stderr, "CN=server") {
		t.Errorf("with --ca: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	// -k skips verification, and says so.
	r = run(t, "hi\n", "connect", url, "-k")
	r.expectCode(t, 0)
	if !strings.Contains(r.Stderr, "WARNING: TLS certificate verification is disabled") {
		t.Errorf("-k is not loud: %q", r.Stderr)
	}
	// The open event carries the TLS details.
	r = run(t, "", "connect", url, "--ca", p.CAFile, "-o", "json")
	open := filter(parseEvents(t, r.Stdout), "open", "")
	if tlsInfo, ok := open[0]["tls"].(map[string]any); !ok || tlsInfo["version"] != "TLS 1.3" || tlsInfo["peer_subject"] != "CN=server" {
		t.Errorf("open event tls: %v", open[0]["tls"])
	}
}

func TestConnectTLSNameMismatch(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	other, _, _ := p.issue(t, "other", false, "other.test")
	url := tlsEcho(t, other, nil)
	r := run(t, "", "connect", url, "--ca", p.CAFile)
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "certificate does not match") {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestConnectTLSClientCertificate(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	srvCert, _, _ := p.issue(t, "server", false, "127.0.0.1")
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	url := tlsEcho(t, srvCert, pool)
	_, certFile, keyFile := p.issue(t, "client", true)

	r := run(t, "", "connect", url, "--ca", p.CAFile)
	r.expectCode(t, 3)
	r = run(t, "hi\n", "connect", url, "--ca", p.CAFile, "--cert", certFile, "--key", keyFile)
	r.expectCode(t, 0)
	if r.Stdout != "hi\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	r = run(t, "", "connect", url, "--cert", certFile)
	r.expectCode(t, 2)
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts TCP and never answers the upgrade.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	start := time.Now()
	r := run(t, "", "connect", "ws://"+ln.Addr().String()+"/", "--connect-timeout", "300ms")
	r.expectCode(t, 3)
	if !strings.Contains(r.Stderr, "no handshake response") || time.Since(start) > 10*time.Second {
		t.Errorf("stderr %q after %s", r.Stderr, time.Since(start))
	}
}

func TestListenTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keylog := filepath.Join(dir, "keys.log")
	p := start(t, "listen", "127.0.0.1:0", "--echo", "--tls-self-signed")
	line := p.stderr.waitMatch(t, regexp.MustCompile(`SHA-256 fingerprint [0-9A-F:]{95}`), step)
	fp := regexp.MustCompile(`[0-9A-F:]{95}`).FindString(line)
	addr := p.listenAddr()
	url := "wss://" + addr + "/"
	if !strings.Contains(p.stderr.String(), "listening on wss://") {
		t.Errorf("stderr %s", p.stderr)
	}

	// The certificate presented is the one whose fingerprint was printed.
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	c.Close()
	if got := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(fp, ":", "") != got {
		t.Errorf("fingerprint %s, certificate %s", fp, got)
	}

	// Verified by default: refused; -k: works, with secrets logged.
	r := run(t, "x\n", "connect", url)
	r.expectCode(t, 3)
	r = run(t, "over wss\n", "connect", url, "-k", "--keylog", keylog, "-o", "json")
	r.expectCode(t, 0)
	if msgs := filter(parseEvents(t, r.Stdout), "msg", "s2c"); len(msgs) != 1 || msgs[0]["text"] != "over wss" {
		t.Errorf("echo over wss: %v", msgs)
	}
	kl, err := os.ReadFile(keylog)
	if err != nil || !strings.Contains(string(kl), "CLIENT_TRAFFIC_SECRET_0 ") {
		t.Errorf("keylog: %v %q", err, kl)
	}
	// SSLKEYLOGFILE works too.
	env := append(append([]string(nil), testEnv...), "SSLKEYLOGFILE="+filepath.Join(dir, "env.log"))
	r = runEnv(t, env, "", "connect", url, "-k")
	r.expectCode(t, 0)
	if b, _ := os.ReadFile(filepath.Join(dir, "env.log")); !strings.Contains(string(b), "SERVER_HANDSHAKE_TRAFFIC_SECRET") {
		t.Errorf("SSLKEYLOGFILE not written")
	}
}

func TestListenTLSWithCertificate(t *testing.T) {
	t.Parallel()
	pk := newPKI(t)
	_, certFile, keyFile := pk.issue(t, "listener", false, "127.0.0.1")
	p := start(t, "listen", "127.0.0.1:0", "--echo", "--tls-cert", certFile, "--tls-key", keyFile, "-o", "json")
	addr := p.listenAddr()
	r := run(t, "ca-verified\n", "connect", "wss://"+addr+"/", "--ca", pk.CAFile)
	r.expectCode(t, 0)
	if r.Stdout != "ca-verified\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	open := filter(parseEvents(t, p.stdout.waitMatchAll(t, `"ev":"open"`)), "open", "")
	if tlsInfo, ok := open[0]["tls"].(map[string]any); !ok || tlsInfo["version"] != "TLS 1.3" {
		t.Errorf("server's open event tls: %v", open[0]["tls"])
	}
	r = run(t, "", "listen", "127.0.0.1:0", "--tls-cert", certFile)
	r.expectCode(t, 2)
}
