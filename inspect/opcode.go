package inspect

import (
	"fmt"
	"strconv"
	"strings"
)

// Direction says which peer sent a frame.
type Direction uint8

// The two directions of a connection.
const (
	ClientToServer Direction = iota + 1
	ServerToClient
)

// String returns the recording spelling: "c2s" or "s2c".
func (d Direction) String() string {
	switch d {
	case ClientToServer:
		return "c2s"
	case ServerToClient:
		return "s2c"
	}
	return "?"
}

// Reverse returns the other direction.
func (d Direction) Reverse() Direction {
	if d == ClientToServer {
		return ServerToClient
	}
	return ClientToServer
}

// ParseDirection reads "c2s"/"s2c" (also "client"/"server", the sender).
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "c2s", "client":
		return ClientToServer, nil
	case "s2c", "server":
		return ServerToClient, nil
	}
	return 0, fmt.Errorf("unknown direction %q (want c2s or s2c)", s)
}

// OpCode is the 4-bit frame opcode (RFC 6455 section 5.2).
type OpCode uint8

// Opcodes defined by RFC 6455 section 5.2; the others are reserved.
const (
	OpContinuation OpCode = 0x0
	OpText         OpCode = 0x1
	OpBinary       OpCode = 0x2
	OpClose        OpCode = 0x8
	OpPing         OpCode = 0x9
	OpPong         OpCode = 0xA
)

var opNames = [16]string{
	"cont", "text", "binary", "0x3", "0x4", "0x5", "0x6", "0x7",
	"close", "ping", "pong", "0xB", "0xC", "0xD", "0xE", "0xF",
}

// String returns the recording spelling: cont, text, binary, close, ping,
// pong, or 0xN for a reserved opcode.
func (o OpCode) String() string { return opNames[o&0xF] }

// IsControl reports whether o is a control opcode (high bit set, section 5.5).
func (o OpCode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o starts or continues a data message.
func (o OpCode) IsData() bool { return o == OpText || o == OpBinary }

// IsReserved reports whether RFC 6455 leaves o undefined (3-7, B-F).
func (o OpCode) IsReserved() bool {
	return (o >= 0x3 && o <= 0x7) || o >= 0xB
}

// ParseOpCode reads an opcode name as String writes it, or a number
// ("0x3", "3").
func ParseOpCode(s string) (OpCode, error) {
	switch strings.ToLower(s) {
	case "cont", "continuation":
		return OpContinuation, nil
	case "text":
		return OpText, nil
	case "binary", "bin":
		return OpBinary, nil
	case "close":
		return OpClose, nil
	case "ping":
		return OpPing, nil
	case "pong":
		return OpPong, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil || n > 0xF {
		return 0, fmt.Errorf("unknown opcode %q (want cont, text, binary, close, ping, pong or 0x0-0xF)", s)
	}
	return OpCode(n), nil
}

// LengthEncoding is the form the payload length took in the header
// (section 5.2): 7 bits inline, a 16-bit or a 64-bit extension.
type LengthEncoding uint8

// The three length forms; the number is the bits used.
const (
	Len7  LengthEncoding = 7
	Len16 LengthEncoding = 16
	Len64 LengthEncoding = 64
)

// String returns "7", "16" or "64".
func (e LengthEncoding) String() string { return strconv.Itoa(int(e)) }

// MinimalLengthEncoding returns the form section 5.2 requires for n bytes.
func MinimalLengthEncoding(n uint64) LengthEncoding {
	switch {
	case n <= 125:
		return Len7
	case n <= 0xFFFF:
		return Len16
	}
	return Len64
}
