//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinChildren pins every thread of this process's child processes whose executable is named
// one of names (kube-apiserver, etcd) to cpu, and returns how many processes it pinned.
// Threads started later inherit the affinity of the thread that starts them.
func pinChildren(cpu int, names ...string) (int, error) {
	self := os.Getpid()
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var set unix.CPUSet
	set.Set(cpu)
	pinned := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after its closing paren.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(self) {
			continue
		}
		comm := s[strings.IndexByte(s, '(')+1 : i]
		if !containsName(names, comm) {
			continue
		}
		tasks, err := os.ReadDir(filepath.Join("/proc", p.Name(), "task"))
		if err != nil {
			return pinned, err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				return pinned, fmt.Errorf("pinning %s (pid %d, thread %d): %w", comm, pid, tid, err)
			}
		}
		pinned++
	}
	return pinned, nil
}

func containsName(names []string, comm string) bool {
	for _, n := range names {
		// comm is cut at 15 characters.
		if comm == n || (len(comm) == 15 && strings.HasPrefix(n, comm)) {
			return true
		}
	}
	return false
}
