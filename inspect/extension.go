package inspect

import "strings"

// ParseExtensions reads a Sec-WebSocket-Extensions value (RFC 6455 section
// 9.1): extensions separated by commas, each a name and parameters after
// semicolons, a parameter a token with an optional token or quoted-string
// value (RFC 9110 section 5.6.4, backslash escapes undone).
func ParseExtensions(s string) []Extension {
	var xs []Extension
	for _, ext := range splitQuoted(s, ',') {
		parts := splitQuoted(ext, ';')
		name := strings.TrimSpace(parts[0])
		if name == "" {
			continue
		}
		x := Extension{Name: name}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == "" {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = unquote(v[1 : len(v)-1])
			}
			x.Params = append(x.Params, HeaderField{Name: k, Value: v})
		}
		xs = append(xs, x)
	}
	return xs
}

// splitQuoted splits s at sep outside quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case quoted && c == '\\':
			esc = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote undoes the quoted-pairs of a quoted-string's contents.
func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
