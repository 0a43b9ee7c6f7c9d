package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStatus reads a size in bytes from /proc/PID/status, key with its
// colon ("VmRSS:", "VmHWM:"); 0 when it cannot.
func ProcStatus(pid int, key string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// MiB writes a size in bytes as mebibytes, one decimal.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
