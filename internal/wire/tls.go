package wire

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"strings"

	"github.com/wscope/wscope/inspect"
)

// ConnTLS describes the TLS session under nc, the server's side of an
// accepted connection, or returns nil when nc is not TLS (a server's open
// event: Accept sees the connection after the listener's TLS handshake).
// The client's certificate, when it presented one, is in the Client
// fields.
func ConnTLS(nc net.Conn) *inspect.TLSInfo {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return AddClientCert(tlsInfo(tc.ConnectionState()), nc)
}

// AddClientCert sets t's Client fields from the certificate the client
// presented on nc, the server's side of a TLS connection, allocating t
// when it is nil. It returns t unchanged when nc is not TLS or the client
// presented no certificate.
func AddClientCert(t *inspect.TLSInfo, nc net.Conn) *inspect.TLSInfo {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return t
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return t
	}
	if t == nil {
		t = &inspect.TLSInfo{}
	}
	c := st.PeerCertificates[0]
	t.ClientSubject = c.Subject.String()
	t.ClientIssuer = c.Issuer.String()
	t.ClientSHA256 = Fingerprint(c.Raw)
	return t
}

// Fingerprint is the SHA-256 fingerprint of a certificate's DER bytes as
// openssl and browsers show it: upper-case hex pairs joined by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
