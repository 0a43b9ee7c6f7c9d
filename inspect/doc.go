// Package inspect is wscope's dissector and domain model: the events a
// WebSocket session is made of, the frames as they are on the wire, the
// RFC 6455 rules they can break, and views of their payloads.
//
// It is pure: no sockets, no goroutines, no terminal. Live connections
// (internal/wire), recordings (internal/record) and captures all feed the
// same types, so every view works on all of them.
package inspect
