package wire

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wscope/wscope/inspect"
	tp "github.com/wscope/wscope/internal/testpeer"
)

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
	p := tp.NewHTTPProxy(t, "", false)
	if err := dialVia(t, p.URL, srv.URL()); err != nil {
		t.Fatal(err)
	}
	if p.Connects() != 1 {
		t.Errorf("%d CONNECTs", p.Connects())
	}

	// Credentials: right ones pass, wrong ones are a proxy refusal.
	authed := tp.NewHTTPProxy(t, "ann:pw", false)
	withCreds := *authed.URL
	withCreds.User = url.UserPassword("ann", "pw")
	if err := dialVia(t, &withCreds, srv.URL()); err != nil {
		t.Fatal(err)
	}
	var ce *ConnectError
	if err := dialVia(t, authed.URL, srv.URL()); !errors.As(err, &ce) || ce.Stage != "proxy" {
		t.Errorf("no credentials: %v", err)
	} else if want := "407 Proxy Authentication Required"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}

	refusing := tp.NewHTTPProxy(t, "", true)
	if err := dialVia(t, refusing.URL, srv.URL()); !errors.As(err, &ce) || !strings.Contains(err.Error(), "refused CONNECT") {
		t.Errorf("refusing proxy: %v", err)
	}
}

func TestDialThroughSOCKS5(t *testing.T) {
	t.Parallel()
	srv := tp.NewServer(t, tp.ServerOptions{Echo: true})
	p, asked := tp.NewSOCKS5Proxy(t, "bob", "secret")
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
