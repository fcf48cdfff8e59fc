//go:build !windows

package explain

import "syscall"

// The socket errors the classifier tells apart, as the OS reports them.
var (
	refusedErrnos     = []syscall.Errno{syscall.ECONNREFUSED}
	unreachableErrnos = []syscall.Errno{syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN}
	timeoutErrnos     = []syscall.Errno{syscall.ETIMEDOUT}
	closedErrnos      = []syscall.Errno{syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED}
)
