package wire

import (
	"crypto/tls"
	"net"

	"github.com/wscope/wscope/inspect"
)

// ConnTLS describes the TLS session under nc, or returns nil when nc is not
// TLS (a server's open event: Accept sees the connection after the
// listener's TLS handshake).
func ConnTLS(nc net.Conn) *inspect.TLSInfo {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return tlsInfo(tc.ConnectionState())
}
