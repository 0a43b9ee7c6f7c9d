package wire

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

// testProxy is an HTTP CONNECT proxy on loopback. When auth is set, it
// wants those Basic credentials; refuse makes it answer 403.
type testProxy struct {
	url      *url.URL
	connects atomic.Int32
}

func newHTTPProxy(t *testing.T, auth string, refuse bool) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &testProxy{url: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
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

func (p *testProxy) serve(c net.Conn, auth string, refuse bool) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(step))
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
	up, err := net.DialTimeout("tcp", req.Host, step)
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

// newSOCKS5Proxy is a SOCKS5 proxy (RFC 1928, username/password RFC 1929)
// on loopback that records the address it was asked for.
func newSOCKS5Proxy(t *testing.T, user, pass string) (*url.URL, <-chan string) {
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
				c.SetDeadline(time.Now().Add(step))
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
				if host == "localhost" {
					addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(binary.BigEndian.Uint16(portb))))
				}
				up, err := net.DialTimeout("tcp", addr, step)
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

// dialVia connects to an independent echo server through proxy and checks
// a message round trip.
func dialVia(t *testing.T, proxy *url.URL, target string) error {
	t.Helper()
	nd, err := ProxyDial(proxy, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := ParseURL(target)
	got := make(chan string, 1)
	c, _, err := Dial(context.Background(), DialOptions{URL: u, Timeout: step, NetDial: nd}, Config{OnEvent: func(e *inspect.Event) {
		if e.Kind == inspect.KindMsg && e.Msg.Dir == inspect.ServerToClient {
			got <- string(e.Msg.Payload)
		}
	}})
	if err != nil {
		return err
	}
	defer c.Abort()
	go c.Run()
	c.Send(inspect.OpText, []byte("through the proxy"))
	select {
	case m := <-got:
		if m != "through the proxy" {
			t.Errorf("echo %q", m)
		}
	case <-time.After(step):
		t.Error("no echo through the proxy")
	}
	return nil
}

func TestDialThroughHTTPProxy(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p := newHTTPProxy(t, "", false)
	if err := dialVia(t, p.url, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if p.connects.Load() != 1 {
		t.Errorf("%d CONNECTs", p.connects.Load())
	}

	// Credentials: right ones pass, wrong ones are a proxy refusal.
	authed := newHTTPProxy(t, "ann:pw", false)
	withCreds := *authed.url
	withCreds.User = url.UserPassword("ann", "pw")
	if err := dialVia(t, &withCreds, srv.URL()); err != nil {
		t.Fatal(err)
	}
	var ce *ConnectError
	if err := dialVia(t, authed.url, srv.URL()); !errors.As(err, &ce) || ce.Stage != "proxy" {
		t.Errorf("no credentials: %v", err)
	} else if want := "407 Proxy Authentication Required"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}

	refusing := newHTTPProxy(t, "", true)
	if err := dialVia(t, refusing.url, srv.URL()); !errors.As(err, &ce) || !strings.Contains(err.Error(), "refused CONNECT") {
		t.Errorf("refusing proxy: %v", err)
	}
}

func TestDialThroughSOCKS5(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, asked := newSOCKS5Proxy(t, "bob", "secret")
	if err := dialVia(t, p, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if a := <-asked; a != srv.Addr() {
		t.Errorf("proxy was asked for %s", a)
	}
	// socks5h: the proxy resolves the name.
	ph := *p
	ph.Scheme = "socks5h"
	_, port, _ := net.SplitHostPort(srv.Addr())
	if err := dialVia(t, &ph, "ws://localhost:"+port+"/"); err != nil {
		t.Fatal(err)
	}
	if a := <-asked; a != "localhost:"+port {
		t.Errorf("socks5h sent %s, want the name", a)
	}
	bad := *p
	bad.User = url.UserPassword("bob", "wrong")
	var ce *ConnectError
	if err := dialVia(t, &bad, srv.URL()); !errors.As(err, &ce) || ce.Stage != "proxy" {
		t.Errorf("wrong password: %v", err)
	}
}

func TestProxyFromEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.test:3128")
	t.Setenv("HTTPS_PROXY", "socks5://socks.test:1080")
	t.Setenv("NO_PROXY", "internal.test")
	for in, want := range map[string]string{
		"ws://api.example.test/":   "http://proxy.test:3128",
		"wss://api.example.test/":  "socks5://socks.test:1080",
		"ws://internal.test/":      "",
		"ws://127.0.0.1:8080/":     "", // loopback is never proxied
		"wss://localhost:8443/abc": "",
	} {
		u, _ := ParseURL(in)
		p, err := ProxyFromEnvironment(u)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if p != nil {
			got = p.String()
		}
		if got != want {
			t.Errorf("%s: proxy %q, want %q", in, got, want)
		}
	}
	if _, err := ProxyDial(&url.URL{Scheme: "ftp", Host: "x"}, nil); err == nil {
		t.Error("ftp proxy accepted")
	}
}
