package appprototest

import (
	"net/url"
	"testing"
)

// URL parses s or fails the test.
func URL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
