//go:build !unix

package safefile

// oNoFollow: Windows has no such open flag; openNoFollow checks the opened
// file against Lstat instead, and acl_windows.go opens without following
// reparse points (FILE_FLAG_OPEN_REPARSE_POINT).
const oNoFollow = 0
