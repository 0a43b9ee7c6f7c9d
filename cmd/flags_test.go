package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
)

// wantUsage fails unless err is an *ExitError with ExitUsage whose message
// contains every one of subs.
func wantUsage(t *testing.T, err error, subs ...string) {
	t.Helper()
	wantExit(t, err, ExitUsage, subs...)
}

// wantExit fails unless err is an *ExitError with the given code whose
// message contains every one of subs.
func wantExit(t *testing.T, err error, code int, subs ...string) {
	t.Helper()
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T), want *ExitError with code %d", err, err, code)
	}
	if ee.Code != code {
		t.Errorf("exit code %d, want %d (error %v)", ee.Code, code, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"4096B", 4096},
		{"4096b", 4096},
		{"1K", 1 << 10},
		{"10KB", 10 << 10},
		{"10KiB", 10 << 10},
		{"1M", 1 << 20},
		{"1m", 1 << 20},
		{"1MB", 1 << 20},
		{"64MiB", 64 << 20},
		{"64mib", 64 << 20},
		{"1G", 1 << 30},
		{"2GiB", 2 << 30},
		{" 8M ", 8 << 20},
		{strconv.FormatInt(math.MaxInt64, 10), math.MaxInt64},
		{strconv.FormatInt(math.MaxInt64>>30, 10) + "G", (math.MaxInt64 >> 30) << 30},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseByteSize(tt.in)
			if err != nil {
				t.Fatalf("parseByteSize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("parseByteSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseByteSizeInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "x", "B", "K", "MiB", "-1", "-1K", "1T", "1TB", "1.5M", "1 M", "M1",
		"0x10", "1KK",
		"9223372036854775808",                                 // > MaxInt64
		strconv.FormatInt(math.MaxInt64>>10+1, 10) + "K",      // overflows after the shift
		strconv.FormatInt(math.MaxInt64>>30+1, 10) + "GiB",    // overflows after the shift
		"99999999999999999999999999999999999999999999999999M", // does not parse
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			n, err := parseByteSize(in)
			if err == nil {
				t.Fatalf("parseByteSize(%q) = %d, want an error", in, n)
			}
			if !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Errorf("error %q does not quote the input", err)
			}
		})
	}
}

func TestByteSizeFlagValue(t *testing.T) {
	t.Parallel()
	var b byteSize
	if err := b.Set("2KiB"); err != nil {
		t.Fatal(err)
	}
	if b != 2048 || b.String() != "2KiB" || b.Type() != "size" {
		t.Errorf("after Set(2KiB): %d %q %q", b, b.String(), b.Type())
	}
	for n, want := range map[byteSize]string{0: "0", 1000: "1000", 64 << 20: "64MiB", 3 << 30: "3GiB", 1536: "1536"} {
		if got := n.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
		if v, err := parseByteSize(want); err != nil || byteSize(v) != n {
			t.Errorf("parseByteSize(%q) = %d, %v: String does not round-trip", want, v, err)
		}
	}
	if err := b.Set("nope"); err == nil {
		t.Error("Set(nope) succeeded")
	}
	if b != 2048 {
		t.Errorf("a failed Set changed the value to %d", b)
	}
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	got, err := parseHeaders([]string{
		"X-Token: abc",
		"X-Dup: 1",
		"X-Dup:2",
		"  Spaced  :   value with spaces  ",
		"X-Empty:",
		"X-Colon: a:b:c",
		"Cookie: a=1; b=2",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []inspect.HeaderField{
		{Name: "X-Token", Value: "abc"},
		{Name: "X-Dup", Value: "1"},
		{Name: "X-Dup", Value: "2"},
		{Name: "Spaced", Value: "value with spaces"},
		{Name: "X-Empty", Value: ""},
		{Name: "X-Colon", Value: "a:b:c"},
		{Name: "Cookie", Value: "a=1; b=2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseHeaders\n got %q\nwant %q", got, want)
	}
	if got, err := parseHeaders(nil); err != nil || got != nil {
		t.Errorf("parseHeaders(nil) = %v, %v", got, err)
	}
}

func TestParseHeadersInvalid(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"NoColon",
		"",
		": value",
		"   : value",
		"Two Words: v",
		"Tab\tName: v",
		"X-Inject: a\r\nEvil: b",
		"X-Inject: a\nEvil: b",
		"X-Inject: a\rb",
		"X-Inject\r\nEvil: b",
	} {
		t.Run(strconv.Quote(h), func(t *testing.T) {
			t.Parallel()
			// A valid header first: one bad value fails the whole list.
			got, err := parseHeaders([]string{"X-Ok: 1", h})
			if got != nil {
				t.Errorf("parseHeaders returned %q with the error", got)
			}
			wantUsage(t, err, "invalid header", strconv.Quote(h))
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"user:pass", "Basic dXNlcjpwYXNz"},
		{"Aladdin:open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}, // RFC 7617 section 2
		{"u:p@ss:w", "Basic dTpwQHNzOnc="},
		{"", "Basic "},
	}
	for _, tt := range tests {
		got := basicAuth(tt.in)
		if got.Name != "Authorization" || got.Value != tt.want {
			t.Errorf("basicAuth(%q) = %q: %q, want Authorization: %q", tt.in, got.Name, got.Value, tt.want)
		}
	}
}

// writeCert writes a self-signed certificate and its key as PEM files in
// dir and returns their paths.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wscope test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSOptionsConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	writeFile(t, notPEM, "this is not a certificate\n")
	missing := filepath.Join(dir, "missing.pem")

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		c, err := (&tlsOptions{}).config()
		if c != nil || err != nil {
			t.Errorf("config() = %v, %v; want nil, nil (the defaults)", c, err)
		}
	})
	t.Run("insecure only", func(t *testing.T) {
		t.Parallel()
		c, err := (&tlsOptions{Insecure: true}).config()
		if err != nil {
			t.Fatal(err)
		}
		if !c.InsecureSkipVerify || c.RootCAs != nil || len(c.Certificates) != 0 {
			t.Errorf("config() = %+v, want only InsecureSkipVerify", c)
		}
	})
	t.Run("ca", func(t *testing.T) {
		t.Parallel()
		c, err := (&tlsOptions{CAFile: certFile}).config()
		if err != nil {
			t.Fatal(err)
		}
		if c.InsecureSkipVerify || c.RootCAs == nil {
			t.Errorf("config() = %+v, want RootCAs and verification", c)
		}
	})
	t.Run("cert and key", func(t *testing.T) {
		t.Parallel()
		c, err := (&tlsOptions{CertFile: certFile, KeyFile: keyFile}).config()
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Certificates) != 1 || c.RootCAs != nil {
			t.Errorf("config() = %+v, want one client certificate", c)
		}
	})
	bad := []struct {
		name string
		opts tlsOptions
		subs []string
	}{
		{"ca missing file", tlsOptions{CAFile: missing}, []string{"--ca", "missing.pem"}},
		{"ca not PEM", tlsOptions{CAFile: notPEM}, []string{"--ca", "no PEM certificate", notPEM}},
		{"ca is a directory", tlsOptions{CAFile: dir}, []string{"--ca"}},
		{"cert without key", tlsOptions{CertFile: certFile}, []string{"--cert and --key go together"}},
		{"key without cert", tlsOptions{KeyFile: keyFile}, []string{"--cert and --key go together"}},
		{"key without cert, insecure", tlsOptions{Insecure: true, KeyFile: keyFile}, []string{"--cert and --key go together"}},
		{"cert missing file", tlsOptions{CertFile: missing, KeyFile: keyFile}, []string{"--cert/--key", "missing.pem"}},
		{"cert not PEM", tlsOptions{CertFile: notPEM, KeyFile: keyFile}, []string{"--cert/--key"}},
		{"key does not match", tlsOptions{CertFile: certFile, KeyFile: certFile}, []string{"--cert/--key"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.opts.config()
			if c != nil {
				t.Errorf("config() returned %+v with the error", c)
			}
			wantUsage(t, err, tt.subs...)
		})
	}
}
