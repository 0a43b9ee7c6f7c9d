package tui

import (
	"slices"
	"testing"

	"github.com/wscope/wscope/inspect"
)

// The detail pane of an open event names the client's certificate of a
// mutual TLS connection.
func TestDescribeOpenClientCertificate(t *testing.T) {
	t.Parallel()
	ls := describeOpen(&inspect.Open{URL: "wss://h/", Role: inspect.RoleServer, TLS: &inspect.TLSInfo{
		Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", PeerSubject: "CN=alice",
		ClientSubject: "CN=alice", ClientIssuer: "CN=CA", ClientSHA256: "AB:CD"}})
	want := `TLS      TLS 1.3 TLS_AES_128_GCM_SHA256, server name "", peer CN=alice; client certificate CN=alice (issuer CN=CA, SHA-256 AB:CD)`
	if !slices.Contains(ls, want) {
		t.Errorf("detail lines %q\nhave no %q", ls, want)
	}
}
