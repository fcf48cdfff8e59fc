package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// errHelpShown ends a command after --help printed its flags: exit 0.
var errHelpShown = errors.New("help shown")

func newFlagSet(name, summary string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("mailoauth "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "%s\n\nUsage: mailoauth %s [flags]\n\nFlags:\n", summary, name)
		printFlags(io.Err, fs)
	}
	return fs
}

// parseFlags turns flag errors into usage errors (exit 2) and refuses
// stray arguments, which are almost always a missing "--". A bad flag gets
// one line naming it (as --name) and where the flags are listed, not the
// flag package's message followed by the whole flag list and then the
// same message again; --help still prints the list.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return errHelpShown
		}
		return &UsageError{Msg: flagError(fs, err)}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (flags start with --)", fs.Name(), fs.Arg(0))
	}
	return nil
}

var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(\S+)$`)
	flagInvalid   = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-+([\w-]+): (.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(\S+)$`)
)

// acceptedForm describes a built-in flag type's values.
func acceptedForm(f *flag.Flag, cmd string) string {
	if f != nil {
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			return "true or false"
		}
		if g, ok := f.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case time.Duration:
				return "a duration such as 30s, 10m or 1h30m"
			case int, int64, uint, uint64:
				return "a whole number"
			}
		}
	}
	return "see '" + cmd + " --help'"
}

// flagError rewrites the flag package's messages in the --name form, with
// the accepted form when the flag gave one.
func flagError(fs *flag.FlagSet, err error) string {
	cmd, msg := fs.Name(), err.Error()
	help := fmt.Sprintf("run '%s --help' for its flags", cmd)
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown flag --%s; %s", m[1], help)
	}
	if m := flagInvalid.FindStringSubmatch(msg); m != nil {
		why := m[3]
		if why == "parse error" || strings.HasPrefix(why, "strconv.") || strings.HasPrefix(why, "time: ") {
			why = acceptedForm(fs.Lookup(m[2]), cmd)
		}
		return fmt.Sprintf("--%s: %s is not accepted; accepted: %s", m[2], m[1], why)
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s needs a value; %s", m[1], help)
	}
	return msg + "; " + help
}

// cloudFlags select and override the Microsoft 365 cloud.
type cloudFlags struct {
	name string
	o    cloud.Overrides
}

func (c *cloudFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "cloud", "global", "Microsoft 365 cloud: "+strings.Join(cloud.Names, ", "))
	fs.StringVar(&c.o.Authority, "authority", "", "identity platform base `URL` (default: the cloud's, e.g. https://login.microsoftonline.com)")
	fs.StringVar(&c.o.GraphURL, "graph-url", "", "Microsoft Graph base `URL` (default: the cloud's)")
	fs.StringVar(&c.o.IMAP, "imap", "", "IMAP server `host:port` (implicit TLS)")
	fs.StringVar(&c.o.POP, "pop", "", "POP3 server `host:port` (implicit TLS)")
	fs.StringVar(&c.o.SMTP, "smtp", "", "SMTP submission server `host:port` (STARTTLS)")
	fs.StringVar(&c.o.EWSURL, "ews-url", "", "Exchange Web Services `URL`")
	fs.StringVar(&c.o.CAFile, "ca-file", "", "extra trusted CA certificates (PEM `FILE`), e.g. a lab's or the simulator's")
}

func (c *cloudFlags) cloud() (cloud.Cloud, error) {
	base, err := cloud.Lookup(c.name)
	if err != nil {
		return cloud.Cloud{}, &UsageError{Msg: err.Error()}
	}
	out, err := base.Apply(c.o)
	if err != nil {
		return cloud.Cloud{}, &UsageError{Msg: err.Error()}
	}
	return out, nil
}

// printFlags lists the flags in the --name form the README and every
// message use (flag.PrintDefaults writes -name).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}
