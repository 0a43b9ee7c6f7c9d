package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wscope/wscope/internal/config"
)

// configPath is the configuration file: $WSCOPE_CONFIG, else the XDG
// default.
func configPath() string {
	if p := os.Getenv("WSCOPE_CONFIG"); p != "" {
		return p
	}
	return config.DefaultPath()
}

// ConfigOptions are the arguments of `wscope config`.
type ConfigOptions struct {
	IO   *IOStreams
	Verb string // list, show, path
	Name string
}

// NewCmdConfig builds `wscope config`.
func NewCmdConfig(ios *IOStreams, runF func(context.Context, *ConfigOptions) error) *cobra.Command {
	opts := &ConfigOptions{IO: ios}
	c := &cobra.Command{
		Use:   "config list | show NAME | path",
		Short: "List the named targets of the configuration file",
		Long: `Named targets stand for a server and how to talk to it:
"wscope connect @staging" takes the URL, headers, subprotocols, origin,
Basic credentials, TLS files, proxy, compression, connect timeout and the
messages to send first (as -x) from the target staging, and the flags given
on the command line override them (-H replaces a header of the same name).

The file is $WSCOPE_CONFIG, or $XDG_CONFIG_HOME/wscope/config.toml
(~/.config/wscope/config.toml), in TOML:

  [targets.staging]
  url = "wss://staging.example.com/ws"
  headers = ["Authorization: Bearer ${STAGING_TOKEN}"]
  subprotocols = ["graphql-transport-ws"]
  ca = "~/certs/staging-ca.pem"
  compress = true
  execute = ['{"type":"connection_init"}']
  connect_timeout = "5s"

Other keys: origin, auth ("user:pass"), cert, key, insecure, proxy. A
${NAME} takes the environment variable's value when the target is used, so
secrets stay out of the file; one that is not set is an error. Unknown
keys are an error too.

config list prints the targets' names and URLs, config show NAME one target
as written in the file (variables not expanded: nothing secret is printed),
config path where the file is looked for.`,
		Example: `  wscope config list
  wscope config show staging
  STAGING_TOKEN=... wscope connect @staging -o frames`,
		Args: func(c *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && (args[0] == "list" || args[0] == "path"):
			case len(args) == 2 && args[0] == "show":
			default:
				return usageErr("want config list, config show NAME or config path")
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			switch len(args) {
			case 0:
				return []string{"list", "show", "path"}, cobra.ShellCompDirectiveNoFileComp
			case 1:
				if args[0] == "show" {
					return targetNames(""), cobra.ShellCompDirectiveNoFileComp
				}
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Verb = args[0]
			if len(args) == 2 {
				opts.Name = args[1]
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return configRun(opts)
		},
	}
	return c
}

func configRun(opts *ConfigOptions) error {
	path := configPath()
	if opts.Verb == "path" {
		fmt.Fprintln(opts.IO.Out, path)
		return nil
	}
	f, err := config.Load(path)
	if err != nil {
		return usageErr("%v", err)
	}
	switch opts.Verb {
	case "list":
		for _, n := range f.Names() {
			fmt.Fprintf(opts.IO.Out, "%-20s %s\n", n, f.Targets[n].URL)
		}
	case "show":
		t, ok := f.Targets[opts.Name]
		if !ok {
			_, err := f.Target(opts.Name, os.LookupEnv)
			return usageErr("%v", err)
		}
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(map[string]map[string]config.Target{"targets": {opts.Name: t}}); err != nil {
			return exitf(ExitRuntime, "%v", err)
		}
		fmt.Fprintf(opts.IO.Out, "# from %s\n%s", f.Path, b.String())
	}
	return nil
}

// targetNames are the targets for completion, as "@name\tURL", those that
// start with prefix; none without a readable file.
func targetNames(prefix string) []string {
	f, err := config.Load(configPath())
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range f.Names() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n+"\t"+f.Targets[n].URL)
		}
	}
	return out
}

// applyTarget fills the connect options from the target named by the URL
// argument "@name", leaving what the command line set (fs) as it is.
func (opts *ConnectOptions) applyTarget(fs *pflag.FlagSet) error {
	name := strings.TrimPrefix(opts.URL, "@")
	f, err := config.Load(configPath())
	if err != nil {
		return usageErr("@%s: %v", name, err)
	}
	t, err := f.Target(name, os.LookupEnv)
	if err != nil {
		return usageErr("@%s: %v", name, err)
	}
	set := func(flag string, apply func()) {
		if !fs.Changed(flag) {
			apply()
		}
	}
	opts.URL = t.URL
	opts.Headers = mergeHeaders(t.Headers, opts.Headers)
	set("subprotocol", func() { opts.Subprotocols = t.Subprotocols })
	set("execute", func() { opts.Execute = t.Execute })
	set("origin", func() { opts.Origin = t.Origin })
	set("auth", func() { opts.Auth = t.Auth })
	set("ca", func() { opts.TLS.CAFile = t.CA })
	set("cert", func() { opts.TLS.CertFile = t.Cert })
	set("key", func() { opts.TLS.KeyFile = t.Key })
	set("insecure", func() { opts.TLS.Insecure = t.Insecure })
	set("proxy", func() { opts.Proxy = t.Proxy })
	set("compress", func() { opts.Compress.On = t.Compress })
	if t.ConnectTimeout.Duration > 0 {
		set("connect-timeout", func() { opts.ConnectTimeout = t.ConnectTimeout.Duration })
	}
	return nil
}

// mergeHeaders is the target's headers, those the command line names
// replaced, then the command line's.
func mergeHeaders(file, flags []string) []string {
	name := func(h string) string { n, _, _ := strings.Cut(h, ":"); return strings.ToLower(strings.TrimSpace(n)) }
	given := map[string]bool{}
	for _, h := range flags {
		given[name(h)] = true
	}
	var out []string
	for _, h := range file {
		if !given[name(h)] {
			out = append(out, h)
		}
	}
	return append(out, flags...)
}
