package wire

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"

	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
	xproxy "golang.org/x/net/proxy"
)

// ProxyFromEnvironment returns the proxy HTTP_PROXY, HTTPS_PROXY and
// NO_PROXY (or their lower-case forms) choose for a ws or wss URL, or nil
// for none. gobwas/ws ignores these variables; browsers and curl do not.
func ProxyFromEnvironment(u *url.URL) (*url.URL, error) {
	target := *u
	target.Scheme = "http"
	if u.Scheme == "wss" {
		target.Scheme = "https"
	}
	// Read afresh each time: no caching, so tests can set the variables.
	p, err := httpproxy.FromEnvironment().ProxyFunc()(&target)
	if err != nil {
		return nil, fmt.Errorf("proxy from the environment: %v", err)
	}
	return p, nil
}

// ProxyDial returns a NetDial for DialOptions that reaches each address
// through the proxy p: http:// and https:// proxies with CONNECT,
// socks5:// (the client resolves names) and socks5h:// (the proxy does),
// with the credentials of p's user info. tlsConf is used to reach an
// https:// proxy (nil: system roots). A refusal is a *ConnectError with
// stage "proxy".
func ProxyDial(p *url.URL, tlsConf *tls.Config) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	var d net.Dialer
	switch p.Scheme {
	case "http", "https":
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			return connectThrough(ctx, &d, p, tlsConf, addr)
		}, nil
	case "socks5", "socks5h":
		var auth *xproxy.Auth
		if p.User != nil {
			pass, _ := p.User.Password()
			auth = &xproxy.Auth{User: p.User.Username(), Password: pass}
		}
		s, err := xproxy.SOCKS5("tcp", proxyAddr(p), auth, &d)
		if err != nil {
			return nil, err
		}
		cd := s.(xproxy.ContextDialer)
		local := p.Scheme == "socks5"
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			if local {
				// socks5://: names are resolved here, as curl does.
				host, port, _ := net.SplitHostPort(addr)
				if net.ParseIP(host) == nil {
					ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
					if err != nil || len(ips) == 0 {
						return nil, &ConnectError{Stage: "dns", Err: fmt.Errorf("could not resolve %s: %v", host, err)}
					}
					addr = net.JoinHostPort(ips[0].IP.String(), port)
				}
			}
			c, err := cd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("SOCKS5 proxy %s could not reach %s: %v", p.Host, addr, err)}
			}
			return c, nil
		}, nil
	}
	return nil, fmt.Errorf("unsupported proxy scheme %q (want http, https, socks5 or socks5h)", p.Scheme)
}

func proxyAddr(p *url.URL) string {
	if p.Port() != "" {
		return p.Host
	}
	port := map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[p.Scheme]
	return net.JoinHostPort(p.Hostname(), port)
}

// connectThrough opens a tunnel to addr with HTTP CONNECT (RFC 9110
// section 9.3.6).
func connectThrough(ctx context.Context, d *net.Dialer, p *url.URL, tlsConf *tls.Config, addr string) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", proxyAddr(p))
	if err != nil {
		return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("could not connect to proxy %s: %v", p.Host, err)}
	}
	if p.Scheme == "https" {
		conf := tlsConf.Clone()
		if conf == nil {
			conf = &tls.Config{}
		}
		conf.ServerName = p.Hostname()
		tc := tls.Client(c, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("TLS with proxy %s failed: %v", p.Host, err)}
		}
		c = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	var req strings.Builder
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", addr, addr)
	if p.User != nil {
		pass, _ := p.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(p.User.Username() + ":" + pass))
		fmt.Fprintf(&req, "Proxy-Authorization: Basic %s\r\n", cred)
	}
	req.WriteString("\r\n")
	if _, err := c.Write([]byte(req.String())); err != nil {
		c.Close()
		return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("proxy %s: %v", p.Host, err)}
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("proxy %s sent no valid answer to CONNECT: %v", p.Host, err)}
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, &ConnectError{Stage: "proxy", Err: fmt.Errorf("proxy %s refused CONNECT %s: %s", p.Host, addr, resp.Status)}
	}
	if br.Buffered() > 0 {
		// The tunnel's first bytes came with the answer: keep them.
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// bufferedConn reads what a bufio.Reader already holds before the conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
