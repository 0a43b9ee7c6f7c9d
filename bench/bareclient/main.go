// Command bareclient is the "engine ceiling" of the wscope side-by-side
// benchmark (see docs/benchmarks.md): the least a pipe-mode WebSocket client
// on github.com/gobwas/ws has to do, with nothing else around it.
//
// It does what `wscope connect URL < in > out` does in its default text
// output mode, and no more: every stdin line (without its '\n') is sent as
// one masked text frame, every data message received is written to stdout
// followed by '\n'; at stdin EOF it sends a close frame (1000) and keeps
// reading until the server's close frame arrives, then exits 0.
//
//   - One goroutine reads stdin and writes frames through a large buffered
//     writer, flushing only when stdin has nothing more buffered (so a pipe
//     of many small lines goes out in large TCP writes, an interactive line
//     goes out at once). The payload is masked in place, no per-message
//     allocation.
//   - The main goroutine reads frames through a large buffered reader and
//     writes the payloads to a buffered stdout, flushed when the connection
//     has nothing more buffered.
//
// Exit status: 0 after a completed close handshake, 1 on errors, 3 when the
// connection cannot be made, 4 when the connection ends without a close
// frame. The number of messages sent and received is printed to stderr.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gobwas/ws"
)

func main() {
	bufSize := flag.Int("buf", 256<<10, "socket, stdin and stdout buffer size, bytes")
	binary := flag.Bool("binary", false, "send binary frames instead of text frames")
	quiet := flag.Bool("q", false, "do not print the message counts to stderr")
	discard := flag.Bool("discard", false, "count received messages but do not write them to stdout")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bareclient [flags] ws://host:port/path < input > output\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	code := run(flag.Arg(0), *bufSize, *binary, *discard, *quiet)
	os.Exit(code)
}

func run(url string, bufSize int, binary, discard, quiet bool) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d := ws.Dialer{ReadBufferSize: bufSize, WriteBufferSize: 4096}
	conn, hsbr, _, err := d.Dial(ctx, url)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bareclient: %v\n", err)
		return 3
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}

	// Bytes the server sent right behind its 101 response are in hsbr.
	var src io.Reader = conn
	if hsbr != nil {
		src = io.MultiReader(hsbr, conn)
	}
	br := bufio.NewReaderSize(src, bufSize)

	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}

	sent := make(chan sendResult, 1)
	go func() {
		n, err := send(conn, bufSize, op)
		sent <- sendResult{n, err}
	}()

	var out *bufio.Writer
	if !discard {
		out = bufio.NewWriterSize(os.Stdout, bufSize)
	}
	received, closed, rerr := receive(br, out)
	if out != nil {
		ferr := out.Flush()
		if rerr == nil && ferr != nil {
			rerr = ferr
		}
	}

	var sr sendResult
	select {
	case sr = <-sent:
	case <-time.After(time.Second):
		sr.err = errors.New("sender did not finish")
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "bareclient: sent %d messages, received %d\n", sr.n, received)
	}
	switch {
	case rerr != nil:
		fmt.Fprintf(os.Stderr, "bareclient: %v\n", rerr)
		if !closed {
			return 4
		}
		return 1
	case sr.err != nil:
		fmt.Fprintf(os.Stderr, "bareclient: send: %v\n", sr.err)
		return 1
	}
	return 0
}

type sendResult struct {
	n   int
	err error
}

// send writes one masked frame per stdin line, then a close frame.
func send(conn net.Conn, bufSize int, op ws.OpCode) (int, error) {
	in := bufio.NewReaderSize(os.Stdin, bufSize)
	bw := bufio.NewWriterSize(conn, bufSize)
	hbuf := make([]byte, ws.MaxHeaderSize)
	rng := rand.NewPCG(rand.Uint64(), rand.Uint64())
	var long []byte // a line longer than the stdin buffer is assembled here
	n := 0
	for {
		line, err := in.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = in.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return n, err
		}
		if len(line) > 0 {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			var mask [4]byte
			m := rng.Uint64()
			mask[0], mask[1], mask[2], mask[3] = byte(m), byte(m>>8), byte(m>>16), byte(m>>24)
			// The line is ours until the next ReadSlice: mask it in place.
			ws.Cipher(line, mask, 0)
			h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: mask, Length: int64(len(line))}
			werr := ws.WriteHeaderBuffer(bw, h, hbuf)
			if werr == nil {
				_, werr = bw.Write(line)
			}
			if werr != nil {
				return n, werr
			}
			n++
		}
		if err == io.EOF {
			break
		}
		if in.Buffered() == 0 {
			// About to block on stdin: send what we have.
			err = bw.Flush()
			if err != nil {
				return n, err
			}
		}
	}

	body := ws.NewCloseFrameBody(ws.StatusNormalClosure, "")
	mask := ws.NewMask()
	ws.Cipher(body, mask, 0)
	h := ws.Header{Fin: true, OpCode: ws.OpClose, Masked: true, Mask: mask, Length: int64(len(body))}
	err := ws.WriteHeaderBuffer(bw, h, hbuf)
	if err == nil {
		_, err = bw.Write(body)
	}
	if err == nil {
		err = bw.Flush()
	}
	return n, err
}

// receive reads frames until the server's close frame. Data messages
// (reassembled if fragmented) are written to out, one per line.
func receive(br *bufio.Reader, out *bufio.Writer) (n int, closed bool, err error) {
	var (
		hbuf    = make([]byte, ws.MaxHeaderSize)
		payload = make([]byte, 64<<10)
		msg     []byte // fragments of a message being reassembled
		inMsg   bool
	)
	for {
		h, err := ws.ReadHeaderBuffer(br, hbuf)
		if err != nil {
			if err == io.EOF {
				err = errors.New("connection closed without a close frame")
			}
			return n, false, err
		}
		size := int(h.Length)
		if size > cap(payload) {
			payload = make([]byte, size)
		}
		p := payload[:size]
		_, err = io.ReadFull(br, p)
		if err != nil {
			return n, false, err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch {
		case h.OpCode == ws.OpClose:
			return n, true, nil
		case h.OpCode.IsControl():
			// Ping and pong are not answered: the benchmark server sends
			// neither.
			continue
		case h.OpCode == ws.OpContinuation || !h.Fin:
			if h.OpCode != ws.OpContinuation {
				msg, inMsg = msg[:0], true
			}
			if !inMsg {
				return n, false, errors.New("continuation frame outside a message")
			}
			msg = append(msg, p...)
			if !h.Fin {
				continue
			}
			p, inMsg = msg, false
		}
		n++
		if out != nil {
			_, err = out.Write(p)
			if err == nil {
				err = out.WriteByte('\n')
			}
			if err == nil && br.Buffered() == 0 {
				err = out.Flush()
			}
			if err != nil {
				return n, false, err
			}
		}
	}
}
