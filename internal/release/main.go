// Command release builds mailoauth's release archives: one per platform
// (linux, darwin and windows on amd64 and arm64; tar.gz, zip for windows),
// each holding the binary and README.md, plus a SHA-256 checksums file
// that `sha256sum -c` and PowerShell's Get-FileHash check.
//
//	go run ./internal/release                  # version from git describe, into dist/
//	go run ./internal/release -version 1.2.0   # the tag being released
//
// It needs only the Go toolchain and git (no GoReleaser, no network beyond
// the Go module proxy), and it is reproducible: the same commit gives the
// same bytes. Binaries are built with -trimpath, -buildvcs=false and
// CGO_ENABLED=0, stamped with the version, the commit and the commit's
// date (-ldflags -X github.com/mailoauth/mailoauth/cli.Version=...), and
// archived in a fixed order with fixed modes, owners and times (the
// commit's date): nothing depends on the machine, the clock or the path.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Target is one platform a release is built for.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// Targets are the platforms of a release.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// stampPkg holds the variables -ldflags -X sets (cli.Version, cli.Commit,
// cli.Date); `mailoauth version` prints them.
const stampPkg = "github.com/mailoauth/mailoauth/cli"

// Stamp is what a release binary says about itself.
type Stamp struct {
	Version string // 1.2.0 (no leading v)
	Commit  string // the full commit hash
	Date    time.Time
}

// LDFlags are the linker flags of a release build: no symbol table or
// DWARF (-s -w: a smaller download; panics still print their stack), and
// the stamp.
func (s Stamp) LDFlags() string {
	return strings.Join([]string{
		"-s", "-w",
		"-X", stampPkg + ".Version=" + s.Version,
		"-X", stampPkg + ".Commit=" + s.Commit,
		"-X", stampPkg + ".Date=" + s.Date.UTC().Format(time.RFC3339),
	}, " ")
}

func main() {
	var (
		version = flag.String("version", "", "version to stamp, e.g. 1.2.0 (default: git describe --tags --always)")
		out     = flag.String("out", "dist", "folder for the archives and the checksums file")
		only    = flag.String("targets", "", "comma-separated os/arch to build (default: all six)")
	)
	flag.Parse()
	if err := run(*version, *out, *only); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, out, only string) error {
	root, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("run it from a git checkout of mailoauth: %w", err)
	}
	stamp, dirty, err := stampFromGit(version)
	if err != nil {
		return err
	}
	if dirty {
		fmt.Fprintln(os.Stderr, "release: warning: the working tree has uncommitted changes; the archives are not the commit's")
	}
	targets, err := pickTargets(only)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "mailoauth-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var archives []string
	for _, t := range targets {
		start := time.Now()
		bin := filepath.Join(work, t.OS+"-"+t.Arch, binaryName(t))
		if err := build(root, t, stamp, bin); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		name, data, err := Archive(t, stamp, exe, readme)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		archives = append(archives, filepath.Join(out, name))
		fmt.Fprintf(os.Stderr, "release: %-14s %s (%.1f MB binary, %.1f MB archive, %s)\n", t, name,
			float64(len(exe))/1e6, float64(len(data))/1e6, time.Since(start).Round(100*time.Millisecond))
	}
	sums, err := Checksums(archives)
	if err != nil {
		return err
	}
	sumsFile := filepath.Join(out, ChecksumsName(stamp))
	if err := os.WriteFile(sumsFile, sums, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "release: %s %s (commit %.12s, %s) -> %s\n", "mailoauth", stamp.Version, stamp.Commit, stamp.Date.UTC().Format(time.RFC3339), sumsFile)
	return nil
}

// build compiles one target. The environment is set in full for what
// changes the output (GOOS, GOARCH, their micro-architecture level, cgo,
// GOFLAGS), so a developer's settings cannot leak into a release.
func build(root string, t Target, s Stamp, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", s.LDFlags(), "-o", out, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED=0", "GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0", "GOEXPERIMENT=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func binaryName(t Target) string {
	if t.OS == "windows" {
		return "mailoauth.exe"
	}
	return "mailoauth"
}

func pickTargets(only string) ([]Target, error) {
	if only == "" {
		return Targets, nil
	}
	var out []Target
	for _, s := range strings.Split(only, ",") {
		found := false
		for _, t := range Targets {
			if t.String() == strings.TrimSpace(s) {
				out, found = append(out, t), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-targets: %q is not a release target; accepted: %s", s, targetList())
		}
	}
	return out, nil
}

func targetList() string {
	names := make([]string, len(Targets))
	for i, t := range Targets {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// stampFromGit reads the commit and its date from git, and the version
// from -version or `git describe`.
func stampFromGit(version string) (Stamp, bool, error) {
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		return Stamp{}, false, err
	}
	when, err := git("log", "-1", "--format=%cI", "HEAD")
	if err != nil {
		return Stamp{}, false, err
	}
	date, err := time.Parse(time.RFC3339, when)
	if err != nil {
		return Stamp{}, false, fmt.Errorf("commit date %q: %w", when, err)
	}
	status, err := git("status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return Stamp{}, false, err
	}
	dirty := status != ""
	if version == "" {
		if version, err = git("describe", "--tags", "--always"); err != nil {
			return Stamp{}, false, err
		}
		if dirty {
			version += "-dirty"
		}
	}
	version = strings.TrimPrefix(strings.TrimSpace(version), "v")
	if version == "" || strings.ContainsAny(version, " /\\\"'") {
		return Stamp{}, false, fmt.Errorf("-version %q: accepted: a version such as 1.2.0", version)
	}
	return Stamp{Version: version, Commit: commit, Date: date.UTC()}, dirty, nil
}

func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
