package cmd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// helpWidth is the width --help wraps flag descriptions to: the
// terminal's, up to 120 columns, and 80 in a pipe.
func helpWidth(ios *IOStreams) int {
	if ios.OutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w >= 40 {
			return min(w, 120)
		}
	}
	return 80
}

// registerTemplateFuncs guards cobra's template functions, which are
// process-wide: commands are built more than once (tests, gendocs), and
// maybe at the same time.
var registerTemplateFuncs sync.Once

// wrapFlagHelp makes the usage of root and every command under it wrap
// flag descriptions at width, the way man pages do, instead of cobra's
// one line per flag however long.
func wrapFlagHelp(root *cobra.Command, width int) {
	w := strconv.Itoa(width)
	registerTemplateFuncs.Do(func() {
		cobra.AddTemplateFunc("groupedFlagUsages", groupedFlagUsages)
	})
	t := root.UsageTemplate()
	const flags = `{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}`
	if !strings.Contains(t, flags) {
		panic("cobra's usage template changed: the flags section is not where wrapFlagHelp expects it")
	}
	t = strings.Replace(t, flags, `{{if .HasAvailableLocalFlags}}
{{groupedFlagUsages . `+w+` | trimTrailingWhitespaces}}{{end}}`, 1)
	root.SetUsageTemplate(strings.NewReplacer(
		".InheritedFlags.FlagUsages ", ".InheritedFlags.FlagUsagesWrapped "+w+" ",
	).Replace(t))
}

// flagGroups sort a command's flags under headings in --help, the way gh
// and kubectl do: a flag means the same on every command, so its group
// is named once, here. Flags not listed go under "Other flags".
var flagGroups = []struct {
	title string
	flags []string
}{
	{"Connection", []string{"header", "subprotocol", "origin", "auth", "connect-timeout", "location", "max-redirects",
		"listen", "upstream", "rewrite-host", "rewrite-origin", "path", "max-conns", "once", "broadcast", "url", "serve", "conn", "duration"}},
	{"TLS", []string{"insecure", "ca", "cert", "key", "keylog", "tls-cert", "tls-key", "tls-self-signed", "client-ca", "client-cert"}},
	{"Input: what is sent", []string{"execute", "wait", "eof-wait", "stdin", "binary", "fragment", "echo", "interactive", "no-auto-pong"}},
	{"Output: what is shown", []string{"output", "binary-as", "show-control", "verbose", "from", "op", "grep", "no-tui", "no-history", "scrollback", "hex", "check", "stats", "decode"}},
	{"Recording", []string{"record", "record-secrets", "force", "redact", "report"}},
	{"Protocol checks and limits", []string{"strict", "max-message-size", "max-message-frames", "close-timeout", "idle-timeout"}},
	{"Compression (permessage-deflate, RFC 7692)", []string{"compress", "compress-server-no-context-takeover", "compress-client-no-context-takeover",
		"compress-server-max-window-bits", "compress-client-max-window-bits", "compress-level"}},
	{"Transport", []string{"proxy", "no-proxy", "unix"}},
	{"Heartbeat and reconnect", []string{"ping-interval", "ping-timeout", "reconnect", "reconnect-max-delay", "reconnect-attempts"}},
}

// groupedFlagUsages renders c's own flags under their headings, wrapped at
// width; a command with few flags keeps one list.
func groupedFlagUsages(c *cobra.Command, width int) string {
	local := c.LocalFlags()
	if countFlags(local) <= 12 {
		return "\nFlags:\n" + strings.TrimRight(local.FlagUsagesWrapped(width), " \n") + "\n"
	}
	placed := map[string]bool{}
	var b strings.Builder
	for _, g := range flagGroups {
		fs := pflag.NewFlagSet(g.title, pflag.ContinueOnError)
		for _, name := range g.flags {
			if f := local.Lookup(name); f != nil && !f.Hidden {
				fs.AddFlag(f)
				placed[name] = true
			}
		}
		if fs.HasFlags() {
			fmt.Fprintf(&b, "\n%s:\n%s\n", g.title, strings.TrimRight(fs.FlagUsagesWrapped(width), " \n"))
		}
	}
	rest := pflag.NewFlagSet("other", pflag.ContinueOnError)
	local.VisitAll(func(f *pflag.Flag) {
		if !placed[f.Name] && !f.Hidden {
			rest.AddFlag(f)
		}
	})
	if rest.HasFlags() {
		fmt.Fprintf(&b, "\nOther flags:\n%s\n", strings.TrimRight(rest.FlagUsagesWrapped(width), " \n"))
	}
	return b.String()
}

func countFlags(fs *pflag.FlagSet) int {
	n := 0
	fs.VisitAll(func(*pflag.Flag) { n++ })
	return n
}
