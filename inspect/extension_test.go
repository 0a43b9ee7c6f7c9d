package inspect

import (
	"fmt"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"permessage-deflate": "[{permessage-deflate []}]",
		"permessage-deflate; client_max_window_bits; server_no_context_takeover": "[{permessage-deflate [{client_max_window_bits } {server_no_context_takeover }]}]",
		`a; x="1,2; 3", b; y = 4`: `[{a [{x 1,2; 3}]} {b [{y 4}]}]`,
		`q; k="say \"hi\""`:       `[{q [{k say "hi"}]}]`,
		" , ;x=1":                 "[]",
	} {
		got := ParseExtensions(in)
		if s := fmt.Sprint(got); s != want && !(want == "[]" && len(got) == 0) {
			t.Errorf("ParseExtensions(%q) = %s, want %s", in, s, want)
		}
	}
}
