package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// errHelpShown ends a command after --help printed its flags: exit 0.
var errHelpShown = errors.New("help shown")

func newFlagSet(name, summary string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("mailoauth "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "%s\n\nUsage: mailoauth %s [flags]\n\nFlags:\n", summary, name)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags turns flag errors into usage errors (exit 2) and refuses
// stray arguments, which are almost always a missing "--".
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (flags start with --)", fs.Name(), fs.Arg(0))
	}
	return nil
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
