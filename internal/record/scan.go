package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks the JSON of one recording line in place. It validates what
// it passes over exactly as strictly as encoding/json does, but builds
// nothing the caller does not ask for, which is what makes the reader fast:
// a frame line is read without reflection and, for frames and messages,
// without allocation.
type scanner struct {
	b []byte
	i int
}

// maxDepth bounds the nesting of skipped values, as encoding/json does.
const maxDepth = 10000

// syntaxError is a line that is not JSON. The reader turns it into
// "invalid JSON: ..." and, on an unterminated last line, into a warning.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// fieldError is a line that is JSON but not a valid event.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

func fieldErr(format string, args ...any) error {
	return &fieldError{msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return &syntaxError{off: s.i, msg: "unexpected end of JSON input"}
	}
	return &syntaxError{off: s.i, msg: fmt.Sprintf("invalid character %s %s", quoteChar(s.b[s.i]), what)}
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// end checks that only spaces remain.
func (s *scanner) end() error {
	s.ws()
	if s.i < len(s.b) {
		return s.syntax("after top-level value")
	}
	return nil
}

// member advances to the next key of the object whose '{' has been
// consumed; n counts the members seen so far. It returns the raw key (still
// escaped when esc is true) with the scanner on the value, or ok false after
// the closing '}'.
func (s *scanner) member(n *int) (key []byte, esc, ok bool, err error) {
	c := s.peek()
	if c == '}' {
		s.i++
		return nil, false, false, nil
	}
	if *n > 0 {
		if c != ',' {
			return nil, false, false, s.syntax("after object key:value pair")
		}
		s.i++
		c = s.peek()
	}
	if c != '"' {
		return nil, false, false, s.syntax("looking for beginning of object key string")
	}
	// Keys are short and plain: look for the closing quote directly,
	// and leave anything else to str.
	b := s.b
	for j := s.i + 1; j < len(b); j++ {
		if c := b[j]; c == '"' {
			if j+1 < len(b) && b[j+1] == ':' {
				key = b[s.i+1 : j]
				s.i = j + 2
				s.ws()
				*n++
				return key, false, true, nil
			}
			break
		} else if !plain[c] {
			break
		}
	}
	key, esc, err = s.str()
	if err != nil {
		return nil, false, false, err
	}
	if s.peek() != ':' {
		return nil, false, false, s.syntax("after object key")
	}
	s.i++
	s.ws()
	*n++
	return key, esc, true, nil
}

// elem advances to the next element of the array whose '[' has been
// consumed, or returns false after the closing ']'.
func (s *scanner) elem(n *int) (bool, error) {
	c := s.peek()
	if c == ']' {
		s.i++
		return false, nil
	}
	if *n > 0 {
		if c != ',' {
			return false, s.syntax("after array element")
		}
		s.i++
		s.ws()
	}
	*n++
	return true, nil
}

// open consumes c ('{' or '[') or reports that the value has another type.
// It returns false, with nothing consumed, for null.
func (s *scanner) open(c byte) (bool, error) {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true, nil
	}
	if s.null() {
		return false, nil
	}
	if err := s.skip(); err != nil {
		return false, err
	}
	return false, errWrongType
}

// errWrongType is turned into a message naming the key by the caller.
var errWrongType = errors.New("wrong type")

// null consumes a null literal.
func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain marks the bytes that may stand for themselves in a JSON string
// without a second look: printable ASCII except '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlain returns the index of the first byte at or after i that may
// need attention in a JSON string, skipping plain bytes eight at a time: a
// word has none of the others when no byte is below 0x20, equal to '"' or
// '\\', or has its top bit set. (A borrow only ever spreads from a byte
// that is itself one of them.) It stops short of the last seven bytes.
func skipPlain(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (lsb * '"')
		e := x ^ (lsb * '\\')
		if ((x-lsb*0x20)|(q-lsb)|(e-lsb)|x)&msb != 0 {
			return i
		}
		i += 8
	}
	return i
}

// str reads the string at s.i (its opening quote) and returns its raw
// contents. esc reports that they must go through unquote: an escape, or
// bytes that are not valid UTF-8 (which encoding/json replaces by U+FFFD).
func (s *scanner) str() (raw []byte, esc bool, err error) {
	s.i++ // opening quote
	b := s.b
	start := s.i
	i := s.i
	for {
		i = skipPlain(b, i)
		if i >= len(b) {
			s.i = i
			return nil, false, s.syntax("")
		}
		c := b[i]
		switch {
		case plain[c]:
			i++
		case c == '"':
			s.i = i + 1
			return b[start:i], esc, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(b) {
				s.i = i
				return nil, false, s.syntax("")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(b) || unhex(b[i]) < 0 {
						s.i = i
						return nil, false, s.syntax("in \\u hexadecimal character escape")
					}
					i++
				}
			default:
				s.i = i
				return nil, false, s.syntax("in string escape code")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.syntax("in string literal")
		default: // non-ASCII
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				esc = true
			}
			i += n
		}
	}
}

// strDecode reads the string at s.i like str, decoding it in the same
// pass: it returns a slice of the line when the string needs no decoding,
// and dst with the decoded contents appended (copied true) when it does.
func (s *scanner) strDecode(dst []byte) (out []byte, copied bool, err error) {
	s.i++ // opening quote
	b := s.b
	start := s.i
	run := start // start of the bytes not yet copied to dst
	i := s.i
	for {
		i = skipPlain(b, i)
		if i >= len(b) {
			s.i = i
			return nil, false, s.syntax("")
		}
		c := b[i]
		switch {
		case plain[c]:
			i++
		case c == '"':
			s.i = i + 1
			if !copied {
				return b[start:i], false, nil
			}
			return append(dst, b[run:i]...), true, nil
		case c == '\\':
			dst = append(dst, b[run:i]...)
			copied = true
			if i+1 >= len(b) {
				s.i = i + 1
				return nil, false, s.syntax("")
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
				i += 2
			case 'b':
				dst = append(dst, '\b')
				i += 2
			case 'f':
				dst = append(dst, '\f')
				i += 2
			case 'n':
				dst = append(dst, '\n')
				i += 2
			case 'r':
				dst = append(dst, '\r')
				i += 2
			case 't':
				dst = append(dst, '\t')
				i += 2
			case 'u':
				if !isHex4(b, i+2) {
					s.i = i + 2
					for s.i < len(b) && unhex(b[s.i]) >= 0 {
						s.i++
					}
					return nil, false, s.syntax("in \\u hexadecimal character escape")
				}
				r := hex4(b[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' && isHex4(b, i+2) {
						if dec := utf16.DecodeRune(r, hex4(b[i+2:i+6])); dec != utf8.RuneError {
							r2 = dec
							i += 6
						}
					}
					r = r2
				}
				dst = utf8.AppendRune(dst, r)
			default:
				s.i = i + 1
				return nil, false, s.syntax("in string escape code")
			}
			run = i
		case c < 0x20:
			s.i = i
			return nil, false, s.syntax("in string literal")
		default: // non-ASCII
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, b[run:i]...)
				dst = utf8.AppendRune(dst, utf8.RuneError)
				copied = true
				run = i + 1
			}
			i += n
		}
	}
}

func isHex4(b []byte, i int) bool {
	return i+4 <= len(b) && unhex(b[i]) >= 0 && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0 && unhex(b[i+3]) >= 0
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// unquote appends the decoded contents of a string that str returned with
// esc set. It follows encoding/json: invalid UTF-8 and unpaired surrogates
// become U+FFFD.
func unquote(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			e := raw[i+1]
			i += 2
			switch e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(raw[i : i+4])
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(raw[i+2:i+6])); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// skip passes over one value of any type, validating it. Nesting is
// tracked without recursion, so a line of a million '[' cannot exhaust the
// stack.
func (s *scanner) skip() error {
	var stack [64]byte
	nest := stack[:0]
	for {
		// A value.
		switch c := s.peek(); c {
		case '{', '[':
			if len(nest) >= maxDepth {
				return &syntaxError{off: s.i, msg: "exceeded max depth"}
			}
			s.i++
			closer := c + 2 // '{'+2 == '}', '['+2 == ']'
			if s.peek() == closer {
				s.i++
				goto closed
			}
			nest = append(nest, closer)
			if c == '{' {
				if err := s.key(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if _, _, err := s.str(); err != nil {
				return err
			}
		case 't':
			if err := s.lit("true"); err != nil {
				return err
			}
		case 'f':
			if err := s.lit("false"); err != nil {
				return err
			}
		case 'n':
			if err := s.lit("null"); err != nil {
				return err
			}
		default:
			if _, err := s.num(); err != nil {
				return err
			}
		}
	closed:
		// After a value: the end, a comma or a closing bracket.
		for {
			if len(nest) == 0 {
				return nil
			}
			top := nest[len(nest)-1]
			c := s.peek()
			if c == top {
				s.i++
				nest = nest[:len(nest)-1]
				continue
			}
			if c != ',' {
				if top == '}' {
					return s.syntax("after object key:value pair")
				}
				return s.syntax("after array element")
			}
			s.i++
			if top == '}' {
				if err := s.key(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// key consumes `"key":`.
func (s *scanner) key() error {
	if s.peek() != '"' {
		return s.syntax("looking for beginning of object key string")
	}
	if _, _, err := s.str(); err != nil {
		return err
	}
	if s.peek() != ':' {
		return s.syntax("after object key")
	}
	s.i++
	return nil
}

func (s *scanner) lit(want string) error {
	for k := 0; k < len(want); k++ {
		if s.i >= len(s.b) || s.b[s.i] != want[k] {
			return s.syntax("in literal " + want + " (expecting " + quoteChar(want[k]) + ")")
		}
		s.i++
	}
	return nil
}

// num reads a number and returns its text.
func (s *scanner) num() ([]byte, error) {
	s.ws()
	b := s.b
	start := s.i
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.syntax("looking for beginning of value")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return nil, s.syntax("after decimal point in numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			s.i = i
			return nil, s.syntax("in exponent of numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return b[start:i], nil
}

// Typed reads. Each returns present false for null (which, as for
// encoding/json, leaves the field as it was), and errWrongType, with the
// value skipped, when the value has another JSON type.

func (s *scanner) kind() byte {
	c := s.peek()
	switch {
	case c == '-' || (c >= '0' && c <= '9'):
		return '0'
	}
	return c
}

func (s *scanner) boolean() (v, present bool, err error) {
	switch s.kind() {
	case 't':
		return true, true, s.lit("true")
	case 'f':
		return false, true, s.lit("false")
	case 'n':
		return false, false, s.lit("null")
	}
	return false, false, s.wrong()
}

// wrong skips a value of the wrong type and says so.
func (s *scanner) wrong() error {
	if err := s.skip(); err != nil {
		return err
	}
	return errWrongType
}

// rawString returns a string value's raw contents; see str.
func (s *scanner) rawString() (raw []byte, esc, present bool, err error) {
	switch s.kind() {
	case '"':
		raw, esc, err = s.str()
		return raw, esc, err == nil, err
	case 'n':
		return nil, false, false, s.lit("null")
	}
	return nil, false, false, s.wrong()
}

// number returns a number's text.
func (s *scanner) number() (text []byte, present bool, err error) {
	switch s.kind() {
	case '0':
		text, err = s.num()
		return text, err == nil, err
	case 'n':
		return nil, false, s.lit("null")
	}
	return nil, false, s.wrong()
}

// parseUint reads a JSON number that must be a non-negative integer.
func parseUint(text []byte, max uint64) (uint64, bool) {
	if len(text) == 0 || len(text) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt reads a JSON number that must be an integer.
func parseInt(text []byte) (int64, bool) {
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	n, ok := parseUint(text, 1<<63-1)
	if !ok {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// parseSeconds reads seconds as a Duration. The writer's fixed-point form
// ("12.345678") is converted exactly; anything else goes through a float.
func parseSeconds(text []byte) (time.Duration, bool) {
	neg := len(text) > 0 && text[0] == '-'
	t := text
	if neg {
		t = t[1:]
	}
	var sec, frac int64
	i := 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		if sec > (1<<63-1)/int64(time.Second)/10 {
			return floatSeconds(text)
		}
		sec = sec*10 + int64(t[i]-'0')
	}
	digits := 0
	if i < len(t) && t[i] == '.' {
		for i++; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if digits < 9 {
				frac = frac*10 + int64(t[i]-'0')
				digits++
			} else if digits == 9 {
				digits++ // more precision than a Duration holds: let a float round it
			}
		}
	}
	if i != len(t) || digits > 9 || sec > (1<<63-1)/int64(time.Second)-1 {
		return floatSeconds(text)
	}
	for ; digits < 9; digits++ {
		frac *= 10
	}
	d := time.Duration(sec)*time.Second + time.Duration(frac)
	if neg {
		d = -d
	}
	return d, true
}

func floatSeconds(text []byte) (time.Duration, bool) {
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil || f != f || f > 9.2e9 || f < -9.2e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
