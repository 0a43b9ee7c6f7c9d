package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wscope/wscope/bench/internal/harness"
)

// profileRows profiles each wscope command of the benchmark once, on the
// large session, and prints the top of each CPU profile.
func profileRows(c *config, s *sizeResult) error {
	dir := filepath.Join(c.workDir, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(c.root, "bench", ".bin", "wscope-inspect-profile")
	if out, err := harness.GoBuild(c.root, bin, "./bench/inspect/profile"); err != nil {
		return fmt.Errorf("building bench/inspect/profile: %v\n%s", err, out)
	}
	for _, r := range s.rows {
		name := strings.NewReplacer(" ", "_", "-", "").Replace(r.key)
		cpu := filepath.Join(dir, name+".cpu.pprof")
		mem := filepath.Join(dir, name+".allocs.pprof")
		args := append([]string{"-cpuprofile", cpu, "-memprofile", mem, "--"}, r.args...)
		p := exec.CommandContext(c.ctx, bin, args...)
		p.Stderr = os.Stderr
		if err := p.Run(); err != nil {
			logf("profile of %s: %v", r.label, err)
			continue
		}
		top := exec.CommandContext(c.ctx, "go", "tool", "pprof", "-top", "-nodecount=25", cpu)
		top.Dir = c.root
		out, err := top.CombinedOutput()
		if err != nil {
			logf("go tool pprof %s: %v", cpu, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "---- %s (%s)\n%s\n", r.label, cpu, out)
	}
	return nil
}
