package replay

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxLineShow bounds the bytes of one payload line in a diff.
	maxLineShow = 120
	// maxTextDiffLines bounds a text diff.
	maxTextDiffLines = 30
	// maxLCS bounds the line-diff table (lines × lines) before the diff
	// falls back to "all removed, all added".
	maxLCS = 1 << 18
)

// textDiff returns a unified-style diff of two text payloads: lines only
// in the expected one start with "- ", lines only in the received one
// with "+ ", context lines with two spaces. Long lines and long diffs are
// cut, with a note.
func textDiff(want, got []byte) []string {
	a := strings.Split(string(want), "\n")
	b := strings.Split(string(got), "\n")
	if len(a) == 1 && len(b) == 1 {
		return singleLineDiff(a[0], b[0])
	}
	return renderLineDiff(lineDiff(a, b))
}

// singleLineDiff shows two one-line payloads one above the other; when
// they are long, the window starts a little before the first difference.
func singleLineDiff(w, g string) []string {
	p := commonPrefix(w, g)
	start := 0
	if p > maxLineShow/2 {
		start = p - 24
		for start > 0 && !utf8.RuneStart(w[start]) {
			start--
		}
	}
	out := []string{"- " + window(w, start), "+ " + window(g, start)}
	if start > 0 || len(w) > maxLineShow || len(g) > maxLineShow {
		out = append(out, fmt.Sprintf("(first difference at byte %d; expected %d bytes, got %d)", p, len(w), len(g)))
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return n
}

// window returns s from start, at most maxLineShow bytes of it, made
// safe to print.
func window(s string, start int) string {
	prefix := ""
	if start > 0 {
		prefix = "…"
		s = s[start:]
	}
	return prefix + shortLine(s)
}

// shortLine cuts s to maxLineShow bytes, saying how much was left out,
// and escapes what a terminal would not show.
func shortLine(s string) string {
	if len(s) <= maxLineShow {
		return visible(s)
	}
	cut := maxLineShow
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return visible(s[:cut]) + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

// visible escapes control characters, invalid UTF-8 and other runes that
// do not print, so a diff cannot move the cursor or hide text.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// diffLine is one line of a line diff: kind ' ' (both), '-' or '+'.
type diffLine struct {
	kind byte
	text string
}

// lineDiff aligns two line lists on their longest common subsequence,
// after trimming the lines they share at both ends.
func lineDiff(a, b []string) []diffLine {
	var head, tail []diffLine
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		head = append(head, diffLine{' ', a[0]})
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		tail = append(tail, diffLine{' ', a[len(a)-1]})
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	mid := make([]diffLine, 0, len(a)+len(b))
	if len(a)*len(b) > maxLCS {
		for _, l := range a {
			mid = append(mid, diffLine{'-', l})
		}
		for _, l := range b {
			mid = append(mid, diffLine{'+', l})
		}
	} else {
		// lcs[i][j] is the LCS length of a[i:] and b[j:].
		lcs := make([][]int32, len(a)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(b)+1)
		}
		for i := len(a) - 1; i >= 0; i-- {
			for j := len(b) - 1; j >= 0; j-- {
				if a[i] == b[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			switch {
			case i < len(a) && j < len(b) && a[i] == b[j]:
				mid = append(mid, diffLine{' ', a[i]})
				i++
				j++
			case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
				mid = append(mid, diffLine{'-', a[i]})
				i++
			default:
				mid = append(mid, diffLine{'+', b[j]})
				j++
			}
		}
	}
	out := append(head, mid...)
	for i := len(tail) - 1; i >= 0; i-- {
		out = append(out, tail[i])
	}
	return out
}

// renderLineDiff prints the changed lines with one line of context,
// "…" where unchanged lines were skipped.
func renderLineDiff(ls []diffLine) []string {
	const context = 1
	keep := make([]bool, len(ls))
	for i, l := range ls {
		if l.kind == ' ' {
			continue
		}
		for j := max(0, i-context); j <= min(len(ls)-1, i+context); j++ {
			keep[j] = true
		}
	}
	var out []string
	skipped := false
	shown := 0
	for i, l := range ls {
		if !keep[i] {
			skipped = true
			continue
		}
		if skipped && len(out) > 0 {
			out = append(out, "  …")
		}
		skipped = false
		if shown == maxTextDiffLines {
			rest := 0
			for j := i; j < len(ls); j++ {
				if keep[j] {
					rest++
				}
			}
			out = append(out, fmt.Sprintf("… %d more lines of diff", rest))
			break
		}
		out = append(out, string(l.kind)+" "+shortLine(l.text))
		shown++
	}
	return out
}

// binaryDiff describes two different binary payloads: sizes, the first
// differing byte, and a hex dump of both around it.
func binaryDiff(want, got []byte) []string {
	p := 0
	for p < len(want) && p < len(got) && want[p] == got[p] {
		p++
	}
	out := []string{fmt.Sprintf("binary: expected %d bytes, got %d bytes, first difference at byte %d", len(want), len(got), p)}
	off := p &^ 15
	out = append(out, hexLines("- ", want, off)...)
	return append(out, hexLines("+ ", got, off)...)
}

// hexLines dumps up to 32 bytes of b from off, 16 a line.
func hexLines(prefix string, b []byte, off int) []string {
	var out []string
	for line := off; line < off+32 && line < len(b); line += 16 {
		chunk := b[line:min(line+16, len(b))]
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s%08x ", prefix, line)
		for i := range 16 {
			if i == 8 {
				sb.WriteByte(' ')
			}
			if i < len(chunk) {
				fmt.Fprintf(&sb, " %02x", chunk[i])
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteString("  |")
		for _, c := range chunk {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteByte('|')
		out = append(out, sb.String())
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("%s(ends at byte %d)", prefix, len(b)))
	}
	if rest := len(b) - (off + 32); rest > 0 {
		out = append(out, fmt.Sprintf("%s… %d more bytes", prefix, rest))
	}
	return out
}
