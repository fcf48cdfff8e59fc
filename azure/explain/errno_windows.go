//go:build windows

package explain

import "syscall"

// The socket errors the classifier tells apart. Winsock reports its own
// WSAE* numbers, which syscall.ECONNREFUSED and friends (invented values on
// Windows) never match, so they are listed by number (winerror.h).
var (
	refusedErrnos     = []syscall.Errno{syscall.ECONNREFUSED, 10061 /* WSAECONNREFUSED */}
	unreachableErrnos = []syscall.Errno{syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, 10050 /* WSAENETDOWN */, 10051 /* WSAENETUNREACH */, 10065 /* WSAEHOSTUNREACH */}
	timeoutErrnos     = []syscall.Errno{syscall.ETIMEDOUT, 10060 /* WSAETIMEDOUT */}
	closedErrnos      = []syscall.Errno{syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED, syscall.WSAECONNRESET, syscall.WSAECONNABORTED}
)
