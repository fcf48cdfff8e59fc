package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/output/export"
)

// stateFlags find the state file: --state FILE, or --out FOLDER, or the
// default folder of --app-name.
type stateFlags struct {
	path    string
	out     string
	appName string
}

func (s *stateFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	stringFlag(fs, &s.path, "state", "FILE", "the state file a setup wrote (default: <out>/state.json)", nil)
	stringFlag(fs, &s.out, "out", "FOLDER", "the setup's output folder (holds state.json)", nil)
	stringFlag(fs, &s.appName, "app-name", "NAME", "the app's display name, to find mailoauth-out/<name>/state.json", nil)
}

func (s *stateFlags) load() (string, *state.State, error) {
	path := s.path
	switch {
	case path != "":
	case s.out != "":
		path = filepath.Join(s.out, engine.StateFileName)
	case s.appName != "":
		path = filepath.Join(export.DefaultOutDir(s.appName), engine.StateFileName)
	default:
		return "", nil, usagef("--state required: the state file a setup wrote (or --out FOLDER, or --app-name NAME)")
	}
	st, err := state.Load(path)
	if errors.Is(err, state.ErrNotFound) {
		return path, nil, usagef("--state: no state file at %s; accepted: the state.json in a setup's output folder", path)
	}
	if err != nil {
		return path, nil, err
	}
	return path, st, nil
}

// secretFrom finds the client secret for export and test: the environment
// (MAILOAUTH_CLIENT_SECRET), else a hidden prompt on a terminal. The state
// file never holds it.
func secretFrom(io IO, ask bool) (string, error) {
	if s := io.Getenv("MAILOAUTH_CLIENT_SECRET"); s != "" {
		return s, nil
	}
	if !ask || !io.Interactive {
		return "", nil
	}
	return readHidden(io, "Client secret value (Enter leaves it out): ")
}

func readHidden(io IO, prompt string) (string, error) {
	fmt.Fprint(io.Err, prompt)
	if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(io.Err)
		return strings.TrimSpace(string(b)), err
	}
	line, err := readLine(io.In)
	if err != nil && line == "" {
		return "", nil
	}
	return strings.TrimSpace(line), nil
}

// readLine reads one answer line, byte by byte: a bufio.Reader made per
// prompt would swallow the answers to the prompts after it when stdin is
// a pipe (the secret, then "y" to overwrite a changed file).
func readLine(in io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// cloudFor is the cloud the state names, with the flags' overrides. A
// state written for another cloud than the flags select is refused: the
// command would otherwise sign in to, test against or export the settings
// of the wrong cloud (a custom cloud's endpoints are not in the state, so
// without --cloud custom and its flags it silently became the global one).
func (cf *cloudFlags) cloudFor(st *state.State) (cloud.Cloud, error) {
	if cf.name == "global" && st.Cloud != "" && st.Cloud != "global" && st.Cloud != "custom" {
		cf.name = st.Cloud
	}
	c, err := cf.cloud()
	if err != nil {
		return c, err
	}
	switch {
	case st.Cloud == "custom" && c.Name != "custom":
		return cloud.Cloud{}, usagef("--cloud custom required: the state file was written for a custom cloud (a lab or the simulator), whose endpoints it does not record; accepted: the setup's --cloud custom --authority URL --graph-url URL (and --imap, --pop, --smtp, --ews-url, --ca-file as it used)")
	case st.Cloud != "" && c.Name != st.Cloud:
		return cloud.Cloud{}, usagef("--cloud %s: the state file was written for the %s cloud; accepted: --cloud %s", cf.name, st.Cloud, st.Cloud)
	}
	return c, nil
}

// confirmer asks before overwriting a file the admin changed (terminal only).
func confirmer(io IO) func(string) bool {
	if !io.Interactive {
		return nil
	}
	return func(path string) bool {
		fmt.Fprintf(io.Err, "%s was changed since mailoauth wrote it. Overwrite? [y/N] ", path)
		line, _ := readLine(io.In)
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y")
	}
}
