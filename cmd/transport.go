package cmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"

	"github.com/spf13/pflag"

	"github.com/wscope/wscope/internal/wire"
)

// transportOptions say how to reach a server: through a proxy, or over a
// unix socket.
type transportOptions struct {
	Proxy   string
	NoProxy bool
	Unix    string
}

func (o *transportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Proxy, "proxy", "", "reach the server through this proxy: http://, https://, socks5:// or socks5h://, with user:pass@ if needed (default: HTTP_PROXY/HTTPS_PROXY/NO_PROXY)")
	fs.BoolVar(&o.NoProxy, "no-proxy", false, "ignore HTTP_PROXY and HTTPS_PROXY")
	fs.StringVar(&o.Unix, "unix", "", "connect to this unix socket `PATH` instead of the URL's host (the URL still gives the Host header and path)")
}

// netDial returns the NetDial for u, or nil for a direct TCP connection.
// It says on errOut which proxy it uses.
func (o *transportOptions) netDial(u *url.URL, tlsConf *tls.Config, errOut io.Writer) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	if o.Unix != "" {
		if o.Proxy != "" {
			return nil, usageErr("--unix and --proxy exclude each other")
		}
		if _, err := os.Stat(o.Unix); err != nil {
			return nil, usageErr("--unix: %v", err)
		}
		var d net.Dialer
		return func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", o.Unix)
		}, nil
	}
	var p *url.URL
	switch {
	case o.Proxy != "":
		var err error
		if p, err = url.Parse(o.Proxy); err != nil || p.Host == "" {
			return nil, usageErr("--proxy %q: want a URL like http://host:3128 or socks5://user:pass@host:1080", o.Proxy)
		}
	case !o.NoProxy:
		var err error
		if p, err = wire.ProxyFromEnvironment(u); err != nil {
			return nil, usageErr("%v", err)
		}
	}
	if p == nil {
		return nil, nil
	}
	nd, err := wire.ProxyDial(p, tlsConf)
	if err != nil {
		return nil, usageErr("--proxy: %v", err)
	}
	shown := *p
	shown.User = nil // never print credentials
	fmt.Fprintf(errOut, "wscope: using proxy %s\n", shown.String())
	return nd, nil
}
