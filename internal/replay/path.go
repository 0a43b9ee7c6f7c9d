package replay

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Path is a JSONPath-ish location in a JSON document, as --ignore and
// --capture take it:
//
//	$                  the whole document
//	$.id               member "id" of the top-level object
//	$.data.items[0].ts index 0 of an array, then a member
//	$["odd key"]       a member whose name is not a plain word ('…' works too)
//	$.items[*].id      every element of an array (or every member of an object)
//	$.items[-1]        the last element
//	$..ts              member "ts" at any depth (recursive descent)
//
// Filters, slices and unions are not supported.
type Path struct {
	src  string
	segs []pathSeg
}

type segKind uint8

const (
	segName segKind = iota
	segIndex
	segWild
)

type pathSeg struct {
	recursive bool
	kind      segKind
	name      string
	index     int
}

// ParsePath reads a path in the syntax described on Path.
func ParsePath(s string) (*Path, error) {
	p := &Path{src: s}
	bad := func(at int, why string) error {
		return fmt.Errorf("invalid path %q at offset %d: %s", s, at, why)
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("invalid path %q: must start with $ (e.g. $.id)", s)
	}
	i := 1
	for i < len(s) {
		var seg pathSeg
		switch {
		case strings.HasPrefix(s[i:], ".."):
			seg.recursive = true
			i += 2
			if i < len(s) && s[i] == '[' {
				break
			}
			n, err := readName(s, i)
			if err != nil {
				return nil, bad(i, err.Error())
			}
			seg.kind, seg.name = nameOrWild(s[i : i+n])
			i += n
			p.segs = append(p.segs, seg)
			continue
		case s[i] == '.':
			i++
			n, err := readName(s, i)
			if err != nil {
				return nil, bad(i, err.Error())
			}
			seg.kind, seg.name = nameOrWild(s[i : i+n])
			i += n
			p.segs = append(p.segs, seg)
			continue
		case s[i] != '[':
			return nil, bad(i, fmt.Sprintf("unexpected %q (want . or [)", s[i]))
		}
		// A bracket: [N], [*], ['name'] or ["name"].
		end := -1
		switch {
		case i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"'):
			q := s[i+1]
			j := i + 2
			var name strings.Builder
			for ; j < len(s) && s[j] != q; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				name.WriteByte(s[j])
			}
			if j+1 >= len(s) || s[j+1] != ']' {
				return nil, bad(i, "unterminated quoted name")
			}
			seg.kind, seg.name = segName, name.String()
			end = j + 1
		default:
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, bad(i, "missing ]")
			}
			end = i + j
			inner := strings.TrimSpace(s[i+1 : end])
			if inner == "*" {
				seg.kind = segWild
				break
			}
			n, err := strconv.Atoi(inner)
			if err != nil {
				return nil, bad(i+1, fmt.Sprintf("%q is not an index, * or a quoted name", inner))
			}
			seg.kind, seg.index = segIndex, n
		}
		i = end + 1
		p.segs = append(p.segs, seg)
	}
	return p, nil
}

func readName(s string, i int) (int, error) {
	n := 0
	for i+n < len(s) && s[i+n] != '.' && s[i+n] != '[' {
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("empty name")
	}
	return n, nil
}

func nameOrWild(s string) (segKind, string) {
	if s == "*" {
		return segWild, ""
	}
	return segName, s
}

// String returns the path as it was written.
func (p *Path) String() string { return p.src }

// loc is a place in a decoded JSON tree: a member of an object or an
// element of an array. Maps and slices are references, so setting through
// a loc changes the tree.
type loc struct {
	obj map[string]any
	key string
	arr []any
	idx int
}

func (l loc) get() any {
	if l.obj != nil {
		return l.obj[l.key]
	}
	return l.arr[l.idx]
}

func (l loc) set(v any) {
	if l.obj != nil {
		l.obj[l.key] = v
		return
	}
	l.arr[l.idx] = v
}

// children returns the locations directly inside v, object members in
// key order.
func children(v any) []loc {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]loc, len(keys))
		for i, k := range keys {
			out[i] = loc{obj: t, key: k}
		}
		return out
	case []any:
		out := make([]loc, len(t))
		for i := range t {
			out[i] = loc{arr: t, idx: i}
		}
		return out
	}
	return nil
}

func descendants(l loc, out []loc) []loc {
	out = append(out, l)
	for _, c := range children(l.get()) {
		out = descendants(c, out)
	}
	return out
}

// locate returns every location p selects in the tree held by root
// (a one-element slice, so that the root itself can be selected and set).
func (p *Path) locate(root []any) []loc {
	cur := []loc{{arr: root, idx: 0}}
	for _, s := range p.segs {
		if s.recursive {
			var all []loc
			for _, l := range cur {
				all = descendants(l, all)
			}
			cur = all
		}
		var next []loc
		for _, l := range cur {
			switch v := l.get().(type) {
			case map[string]any:
				switch s.kind {
				case segName:
					if _, ok := v[s.name]; ok {
						next = append(next, loc{obj: v, key: s.name})
					}
				case segWild:
					next = append(next, children(v)...)
				}
			case []any:
				switch s.kind {
				case segIndex:
					i := s.index
					if i < 0 {
						i += len(v)
					}
					if i >= 0 && i < len(v) {
						next = append(next, loc{arr: v, idx: i})
					}
				case segWild:
					next = append(next, children(v)...)
				}
			}
		}
		cur = next
	}
	return cur
}

// first returns the first value p selects in v.
func (p *Path) first(v any) (any, bool) {
	ls := p.locate([]any{v})
	if len(ls) == 0 {
		return nil, false
	}
	return ls[0].get(), true
}

// removedValue marks what an ignored path selected, until prune drops it.
type removedValue struct{}

// removePaths removes what every path selects from v and returns what is
// left; ok is false when the whole document was removed. Array indices
// in the paths refer to the document as it was before any removal.
func removePaths(v any, paths []*Path) (out any, ok bool) {
	if len(paths) == 0 {
		return v, true
	}
	root := []any{v}
	for _, p := range paths {
		for _, l := range p.locate(root) {
			l.set(removedValue{})
		}
	}
	if _, gone := root[0].(removedValue); gone {
		return nil, false
	}
	return prune(root[0]), true
}

func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if _, gone := c.(removedValue); gone {
				delete(t, k)
				continue
			}
			t[k] = prune(c)
		}
	case []any:
		out := t[:0]
		for _, c := range t {
			if _, gone := c.(removedValue); gone {
				continue
			}
			out = append(out, prune(c))
		}
		return out
	}
	return v
}

// memberPath and indexPath extend a path as the diff shows it.
func memberPath(base, key string) string {
	if isWord(key) {
		return base + "." + key
	}
	return base + "[" + strconv.Quote(key) + "]"
}

func indexPath(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && ((r >= '0' && r <= '9') || r == '-'):
		default:
			return false
		}
	}
	return true
}
