package replay

import (
	"strings"
	"testing"
)

func TestParsePathErrors(t *testing.T) {
	for _, s := range []string{"", "id", "$.", "$..", "$[", "$[x]", "$['a]", "$a", "$.a[1"} {
		if _, err := ParsePath(s); err == nil {
			t.Errorf("ParsePath(%q) = nil error, want one", s)
		}
	}
}

func TestPathRemove(t *testing.T) {
	doc := `{"id":1,"data":{"items":[{"id":"a","ts":1},{"id":"b","ts":2}],"ts":3},"odd key":true,"list":[1,2,3]}`
	tests := []struct {
		paths []string
		want  string
	}{
		{[]string{"$.id"}, `{"data":{"items":[{"id":"a","ts":1},{"id":"b","ts":2}],"ts":3},"list":[1,2,3],"odd key":true}`},
		{[]string{"$.data.items[0].ts"}, `{"data":{"items":[{"id":"a"},{"id":"b","ts":2}],"ts":3},"id":1,"list":[1,2,3],"odd key":true}`},
		{[]string{"$.data.items[*].id"}, `{"data":{"items":[{"ts":1},{"ts":2}],"ts":3},"id":1,"list":[1,2,3],"odd key":true}`},
		{[]string{"$..ts"}, `{"data":{"items":[{"id":"a"},{"id":"b"}]},"id":1,"list":[1,2,3],"odd key":true}`},
		{[]string{"$['odd key']", `$["list"][-1]`}, `{"data":{"items":[{"id":"a","ts":1},{"id":"b","ts":2}],"ts":3},"id":1,"list":[1,2]}`},
		// Indices refer to the document before any removal.
		{[]string{"$.list[0]", "$.list[1]"}, `{"data":{"items":[{"id":"a","ts":1},{"id":"b","ts":2}],"ts":3},"id":1,"list":[3],"odd key":true}`},
		{[]string{"$.data.*", "$.nothing.here", "$.id[0]"}, `{"data":{},"id":1,"list":[1,2,3],"odd key":true}`},
		{[]string{"$..[0]"}, `{"data":{"items":[{"id":"b","ts":2}],"ts":3},"id":1,"list":[2,3],"odd key":true}`},
	}
	for _, tt := range tests {
		var ps []*Path
		for _, s := range tt.paths {
			p, err := ParsePath(s)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", s, err)
			}
			ps = append(ps, p)
		}
		v, _ := parseJSON([]byte(doc))
		out, ok := removePaths(v, ps)
		if !ok {
			t.Fatalf("%v removed the whole document", tt.paths)
		}
		if got := jsonText(out); got != tt.want {
			t.Errorf("remove %s:\n got %s\nwant %s", strings.Join(tt.paths, " "), got, tt.want)
		}
	}
	root, _ := ParsePath("$")
	if _, ok := removePaths(map[string]any{}, []*Path{root}); ok {
		t.Error("removing $ left a document")
	}
}
