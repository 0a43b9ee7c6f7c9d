package wire

import (
	"bytes"
	"fmt"
	"strings"
)

// checkRequestHead checks a request head, as readHead returned it,
// against the syntax of HTTP/1.1 wherever a lenient reading lets two hops
// read one request differently (request smuggling): the request line,
// header names, header values, lines without a colon, obsolete line
// folding, and a second Host. Lines may end in CRLF or a bare LF (RFC 9112
// section 2.2); any other CR is refused. The error names the problem.
func checkRequestHead(head []byte) error {
	lines := bytes.Split(bytes.TrimSuffix(head, []byte("\n")), []byte("\n"))
	for i := range lines {
		lines[i] = bytes.TrimSuffix(lines[i], []byte("\r"))
	}
	if err := checkRequestLine(lines[0]); err != nil {
		return err
	}
	hosts := 0
	for _, line := range lines[1:] {
		if len(line) == 0 {
			break // the blank line that ends the head
		}
		name, err := checkFieldLine(line)
		if err != nil {
			return err
		}
		if strings.EqualFold(name, "Host") {
			if hosts++; hosts > 1 {
				// RFC 9112 section 3.2.
				return fmt.Errorf("more than one Host header")
			}
		}
	}
	return nil
}

// checkRequestLine checks method SP request-target SP HTTP-version (RFC
// 9112 section 3): a token, a target of visible ASCII, a version.
func checkRequestLine(line []byte) error {
	for i, b := range line {
		if b < ' ' || b == 0x7f {
			return fmt.Errorf("request line has %s at byte %d", byteName(b), i)
		}
	}
	parts := bytes.Split(line, []byte(" "))
	if len(parts) != 3 {
		return fmt.Errorf("malformed request line %s: want METHOD TARGET HTTP/1.1", quoteStart(line))
	}
	method, target, version := parts[0], parts[1], parts[2]
	if !isToken(method) {
		return fmt.Errorf("method %s is not a token (RFC 9110 section 9.1)", quoteStart(method))
	}
	if len(target) == 0 {
		return fmt.Errorf("empty request target")
	}
	for i, b := range target {
		if b <= ' ' || b >= 0x7f {
			return fmt.Errorf("request target has %s at byte %d (RFC 9112 section 3.2)", byteName(b), i)
		}
	}
	if len(version) != 8 || !bytes.HasPrefix(version, []byte("HTTP/")) || !isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]) {
		return fmt.Errorf("malformed HTTP version %s (RFC 9112 section 2.3)", quoteStart(version))
	}
	return nil
}

// checkFieldLine checks field-name ":" OWS field-value OWS (RFC 9112
// section 5) and returns the name.
func checkFieldLine(line []byte) (string, error) {
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112 section 5.2: a server may refuse it with 400.
		return "", fmt.Errorf("header line %s continues the previous one (obsolete line folding, RFC 9112 section 5.2)", quoteStart(line))
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return "", fmt.Errorf("header line %s has no colon (RFC 9112 section 5)", quoteStart(line))
	}
	if !isToken(name) {
		// Whitespace before the colon too: RFC 9112 section 5.1 asks for a 400.
		return "", fmt.Errorf("header name %s is not a token (RFC 9110 section 5.1)", quoteStart(name))
	}
	for i, b := range value {
		if !isFieldValueByte(b) {
			return "", fmt.Errorf("header %s: value has %s at byte %d, not allowed in a field value (RFC 9110 section 5.5)", quoteStart(name), byteName(b), i)
		}
	}
	return string(name), nil
}

// isFieldValueByte reports whether b may appear in a field value: a
// visible character, obs-text, or SP and HTAB between them (RFC 9110
// section 5.5). CR, LF, NUL and the other controls may not.
func isFieldValueByte(b byte) bool {
	return b == ' ' || b == '\t' || (b > ' ' && b != 0x7f)
}

// isToken reports whether s is a non-empty run of tchar (RFC 9110 section
// 5.6.2).
func isToken(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, b := range s {
		if b >= 0x80 || !isTchar[b] {
			return false
		}
	}
	return true
}

var isTchar = func() (t [0x80]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// byteName says which byte was found, for an error message.
func byteName(b byte) string {
	switch b {
	case '\r':
		return "a bare CR"
	case '\n':
		return "a bare LF"
	case 0:
		return "a NUL byte"
	case ' ':
		return "a space"
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

// quoteStart quotes s for an error message, cut to a readable length.
func quoteStart(s []byte) string {
	const keep = 40
	if len(s) > keep {
		return fmt.Sprintf("%q...", s[:keep])
	}
	return fmt.Sprintf("%q", s)
}
