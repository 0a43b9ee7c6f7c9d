// Command echoserver is the WebSocket echo server of the wscope side-by-side
// benchmark (see docs/benchmarks.md). It is built on github.com/gobwas/ws and
// is meant to be fast enough never to be the bottleneck of a client:
//
//   - each frame is echoed with the same opcode, FIN and RSV bits, unmasked;
//   - reads and writes go through large buffers, and the writer is flushed
//     only when the read buffer is drained, not once per frame, so a
//     pipelining client gets its echoes back in big writes;
//   - the frame loop does not allocate per frame (one payload buffer, grown
//     to the largest frame seen);
//   - a ping is answered with a pong, a pong is ignored, a close frame is
//     echoed (completing the close handshake) and the TCP connection closed.
//
// It listens on -addr (default 127.0.0.1:0, any free port) and prints one
// line, the URL to connect to (ws://127.0.0.1:PORT/), on stdout once it is
// accepting connections. Errors go to stderr.
//
// The HTTP upgrade request is read by the server itself through the same
// bufio.Reader the frames are then read from, so frames a client sends right
// behind its request (without waiting for the 101 response) are not lost:
// ws.Upgrade only ever sees the request header bytes.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	bufSize := flag.Int("buf", 256<<10, "read and write buffer size per connection, bytes")
	maxFrame := flag.Int64("max-frame", 64<<20, "largest accepted frame payload, bytes (bigger: close 1009)")
	verbose := flag.Bool("v", false, "log every connection to stderr")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("echoserver: ")

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ws://%s/\n", ln.Addr())
	// Stdout may be a pipe the benchmark driver reads: nothing else is
	// written there.

	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ln.Close()
		os.Exit(0)
	}()

	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Print(err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func() {
			err := serve(conn, *bufSize, *maxFrame)
			if err != nil || *verbose {
				log.Printf("%s: %v", conn.RemoteAddr(), cmpErr(err))
			}
		}()
	}
}

func cmpErr(err error) any {
	if err == nil {
		return "closed cleanly"
	}
	return err
}

// readRequest reads the HTTP request header (up to and including the empty
// line) from br and returns its bytes. Whatever follows stays in br.
func readRequest(br *bufio.Reader) ([]byte, error) {
	var hdr []byte
	for {
		line, err := br.ReadSlice('\n')
		hdr = append(hdr, line...)
		if err != nil {
			return nil, err
		}
		if len(hdr) > 64<<10 {
			return nil, errors.New("request header larger than 64 KiB")
		}
		if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
			return hdr, nil
		}
	}
}

// errClosed reports a completed close handshake.
var errClosed = errors.New("close handshake done")

func serve(conn net.Conn, bufSize int, maxFrame int64) (err error) {
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}

	br := bufio.NewReaderSize(conn, bufSize)
	bw := bufio.NewWriterSize(conn, bufSize)

	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr, err := readRequest(br)
	if err != nil {
		return fmt.Errorf("reading upgrade request: %w", err)
	}
	_, err = ws.Upgrade(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(hdr), conn})
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	conn.SetReadDeadline(time.Time{})

	err = echo(br, bw, maxFrame)
	if errors.Is(err, errClosed) {
		return nil
	}
	return err
}

// echo runs the frame loop until the close handshake or an error.
func echo(br *bufio.Reader, bw *bufio.Writer, maxFrame int64) error {
	var (
		rhdr    = make([]byte, ws.MaxHeaderSize)
		whdr    = make([]byte, ws.MaxHeaderSize)
		payload = make([]byte, 64<<10)
	)
	for {
		h, err := ws.ReadHeaderBuffer(br, rhdr)
		if err != nil {
			if err == io.EOF {
				return errors.New("connection closed without a close frame")
			}
			return err
		}
		if h.Length > maxFrame {
			writeClose(bw, whdr, ws.StatusMessageTooBig)
			return fmt.Errorf("frame of %d bytes is over -max-frame %d", h.Length, maxFrame)
		}
		n := int(h.Length)
		if n > cap(payload) {
			payload = make([]byte, n)
		}
		p := payload[:n]
		_, err = io.ReadFull(br, p)
		if err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
			h.Masked = false
		}

		switch h.OpCode {
		case ws.OpPong:
			// Nothing to answer.
		case ws.OpPing:
			h.OpCode = ws.OpPong
			err = writeFrame(bw, whdr, h, p)
		case ws.OpClose:
			// Echo the close frame (its status code and reason) to complete
			// the handshake, then close the TCP connection.
			err = writeFrame(bw, whdr, h, p)
			if err == nil {
				err = bw.Flush()
			}
			if err == nil {
				err = errClosed
			}
			return err
		default:
			err = writeFrame(bw, whdr, h, p)
		}
		if err != nil {
			return err
		}
		// Flush only when there is nothing more to read right now: a client
		// that pipelines gets its echoes in large writes, a client that waits
		// for each answer still gets it at once.
		if br.Buffered() == 0 {
			err = bw.Flush()
			if err != nil {
				return err
			}
		}
	}
}

func writeFrame(bw *bufio.Writer, hbuf []byte, h ws.Header, p []byte) error {
	err := ws.WriteHeaderBuffer(bw, h, hbuf)
	if err != nil {
		return err
	}
	_, err = bw.Write(p)
	return err
}

func writeClose(bw *bufio.Writer, hbuf []byte, code ws.StatusCode) {
	var body [2]byte
	ws.PutCloseFrameBody(body[:], code, "")
	h := ws.Header{Fin: true, OpCode: ws.OpClose, Length: 2}
	if writeFrame(bw, hbuf, h, body[:]) == nil {
		bw.Flush()
	}
}
