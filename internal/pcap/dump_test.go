package pcap

import (
	"os"
	"testing"
)

// TestDump prints the events of a capture, for looking at one by hand:
//
//	PCAP_DUMP=/path/to/file.pcapng go test ./internal/pcap -run TestDump -v
func TestDump(t *testing.T) {
	f := os.Getenv("PCAP_DUMP")
	if f == "" {
		t.Skip()
	}
	for _, r := range collectFile(t, f) {
		s := r.json
		if len(s) > 300 {
			s = s[:300] + "..."
		}
		t.Log(s)
	}
}
