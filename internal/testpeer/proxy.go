package testpeer

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// HTTPProxy is an HTTP CONNECT proxy on loopback, for testing clients
// that go through one.
type HTTPProxy struct {
	// URL is the proxy's address, http://127.0.0.1:PORT.
	URL      *url.URL
	connects atomic.Int32
}

// Connects returns how many CONNECT requests the proxy received.
func (p *HTTPProxy) Connects() int { return int(p.connects.Load()) }

// NewHTTPProxy starts an HTTP CONNECT proxy. When auth ("user:pass") is
// set it wants those Basic credentials (407 otherwise); refuse makes it
// answer every CONNECT with 403.
func NewHTTPProxy(t testing.TB, auth string, refuse bool) *HTTPProxy {
	return newHTTPProxy(t, auth, refuse, nil)
}

// NewHTTPSProxy is NewHTTPProxy reached over TLS with conf (an https://
// proxy), without credentials.
func NewHTTPSProxy(t testing.TB, conf *tls.Config) *HTTPProxy {
	return newHTTPProxy(t, "", false, conf)
}

func newHTTPProxy(t testing.TB, auth string, refuse bool, conf *tls.Config) *HTTPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &HTTPProxy{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
	if conf != nil {
		ln, p.URL.Scheme = tls.NewListener(ln, conf), "https"
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, auth, refuse)
		}
	}()
	return p
}

func (p *HTTPProxy) serve(c net.Conn, auth string, refuse bool) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(DefaultTimeout))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	p.connects.Add(1)
	switch {
	case refuse:
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	case auth != "" && req.Header.Get("Proxy-Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)):
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.DialTimeout("tcp", req.Host, DefaultTimeout)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	c.SetDeadline(time.Time{})
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	pipe(c, br, up)
}

// pipe copies both ways until either side ends.
func pipe(c net.Conn, r io.Reader, up net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, r); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// NewSOCKS5Proxy starts a SOCKS5 proxy (RFC 1928; username/password, RFC
// 1929, when user is set) on loopback. The channel receives each address
// it was asked to reach, as the client sent it. The names localhost and
// *.test resolve to 127.0.0.1, so tests can use names no DNS knows.
func NewSOCKS5Proxy(t testing.TB, user, pass string) (*url.URL, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	asked := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(DefaultTimeout))
				br := bufio.NewReader(c)
				hdr := make([]byte, 2)
				io.ReadFull(br, hdr)
				methods := make([]byte, hdr[1])
				io.ReadFull(br, methods)
				if user == "" {
					c.Write([]byte{5, 0})
				} else {
					c.Write([]byte{5, 2})
					v := make([]byte, 2)
					io.ReadFull(br, v)
					u := make([]byte, v[1])
					io.ReadFull(br, u)
					pl, _ := br.ReadByte()
					pw := make([]byte, pl)
					io.ReadFull(br, pw)
					if string(u) != user || string(pw) != pass {
						c.Write([]byte{1, 1})
						return
					}
					c.Write([]byte{1, 0})
				}
				req := make([]byte, 4)
				io.ReadFull(br, req)
				var host string
				switch req[3] {
				case 1:
					ip := make([]byte, 4)
					io.ReadFull(br, ip)
					host = net.IP(ip).String()
				case 3:
					l, _ := br.ReadByte()
					name := make([]byte, l)
					io.ReadFull(br, name)
					host = string(name)
				case 4:
					ip := make([]byte, 16)
					io.ReadFull(br, ip)
					host = net.IP(ip).String()
				}
				portb := make([]byte, 2)
				io.ReadFull(br, portb)
				addr := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(portb))))
				asked <- addr
				if host == "localhost" || strings.HasSuffix(host, ".test") {
					addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(binary.BigEndian.Uint16(portb))))
				}
				up, err := net.DialTimeout("tcp", addr, DefaultTimeout)
				if err != nil {
					c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
					return
				}
				defer up.Close()
				c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				c.SetDeadline(time.Time{})
				pipe(c, br, up)
			}()
		}
	}()
	u := &url.URL{Scheme: "socks5", Host: ln.Addr().String()}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u, asked
}
