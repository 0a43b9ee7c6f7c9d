// Package testpeer holds WebSocket peers for wscope's tests: peers that are
// not wscope, so that a bug in wscope cannot hide behind the same bug on the
// other end, and peers that misbehave on purpose.
//
// It is test support: import it only from _test.go files.
//
// Three kinds of peer are provided:
//
//   - [Server]: a WebSocket server built on github.com/coder/websocket
//     (echo, subprotocols, refusals, slow handshakes, server-initiated
//     closes, fragmented echoes, frames right behind the 101). It also taps
//     the TCP stream and parses the client's frames itself, so a test can
//     check what wscope put on the wire ([Server.Frames]).
//   - [Client]: a WebSocket client built on github.com/gorilla/websocket,
//     to drive `wscope listen` and the proxy.
//   - [RawConn], from [NewRawServer] or [DialRaw]: a hand-driven peer that
//     reads and writes the upgrade and the frames itself, for crafted and
//     invalid traffic.
//
// Everything listens on 127.0.0.1 port 0, every wait is bounded, and every
// socket and goroutine is released through t.Cleanup. Functions that take a
// testing.TB and fail the test must be called from the test goroutine;
// methods that return an error are safe in any goroutine (a RawServer
// handler, for instance).
package testpeer

import "time"

// DefaultTimeout bounds every wait that the caller does not bound itself:
// handshakes, writes, the reading of a request head, and the wait for
// goroutines at cleanup.
const DefaultTimeout = 5 * time.Second
