//go:build !unix

package readers

import "os/exec"

// inOwnGroup: without process groups, cancelling kills the reader itself only.
func inOwnGroup(*exec.Cmd) {}
