package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mailoauth/mailoauth/sim"
)

// simOptions are `mailoauth sim`'s flags.
type simOptions struct {
	InfoFile    string
	AutoApprove string
	Delays      bool
	Verbose     bool
}

func runSim(ctx context.Context, args []string, io IO) error {
	var o simOptions
	fs := newFlagSet("sim", "Serve the simulated Microsoft 365 tenant on 127.0.0.1 until Ctrl-C.", io)
	fs.StringVar(&o.InfoFile, "info", "", "write the endpoints, CA path and seeded users as JSON to `FILE`")
	fs.StringVar(&o.AutoApprove, "auto-approve", "", "approve every device-code and browser sign-in as `USER` (a seeded UPN)")
	fs.BoolVar(&o.Delays, "delays", false, "simulate a few seconds of Entra replication delay, as the demo does")
	fs.BoolVar(&o.Verbose, "verbose", false, "log every request to stderr (never tokens or secrets)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return serveSim(ctx, o, io)
}

func serveSim(ctx context.Context, o simOptions, io IO) error {
	opts := sim.Options{AutoApprove: o.AutoApprove}
	if o.Delays {
		opts.Delays = sim.DemoDelays()
	}
	if o.Verbose {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(io.Err, "sim: "+format+"\n", args...) }
	}
	if o.InfoFile != "" {
		// The CA goes next to the info file so a second process can trust it.
		opts.CACertFile = strings.TrimSuffix(o.InfoFile, filepath.Ext(o.InfoFile)) + "-ca.pem"
	}
	s, err := sim.Start(opts)
	if err != nil {
		return fmt.Errorf("starting the simulated tenant: %w", err)
	}
	defer s.Close()
	info := s.Info()
	if o.InfoFile != "" {
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		// The file lists the demo users' passwords: keep it private like any credential file.
		if err := os.WriteFile(o.InfoFile, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("--info: %w", err)
		}
	}
	printSimInfo(io, info, o)
	<-ctx.Done()
	fmt.Fprintln(io.Err, "Stopping the simulated tenant.")
	return nil
}

func printSimInfo(io IO, info sim.Info, o simOptions) {
	w := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Simulated Microsoft 365 tenant %q is running (Ctrl-C stops it).\n\n", info.TenantName)
	fmt.Fprintf(w, "Tenant ID\t%s\n", info.TenantID)
	fmt.Fprintf(w, "Domains\t%s\n", strings.Join(info.Domains, ", "))
	fmt.Fprintf(w, "Authority\t%s\n", info.Authority)
	fmt.Fprintf(w, "Graph\t%s/v1.0\n", info.GraphURL)
	fmt.Fprintf(w, "IMAP\t%s (implicit TLS)\n", info.IMAP)
	fmt.Fprintf(w, "POP3\t%s (implicit TLS)\n", info.POP)
	fmt.Fprintf(w, "SMTP\t%s (STARTTLS)\n", info.SMTP)
	fmt.Fprintf(w, "EWS\t%s\n", info.EWSURL)
	fmt.Fprintf(w, "Device login\t%s\n", info.DeviceLoginURL)
	fmt.Fprintf(w, "CA certificate\t%s\n", info.CACertFile)
	if o.InfoFile != "" {
		fmt.Fprintf(w, "Info (JSON)\t%s\n", o.InfoFile)
	}
	if o.AutoApprove != "" {
		fmt.Fprintf(w, "Auto-approve\tevery sign-in as %s\n", o.AutoApprove)
	}
	fmt.Fprintf(w, "\nSeeded users (their demo passwords are in the --info file):\n")
	for _, u := range info.Users {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", u.UPN, u.DisplayName, describeSimUser(u))
	}
	fmt.Fprintf(w, "\nUse it: mailoauth setup --cloud custom --authority %s --graph-url %s --imap %s --pop %s --smtp %s --ews-url %s --ca-file %s\n",
		info.AuthorityHost, info.GraphURL, info.IMAP, info.POP, info.SMTP, info.EWSURL, info.CACertFile)
	w.Flush()
}

// describeSimUser is one seeded user's line: roles, licence, flags.
func describeSimUser(u sim.UserInfo) string {
	var parts []string
	if len(u.Roles) > 0 {
		parts = append(parts, strings.Join(u.Roles, ", "))
	}
	switch {
	case u.SharedMailbox:
		parts = append(parts, "shared mailbox")
	case u.Licence != "":
		parts = append(parts, u.Licence)
	default:
		parts = append(parts, "no licence")
	}
	if u.MFA {
		parts = append(parts, "MFA required")
	}
	return strings.Join(parts, "; ")
}
