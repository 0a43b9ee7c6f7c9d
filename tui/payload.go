package tui

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/wscope/wscope/inspect"
)

// payloadView is how the detail pane shows a payload.
type payloadView uint8

const (
	viewAuto payloadView = iota // JSON when it parses, text when it reads, else hex
	viewText
	viewJSON
	viewHex
)

func (v payloadView) String() string {
	return [...]string{"auto", "text", "json", "hex"}[v]
}

// next cycles text, JSON, hex.
func (v payloadView) next() payloadView {
	switch v {
	case viewText:
		return viewJSON
	case viewJSON:
		return viewHex
	}
	return viewText
}

// Caps on what the text and JSON views lay out; the hex view is drawn a
// line at a time and shows everything.
var (
	textCap = 64 << 10
	jsonCap = 1 << 20
)

// lines is the body of the detail pane: a payload can be far longer than
// anyone scrolls, so lines are made on demand where that is cheap.
type lines interface {
	Len() int
	Line(i int) string
}

type textLines []string

func (t textLines) Len() int          { return len(t) }
func (t textLines) Line(i int) string { return t[i] }

// stack is parts of a body one after the other: the bytes of a
// compressed frame as they crossed, then its message inflated.
type stack []lines

func (s stack) Len() int {
	n := 0
	for _, p := range s {
		n += p.Len()
	}
	return n
}

func (s stack) Line(i int) string {
	for _, p := range s {
		if i < p.Len() {
			return p.Line(i)
		}
		i -= p.Len()
	}
	return ""
}

// hexLines is a payload in the layout of hexdump -C, 16 bytes a line or,
// in a pane too narrow for that, 8 or 4: never cut. Each line is made
// when drawn.
type hexLines struct {
	p   []byte
	per int
}

// hexPerLine is how many bytes a hex line of width columns holds: a line
// of n bytes takes 13+4n columns, and one more for the gap after the
// eighth byte of 16.
func hexPerLine(width int) int {
	switch {
	case width >= 78:
		return 16
	case width >= 45:
		return 8
	}
	return 4
}

func (h hexLines) Len() int { return (len(h.p) + h.per - 1) / h.per }

func (h hexLines) Line(i int) string {
	const digits = "0123456789abcdef"
	p := h.p[i*h.per : min(len(h.p), i*h.per+h.per)]
	b := make([]byte, 0, 80)
	off := i * h.per
	for s := 28; s >= 0; s -= 4 {
		b = append(b, digits[(off>>s)&0xF])
	}
	b = append(b, ' ', ' ')
	for j := 0; j < h.per; j++ {
		if j < len(p) {
			b = append(b, digits[p[j]>>4], digits[p[j]&0xF], ' ')
		} else {
			b = append(b, ' ', ' ', ' ')
		}
		if j == 7 && h.per == 16 {
			b = append(b, ' ')
		}
	}
	b = append(b, ' ', '|')
	for _, c := range p {
		if c < 0x20 || c > 0x7E {
			c = '.'
		}
		b = append(b, c)
	}
	return string(append(b, '|'))
}

// chooseView picks the view for auto: JSON for text that parses, text for
// what reads as text, hex for the rest.
func chooseView(p []byte, op inspect.OpCode) payloadView {
	switch {
	case len(p) == 0:
		return viewText
	case op == inspect.OpText:
		if looksJSON(p) && len(p) <= jsonCap {
			if _, ok := inspect.PrettyJSON(p); ok {
				return viewJSON
			}
		}
		return viewText
	case op == inspect.OpBinary:
		return viewHex
	}
	if utf8.Valid(p[:min(len(p), 4096)]) && !hasControl(p[:min(len(p), 4096)]) {
		return viewText
	}
	return viewHex
}

func looksJSON(p []byte) bool {
	p = bytes.TrimLeft(p, " \t\r\n")
	return len(p) > 0 && (p[0] == '{' || p[0] == '[')
}

func hasControl(p []byte) bool {
	for _, c := range p {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7F {
			return true
		}
	}
	return false
}

// payloadLines lays p out in view v for width columns. It returns the view
// actually used (JSON falls back to text when p does not parse) and a note
// when the view shows only part of p.
func payloadLines(p []byte, v payloadView, width int) (lines, payloadView, string) {
	width = max(width, 16)
	switch v {
	case viewHex:
		return hexLines{p: p, per: hexPerLine(width)}, viewHex, ""
	case viewJSON:
		if len(p) <= jsonCap {
			if s, ok := inspect.PrettyJSON(p); ok {
				return foldLines(s, width), viewJSON, ""
			}
		}
		t, note := textView(p, width)
		if len(p) > jsonCap {
			return t, viewText, "too long to lay out as JSON; " + note
		}
		return t, viewText, "not JSON, shown as text"
	}
	t, note := textView(p, width)
	return t, viewText, note
}

// textView wraps the terminal-safe text of p, up to textCap bytes.
func textView(p []byte, width int) (textLines, string) {
	note := ""
	if len(p) > textCap {
		note = "text of the first " + size(int64(textCap)) + " shown, v for the hex of all " + commas(len(p)) + " bytes"
		p = p[:textCap]
	}
	s := inspect.TextView(p)
	var out textLines
	for _, l := range strings.Split(s, "\n") {
		l = strings.ReplaceAll(l, "\t", "    ")
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		out = append(out, strings.Split(ansi.Hardwrap(l, width, true), "\n")...)
	}
	return out, note
}

// foldLines splits pretty JSON and folds values too long for the width:
// the line is cut and says how much was left out.
func foldLines(s string, width int) textLines {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		if ansi.StringWidth(l) <= width {
			continue
		}
		keep := ansi.Truncate(l, max(width-12, 8), "")
		rest := utf8.RuneCountInString(l) - utf8.RuneCountInString(keep)
		ls[i] = keep + "…(+" + strconv.Itoa(rest) + ")"
	}
	return textLines(ls)
}
