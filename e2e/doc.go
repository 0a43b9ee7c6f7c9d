// Package e2e runs the built wscope binary against independent WebSocket
// implementations and crafted peers, and checks what a user sees: bytes on
// the wire, stdout, stderr and the exit status.
package e2e
