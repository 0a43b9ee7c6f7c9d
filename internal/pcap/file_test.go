package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/wscope/wscope/inspect"
)

func TestSniff(t *testing.T) {
	plain, _ := os.ReadFile("testdata/plain.pcap")
	ng, _ := os.ReadFile("testdata/deflate.pcapng")
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{plain[:4], true},
		{ng[:12], true},
		{ng[:4], true},
		{[]byte{0xa1, 0xb2, 0xc3, 0xd4}, true},
		{[]byte{0xa1, 0xb2, 0x3c, 0x4d}, true},
		{[]byte{0x4d, 0x3c, 0xb2, 0xa1}, true},
		{[]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0x1a, 0x2b, 0x3c, 0x4d}, true},
		{[]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 1, 2, 3, 4}, false},
		{[]byte(`{"wsrec":1}`), false},
		{[]byte("81 05 48 65"), false},
		{[]byte{0xa1, 0xb2}, false},
		{nil, false},
	} {
		if got := Sniff(tc.b); got != tc.want {
			t.Errorf("Sniff(%x) = %v", tc.b, got)
		}
	}
}

func readErr(b []byte) error {
	return Read(strings.NewReader(string(b)), Options{}, func(*inspect.Event) error { return nil })
}

func TestNotACapture(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "not a pcap or pcapng capture: the file is empty"},
		{"ab", "not a pcap or pcapng capture: the file has only 2 bytes"},
		{`{"wsrec":1,"created":"2024-01-01T00:00:00Z"}`, `not a pcap or pcapng capture (the file starts with 7b227773)`},
		{"\xd4\xc3\xb2\xa1\x02\x00", "pcap file header: the file ends after 6 of its 24 bytes"},
		{"\xd4\xc3\xb2\xa1\x01\x00\x04\x00" + strings.Repeat("\x00", 16), "pcap file header: unsupported version 1.4 (want 2.4)"},
		{"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x01\x02\x03\x04", "pcapng block 1: section header with an invalid byte-order magic 01020304"},
	} {
		err := readErr([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	f := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	pk := packets(linkEthernet, f.pkts...)
	t.Run("pcap-huge-record", func(t *testing.T) {
		b := pcapFile(binary.LittleEndian, false, linkEthernet, pk[:3])
		binary.LittleEndian.PutUint32(b[24+8:], 1<<30) // the first record's captured length
		if err := readErr(b); err == nil || err.Error() != "packet 1: captured length 1073741824 exceeds the limit of 262144 bytes (corrupt file?)" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("pcapng-bad-trailer", func(t *testing.T) {
		b := pcapngFile(binary.LittleEndian, linkEthernet, pk[:3])
		b[len(b)-1] ^= 0xff
		if err := readErr(b); err == nil || !strings.Contains(err.Error(), "trailing length") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("pcapng-huge-block", func(t *testing.T) {
		w := &ngWriter{}
		w.section(binary.LittleEndian)
		w.iface(linkEthernet, 0, 0)
		w.b = binary.LittleEndian.AppendUint32(w.b, blockEPB)
		w.b = binary.LittleEndian.AppendUint32(w.b, 1<<31)
		if err := readErr(w.b); err == nil || !strings.Contains(err.Error(), "pcapng block 3 (type 0x00000006): length 2147483648 exceeds the limit") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("pcapng-no-section-header", func(t *testing.T) {
		w := &ngWriter{order: binary.LittleEndian}
		w.section(binary.LittleEndian)
		b := w.b[28:] // drop the section header: an IDB first
		b = append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, b...)
		if err := readErr(b); err == nil {
			t.Error("no error")
		}
	})
}

// Cutting a capture anywhere never fails Read once the file header is
// whole: a record cut short is reported as an error event, and whatever
// came before it is dissected.
func TestTruncatedFiles(t *testing.T) {
	for _, name := range []string{"plain.pcap", "deflate.pcapng"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		header := 24
		if strings.HasSuffix(name, "ng") {
			header = 12
		}
		// Where records (pcap) or blocks (pcapng) end: a cut there is a
		// shorter file, not a cut record.
		ends := map[int]bool{}
		if header == 24 {
			ends[24] = true
		}
		start := 0 // pcapng: blocks from the start
		if header == 24 {
			start = 24 // pcap: records after the file header
		}
		for off := start; off < len(b); {
			if header == 24 {
				off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
			} else {
				off += int(binary.LittleEndian.Uint32(b[off+4:]))
			}
			ends[off] = true
		}
		full := collectFile(t, "testdata/"+name)
		step := 1
		for n := header; n < len(b); n += step {
			if n > 3000 {
				step = 7 // every byte of the first packets, then a sample
			}
			var recs []inspect.Kind
			cut := false
			err := Read(strings.NewReader(string(b[:n])), Options{}, func(e *inspect.Event) error {
				recs = append(recs, e.Kind)
				if e.Kind == inspect.KindError && strings.Contains(e.Text, "the capture was cut short") {
					cut = true
				}
				return nil
			})
			if err := withoutNoWebSocket(err); err != nil {
				t.Fatalf("%s cut at %d: %v", name, n, err)
			}
			if cut == ends[n] {
				t.Fatalf("%s cut at %d: warning %v", name, n, cut)
			}
			if len(recs) > len(full)+2 {
				t.Fatalf("%s cut at %d: %d events, the whole file has %d", name, n, len(recs), len(full))
			}
		}
	}
	// One example in full.
	b, _ := os.ReadFile("testdata/plain.pcap")
	recs, err := collect(t, b[:len(b)-10], Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(recs)
	// The last packet is the final ACK, after both FINs.
	if got[len(got)-2] != "2 end clean=true code=1000 closer=client tcp=fin" ||
		got[len(got)-1] != "0 error packet 65: the file ends inside the packet data (56 of 66 bytes): the capture was cut short" {
		t.Errorf("got %q", got[len(got)-2:])
	}
}

func TestEmitError(t *testing.T) {
	b, _ := os.ReadFile("testdata/plain.pcap")
	stop := errors.New("enough")
	n := 0
	err := Read(strings.NewReader(string(b)), Options{}, func(e *inspect.Event) error {
		n++
		if e.Kind == inspect.KindFrame {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("err %v after %d events", err, n)
	}
}

func TestPacketWarnings(t *testing.T) {
	// Undecodable packets are reported once per kind, then counted.
	f := basicSession("10.0.0.1:50000", "10.0.0.2:8080")
	pk := packets(linkEthernet, f.pkts...)
	bad := func(p rawPkt, n int) rawPkt {
		p.data = p.data[:n]
		return p
	}
	var all []rawPkt
	all = append(all, bad(pk[0], 10), bad(pk[1], 30), bad(pk[2], 40), bad(pk[2], 36))
	all = append(all, pk...)
	all = append(all, bad(pk[0], 10), bad(pk[0], 10))
	recs, err := collect(t, pcapFile(binary.LittleEndian, false, linkEthernet, all), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(recs)
	same(t, got[:3], []string{
		"0 error packet 1: truncated Ethernet header (10 bytes)",
		"0 error packet 2: truncated IPv4 header (16 bytes)",
		"0 error packet 3: truncated TCP header (6 bytes)",
	})
	same(t, got[3:4], []string{"0 error packet 4: truncated TCP header (2 bytes)"})
	same(t, got[4:4+len(basicWant)], basicWant)
	same(t, got[4+len(basicWant):], []string{"0 error 2 more packets skipped: truncated Ethernet header (10 bytes)"})

	t.Run("unsupported-link-type", func(t *testing.T) {
		recs, err := collect(t, pcapFile(binary.LittleEndian, false, 147, pk), Options{})
		if err != nil {
			t.Fatal(err)
		}
		same(t, summary(recs), []string{
			"0 error packet 1: unsupported link type 147",
			"0 error 11 more packets skipped: unsupported link type 147",
		})
	})
}

// Read streams: it takes the capture through an io.Reader that hands out
// a few bytes at a time, as a pipe might.
func TestStreaming(t *testing.T) {
	b, _ := os.ReadFile("testdata/deflate.pcapng")
	var n int
	err := Read(&trickle{b: b}, Options{}, func(*inspect.Event) error { n++; return nil })
	if err != nil || n != len(collectFile(t, "testdata/deflate.pcapng")) {
		t.Errorf("err %v, %d events", err, n)
	}
}

type trickle struct{ b []byte }

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}
