package cmd

import (
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
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

// wrapFlagHelp makes the usage of root and every command under it wrap
// flag descriptions at width, the way man pages do, instead of cobra's
// one line per flag however long.
func wrapFlagHelp(root *cobra.Command, width int) {
	w := strconv.Itoa(width)
	root.SetUsageTemplate(strings.NewReplacer(
		".LocalFlags.FlagUsages ", ".LocalFlags.FlagUsagesWrapped "+w+" ",
		".InheritedFlags.FlagUsages ", ".InheritedFlags.FlagUsagesWrapped "+w+" ",
	).Replace(root.UsageTemplate()))
}
