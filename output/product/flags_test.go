package product

import "flag"

// -update refreshes golden files in output/export; it is declared here too
// so that "go test ./output/... -update" runs every package's tests.
var _ = flag.Bool("update", false, "refresh golden files (used by output/export)")
