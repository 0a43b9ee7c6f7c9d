package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/wscope/wscope/internal/wire"
)

// serverTLSOptions are the TLS flags of the servers (listen, proxy's
// listening side).
type serverTLSOptions struct {
	CertFile   string
	KeyFile    string
	SelfSigned bool
	ClientCA   string
	ClientCert string
}

// Values of --client-cert.
const (
	clientCertRequire  = "require"
	clientCertOptional = "optional"
)

func (o *serverTLSOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.CertFile, "tls-cert", "", "serve wss with this PEM certificate `file` (with --tls-key)")
	fs.StringVar(&o.KeyFile, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.BoolVar(&o.SelfSigned, "tls-self-signed", false, "serve wss with an ephemeral self-signed certificate (its SHA-256 fingerprint is printed)")
	fs.StringVar(&o.ClientCA, "client-ca", "", "ask clients for a certificate and verify it against the CA certificates in this PEM `file` (mutual TLS; needs --tls-cert or --tls-self-signed)")
	fs.StringVar(&o.ClientCert, "client-cert", "", "how --client-ca treats a client: `require` (the default: one without a valid certificate fails the TLS handshake) or optional (it may present none; one it presents must verify)")
}

// config returns the server TLS configuration, or nil for plain ws. It
// prints the fingerprint of a self-signed certificate on errOut.
func (o *serverTLSOptions) config(errOut io.Writer, keylog io.Writer) (*tls.Config, error) {
	var conf *tls.Config
	switch {
	case o.SelfSigned && (o.CertFile != "" || o.KeyFile != ""):
		return nil, usageErr("--tls-self-signed and --tls-cert exclude each other")
	case (o.CertFile == "") != (o.KeyFile == ""):
		return nil, usageErr("--tls-cert and --tls-key go together")
	case o.SelfSigned:
		cert, err := selfSigned()
		if err != nil {
			return nil, exitf(ExitRuntime, "making a certificate: %v", err)
		}
		fmt.Fprintf(errOut, "TLS: self-signed certificate for localhost, 127.0.0.1 and ::1, valid 24h; SHA-256 fingerprint %s\n", wire.Fingerprint(cert.Certificate[0]))
		conf = &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: keylog}
	case o.CertFile != "":
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, usageErr("--tls-cert/--tls-key: %v", err)
		}
		conf = &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: keylog}
	}
	if err := o.clientAuth(conf); err != nil {
		return nil, err
	}
	return conf, nil
}

// clientAuth sets up mutual TLS on conf from --client-ca and
// --client-cert.
func (o *serverTLSOptions) clientAuth(conf *tls.Config) error {
	switch {
	case o.ClientCA == "" && o.ClientCert != "":
		return usageErr("--client-cert needs --client-ca FILE")
	case o.ClientCA == "":
		return nil
	case conf == nil:
		return usageErr("--client-ca needs wss: --tls-cert FILE --tls-key FILE, or --tls-self-signed")
	}
	switch o.ClientCert {
	case "", clientCertRequire:
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	case clientCertOptional:
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		return usageErr("--client-cert: want require or optional, not %q", o.ClientCert)
	}
	pem, err := os.ReadFile(o.ClientCA)
	if err != nil {
		return usageErr("--client-ca: %v", err)
	}
	conf.ClientCAs = x509.NewCertPool()
	if !conf.ClientCAs.AppendCertsFromPEM(pem) {
		return usageErr("--client-ca: no PEM certificate in %s", o.ClientCA)
	}
	return nil
}

// selfSigned makes an ECDSA P-256 certificate for the loopback names.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "wscope listen"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// keyLog opens the --keylog file, or $SSLKEYLOGFILE, for appending TLS
// secrets in the NSS key log format Wireshark reads. nil when neither.
func keyLog(path string) (*os.File, error) {
	if path == "" {
		path = os.Getenv("SSLKEYLOGFILE")
	}
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, usageErr("--keylog: %v", err)
	}
	return f, nil
}
