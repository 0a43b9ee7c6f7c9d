package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a benchmark ran.
type Machine struct {
	CPU      string    `json:"cpu"` // model name from /proc/cpuinfo
	NProc    int       `json:"nproc"`
	MemTotal string    `json:"mem_total"`
	Kernel   string    `json:"kernel"`
	Go       string    `json:"go"`
	Commit   string    `json:"commit"` // short hash, "+ uncommitted changes" when the tree is dirty
	Date     time.Time `json:"date"`
}

// DescribeMachine reads the machine's description from /proc, the Go
// version and the repository's commit at root.
func DescribeMachine(root string) Machine {
	m := Machine{CPU: "unknown CPU", NProc: runtime.NumCPU(), Kernel: "unknown", Go: runtime.Version(), Date: time.Now().UTC()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					m.MemTotal = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if out, err := Output(root, "go", "env", "GOVERSION"); err == nil {
		m.Go = out
	}
	if out, err := Output(root, "git", "rev-parse", "--short", "HEAD"); err == nil {
		m.Commit = out
		if st, err := Output(root, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
			m.Commit += " + uncommitted changes"
		}
	}
	return m
}

// Output runs name args in dir and returns its standard output, trimmed.
func Output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// LoadAverage is the 1-minute load average from /proc/loadavg.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// CPUPressure is the share of the last minute in which some runnable task
// waited for a CPU (/proc/pressure/cpu, "some avg60"), in percent.
func CPUPressure() string {
	data, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return "?"
	}
	for _, f := range strings.Fields(string(data)) {
		if v, ok := strings.CutPrefix(f, "avg60="); ok {
			return v
		}
	}
	return "?"
}

// GoBuild runs go build -o out pkg in the repository at root.
func GoBuild(root, out, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	return cmd.CombinedOutput()
}

// Measured is a report's first line: when, on what, with which Go and
// which wscope.
func (m Machine) Measured() string {
	return fmt.Sprintf("Measured %s on %s (%d cores as seen by the Go runtime, %s RAM), Linux %s; %s; wscope at commit %s.\n",
		m.Date.Format("2006-01-02 15:04 UTC"), m.CPU, m.NProc, m.MemTotal, m.Kernel, m.Go, m.Commit)
}
