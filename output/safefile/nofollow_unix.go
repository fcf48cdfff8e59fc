//go:build unix

package safefile

import "syscall"

// oNoFollow makes open fail on a final symbolic link (ELOOP).
const oNoFollow = syscall.O_NOFOLLOW
