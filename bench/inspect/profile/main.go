// Command profile runs a wscope command line in-process, through the same
// cmd.Run the wscope binary uses, with its stdout on /dev/null, under the
// CPU profiler, and prints the Go runtime's memory statistics at the end.
// It is the profiling half of the offline-inspection benchmark
// (bench/inspect):
//
//	go run ./bench/inspect/profile -cpuprofile cpu.pprof -memprofile allocs.pprof -- inspect FILE -o json
//	go tool pprof -top cpu.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/wscope/wscope/cmd"
)

func main() { os.Exit(profileMain(os.Args[1:])) }

func profileMain(args []string) int {
	fs := flag.NewFlagSet("profile", flag.ExitOnError)
	cpu := fs.String("cpuprofile", "", "write a CPU profile to this file")
	mem := fs.String("memprofile", "", "write a heap profile (allocations) to this file at the end")
	rate := fs.Int("memprofilerate", 0, "runtime.MemProfileRate (0: the runtime's default, one sample per 512 KiB allocated)")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./bench/inspect/profile [-cpuprofile F] [-memprofile F] -- WSCOPE-ARGS...\n")
		fs.PrintDefaults()
	}
	fs.Parse(args)
	wargs := fs.Args()
	if len(wargs) == 0 {
		fs.Usage()
		return 2
	}
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer devnull.Close()
	ios := &cmd.IOStreams{In: os.Stdin, Out: devnull, ErrOut: os.Stderr}

	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	start := time.Now()
	code := cmd.Run(context.Background(), ios, wargs)
	wall := time.Since(start)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if *mem != "" {
		f, err := os.Create(*mem)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	fmt.Fprintf(os.Stderr, "wscope %s: exit %d in %.2f s; allocated %.1f MB in %d objects (%d GCs), heap in use at the end %.1f MiB, heap from the OS %.1f MiB, total from the OS %.1f MiB\n",
		strings.Join(wargs, " "), code, wall.Seconds(), float64(ms.TotalAlloc)/1e6, ms.Mallocs, ms.NumGC,
		float64(ms.HeapInuse)/(1<<20), float64(ms.HeapSys)/(1<<20), float64(ms.Sys)/(1<<20))
	return code
}
