package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// startServer serves one connection on a loopback listener.
func startServer(t *testing.T) (addr string, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			ch <- err
			return
		}
		ch <- serve(conn, 4096, 1<<20)
	}()
	return ln.Addr().String(), ch
}

func clientFrame(t *testing.T, op ws.OpCode, fin bool, payload []byte) []byte {
	t.Helper()
	p := bytes.Clone(payload)
	mask := ws.NewMask()
	ws.Cipher(p, mask, 0)
	var b bytes.Buffer
	err := ws.WriteHeader(&b, ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: mask, Length: int64(len(p))})
	if err != nil {
		t.Fatal(err)
	}
	b.Write(p)
	return b.Bytes()
}

// TestFramesBehindRequest sends the upgrade request and frames in a single
// write, without waiting for the 101 response: none may be lost.
func TestFramesBehindRequest(t *testing.T) {
	addr, done := startServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))

	var out bytes.Buffer
	out.WriteString("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 bytes, bigger than the buffers
	out.Write(clientFrame(t, ws.OpText, true, []byte("first")))
	out.Write(clientFrame(t, ws.OpBinary, true, []byte{0, 1, 2}))
	out.Write(clientFrame(t, ws.OpText, false, []byte("frag")))
	out.Write(clientFrame(t, ws.OpPing, true, []byte("ping")))
	out.Write(clientFrame(t, ws.OpContinuation, true, []byte("ment")))
	out.Write(clientFrame(t, ws.OpText, true, big))
	out.Write(clientFrame(t, ws.OpText, true, nil))
	out.Write(clientFrame(t, ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))
	go conn.Write(out.Bytes())

	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, " 101 ") {
		t.Fatalf(
			"status line %q, want 101",
			status,
		)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}

	want := []struct {
		op      ws.OpCode
		fin     bool
		payload []byte
	}{
		{ws.OpText, true, []byte("first")},
		{ws.OpBinary, true, []byte{0, 1, 2}},
		{ws.OpText, false, []byte("frag")},
		{ws.OpPong, true, []byte("ping")},
		{ws.OpContinuation, true, []byte("ment")},
		{ws.OpText, true, big},
		{ws.OpText, true, []byte{}},
		{ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")},
	}
	for i, w := range want {
		h, err := ws.ReadHeader(br)
		if err != nil {
			t.Fatalf(
				"frame %d: %v",
				i, err,
			)
		}
		p := make([]byte, h.Length)
		_, err = io.ReadFull(br, p)
		if err != nil {
			t.Fatalf(
				"frame %d payload: %v",
				i, err,
			)
		}
		if h.Masked || h.OpCode != w.op || h.Fin != w.fin || !bytes.Equal(p, w.payload) {
			t.Fatalf(
				"frame %d: got op %v fin %v masked %v %d bytes, want op %v fin %v %d bytes",
				i, h.OpCode, h.Fin, h.Masked, len(p), w.op, w.fin, len(w.payload),
			)
		}
	}
	// After the close frame the server closes TCP.
	_, err = br.ReadByte()
	if err != io.EOF {
		t.Fatalf(
			"after close: %v, want EOF",
			err,
		)
	}
	err = <-done
	if err != nil {
		t.Fatalf(
			"serve: %v",
			err,
		)
	}
}

func TestFrameTooBig(t *testing.T) {
	addr, done := startServer(t)
	conn, br, _, err := ws.Dial(t.Context(), "ws://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if br == nil {
		br = bufio.NewReader(conn)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	mask := ws.NewMask()
	err = ws.WriteHeader(conn, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: mask, Length: 1<<20 + 1})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ws.ReadHeader(br)
	if err != nil || h.Length > 125 {
		t.Fatalf("header %+v, %v", h, err)
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	code, _ := ws.ParseCloseFrameData(payload)
	if h.OpCode != ws.OpClose || code != ws.StatusMessageTooBig {
		t.Fatalf("got op %v code %d, want close 1009", h.OpCode, code)
	}
	if <-done == nil {
		t.Fatal("serve returned no error for an oversized frame")
	}
}
