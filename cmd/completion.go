package cmd

import (
	"github.com/spf13/cobra"

	"github.com/wscope/wscope/internal/session"
)

// addCompletionCmd adds cobra's `completion bash|zsh|fish|powershell`
// command now instead of when the root command first runs, so that the
// command tree holds it (the man pages are made from that tree), and makes
// it runnable so that an unknown shell is a usage error rather than help on
// stdout and exit 0. Call it after every other command is added.
func addCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Long += `
The release archives hold these scripts under completions/, and the deb and
rpm packages install them where bash-completion, zsh and fish look.`
		c.Example = `  # bash (with bash-completion) and fish, for every new shell of yours
  mkdir -p ~/.local/share/bash-completion/completions ~/.config/fish/completions
  wscope completion bash > ~/.local/share/bash-completion/completions/wscope
  wscope completion fish > ~/.config/fish/completions/wscope.fish

  # zsh: into a directory that ~/.zshrc puts on fpath before compinit
  mkdir -p ~/.zfunc && wscope completion zsh > ~/.zfunc/_wscope

  # bash, for the current shell only
  source <(wscope completion bash)`
		c.Args = cobra.NoArgs // `completion tcsh`: unknown command "tcsh"
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
}

// flagValues are the values of the flags that take one of a fixed set,
// offered by shell completion wherever a command has the flag.
var flagValues = map[string][]string{
	"output":    {"text\treceived payloads, one per line", "frames\tone line per frame", "json\tNDJSON events: the wscope recording"},
	"binary-as": {"base64", "hex", "raw"},
	"stdin":     {"lines\tone message per line", "raw\tthe stream as binary chunks", "json\tone message or frame object per line"},
	"from":      {"client", "server"},
	"op":        {"text", "binary", "cont", "close", "ping", "pong", "data", "control"},
	"decode":    session.DecoderNames(),
}

// completeFlagValues registers flagValues on every command under root.
func completeFlagValues(root *cobra.Command) {
	for _, c := range root.Commands() {
		for name, values := range flagValues {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
	}
}
