//go:build !linux

package main

import "errors"

// pinChildren is not available outside Linux.
func pinChildren(int, ...string) (int, error) {
	return 0, errors.New("pinning processes to a CPU needs Linux")
}
