package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version, Commit and Date are stamped by the release build (README "Set
// up on a fresh machine"; internal/release):
//
//	-ldflags "-X github.com/mailoauth/mailoauth/cli.Version=1.2.0 -X ...cli.Commit=<sha> -X ...cli.Date=<RFC 3339>"
//
// Unstamped (go install, go build), they come from the module version and
// the VCS information Go records, where there is any.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// BuildInfo is what `mailoauth version` prints.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// buildInfo is the stamp, else what the Go toolchain recorded: the module
// version of `go install github.com/mailoauth/mailoauth@v1.2.0`, the
// commit and time of a build from a git checkout.
func buildInfo() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

type versionOptions struct {
	IO      IO
	jsonOut bool
}

func newCmdVersion(io IO, runF func(context.Context, *versionOptions) error) *cobra.Command {
	o := &versionOptions{IO: io}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and build date",
		Example: "  mailoauth version\n  mailoauth version --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return versionRun(o)
		},
	}
	boolFlag(cmd.Flags(), &o.jsonOut, "json", false, "print the version as JSON")
	return cmd
}

func versionRun(o *versionOptions) error {
	b := buildInfo()
	if o.jsonOut {
		return writeJSON(o.IO, b)
	}
	line := "mailoauth " + b.Version
	if b.Commit != "" {
		short := b.Commit
		if len(short) > 12 {
			short = short[:12]
		}
		line += " (commit " + short
		if b.Date != "" {
			line += ", " + b.Date
		}
		line += ")"
	}
	_, err := fmt.Fprintf(o.IO.Out, "%s %s %s/%s\n", line, b.Go, b.OS, b.Arch)
	return err
}
