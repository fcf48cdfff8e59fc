//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package safefile

import (
	"fmt"
	"os"
	"runtime"
)

// tryLock: no folder lock on this OS; the refusal says so rather than
// pretending to protect the folder.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("folder locks are not supported on %s", runtime.GOOS)
}

func unlock(*os.File) error { return nil }
