package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// serverTLSOptions are listen's TLS flags.
type serverTLSOptions struct {
	CertFile   string
	KeyFile    string
	SelfSigned bool
}

func (o *serverTLSOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.CertFile, "tls-cert", "", "serve wss with this PEM certificate `file` (with --tls-key)")
	fs.StringVar(&o.KeyFile, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.BoolVar(&o.SelfSigned, "tls-self-signed", false, "serve wss with an ephemeral self-signed certificate (its SHA-256 fingerprint is printed)")
}

// config returns the server TLS configuration, or nil for plain ws. It
// prints the fingerprint of a self-signed certificate on errOut.
func (o *serverTLSOptions) config(errOut io.Writer, keylog io.Writer) (*tls.Config, error) {
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
		sum := sha256.Sum256(cert.Certificate[0])
		fmt.Fprintf(errOut, "TLS: self-signed certificate for localhost, 127.0.0.1 and ::1, valid 24h; SHA-256 fingerprint %s\n", fingerprint(sum[:]))
		return &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: keylog}, nil
	case o.CertFile != "":
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, usageErr("--tls-cert/--tls-key: %v", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: keylog}, nil
	}
	return nil, nil
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

func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
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
