package record

import (
	"bytes"
	"encoding/binary"
)

// Format is a kind of input wscope can read.
type Format int

// The formats Sniff tells apart.
const (
	FormatUnknown   Format = iota
	FormatRecording        // a wscope recording (.wsrec.jsonl)
	FormatHAR              // an HTTP Archive, as browsers export it
	FormatPcap             // a pcap or pcapng capture
)

func (f Format) String() string {
	switch f {
	case FormatRecording:
		return "recording"
	case FormatHAR:
		return "har"
	case FormatPcap:
		return "pcap"
	}
	return "unknown"
}

// SniffLen is how many leading bytes Sniff wants to see; fewer will do
// for pcap and usually for recordings.
const SniffLen = 4096

// Sniff guesses the format of an input from its first bytes (SniffLen is
// enough): the pcap magic numbers in either byte order (microsecond and
// nanosecond), the pcapng section header, a first line with "wsrec" (or,
// for a headerless event stream, "ev"), or a JSON object with "log".
func Sniff(head []byte) Format {
	if len(head) >= 4 {
		switch binary.BigEndian.Uint32(head) {
		case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
			return FormatPcap
		}
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return FormatUnknown
	}
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	switch {
	case bytes.Contains(first, []byte(`"wsrec"`)):
		return FormatRecording
	case bytes.Contains(head, []byte(`"log"`)):
		return FormatHAR
	case bytes.Contains(first, []byte(`"ev"`)):
		return FormatRecording
	}
	return FormatUnknown
}
