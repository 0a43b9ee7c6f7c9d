// Command barerelay is the floor of the proxy benchmark (bench/proxy, see
// docs/benchmarks.md): the least a relay in a process of its own has to
// do, so that what `wscope proxy` costs can be told apart from what any
// proxy between two loopback connections costs on the same machine.
//
// It takes the arguments bench/proxy gives wscope proxy:
//
//	barerelay proxy --listen 127.0.0.1:0 --upstream ws://HOST:PORT/ --once [--frames]
//
// prints "relaying ws://ADDR to UPSTREAM" on stderr, accepts one client,
// passes its upgrade request to the upstream and the answer back byte for
// byte, then relays until both sides have closed, and exits 0.
//
//   - Without --frames it copies bytes (io.Copy, which splices between two
//     TCP connections on Linux): the cost of the two extra loopback hops
//     and the wake-ups of a process in the middle, nothing else.
//   - With --frames it relays frame by frame on github.com/gobwas/ws, as a
//     frame inspector must at the least: read each header and payload
//     through 256 KiB buffers, unmask the payload (to look at it), mask it
//     again, write the frame, flush when nothing more is buffered. No
//     checks, no reassembly, no output.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"

	"github.com/gobwas/ws"
)

const bufSize = 256 << 10

func main() {
	if len(os.Args) > 1 && os.Args[1] == "proxy" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "ws:// URL of the server")
	flag.Bool("once", true, "relay one client, then exit (always)")
	frames := flag.Bool("frames", false, "relay frame by frame (gobwas/ws) instead of copying bytes")
	flag.Parse()
	if err := run(*listen, *upstream, *frames); err != nil {
		fmt.Fprintln(os.Stderr, "barerelay:", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, frames bool) error {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		return fmt.Errorf("--upstream %q: want ws://HOST:PORT/", upstream)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "relaying ws://%s to %s\n", ln.Addr(), upstream)
	client, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	server, err := net.Dial("tcp", u.Host)
	if err != nil {
		return err
	}
	cbr, sbr := bufio.NewReaderSize(client, bufSize), bufio.NewReaderSize(server, bufSize)
	// The handshake passes as it is: request one way, answer the other.
	if err := passHead(server, cbr); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if err := passHead(client, sbr); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	relay := copyBytes
	if frames {
		relay = copyFrames
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, leg := range []struct {
		src *bufio.Reader
		dst net.Conn
	}{{cbr, server}, {sbr, client}} {
		wg.Go(func() {
			errs[i] = relay(leg.dst, leg.src)
			leg.dst.(*net.TCPConn).CloseWrite()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// passHead writes the HTTP head read from br (up to its blank line) to w.
func passHead(w io.Writer, br *bufio.Reader) error {
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		head = append(head, line...)
	}
	_, err := w.Write(head)
	return err
}

// copyBytes relays what is buffered, then the rest of the stream.
func copyBytes(dst net.Conn, src *bufio.Reader) error {
	if n := src.Buffered(); n > 0 {
		b, _ := src.Peek(n)
		if _, err := dst.Write(b); err != nil {
			return err
		}
		src.Discard(n)
	}
	_, err := io.Copy(dst, src)
	return err
}

// copyFrames relays frame by frame until the source ends.
func copyFrames(dst net.Conn, src *bufio.Reader) error {
	bw := bufio.NewWriterSize(dst, bufSize)
	payload := make([]byte, 0, bufSize)
	for {
		h, err := ws.ReadHeader(src)
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
		if uint64(cap(payload)) < uint64(h.Length) {
			payload = make([]byte, h.Length)
		}
		p := payload[:h.Length]
		if _, err := io.ReadFull(src, p); err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0) // what a view would read
			ws.Cipher(p, h.Mask, 0) // as it came, to send on
		}
		if err := ws.WriteHeader(bw, h); err != nil {
			return err
		}
		if _, err := bw.Write(p); err != nil {
			return err
		}
		if src.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
	}
}
