package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/sim"
)

// simOptions are `mailoauth sim`'s flags.
type simOptions struct {
	IO          IO
	InfoFile    string
	AutoApprove string
	Delays      bool
	Latency     time.Duration
	Verbose     bool
}

const simExamples = `  # Serve the simulated tenant, and in another terminal point a setup at it (it prints the exact flags)
  mailoauth sim --info sim.json --auto-approve admin@contoso.onmicrosoft.com

  # A slower, more realistic tenant for a demo or a benchmark: 40 ms per request, replication delays
  mailoauth sim --latency 40ms --delays`

func newCmdSim(io IO, runF func(context.Context, *simOptions) error) *cobra.Command {
	o := &simOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the simulated Microsoft 365 tenant on 127.0.0.1 in the foreground",
		Long: "Serve the simulated Microsoft 365 tenant (identity platform, Graph, Exchange Online's IMAP, POP3, SMTP and EWS)\n" +
			"on 127.0.0.1 until Ctrl-C, and print the flags that point mailoauth at it.",
		Example: simExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return serveSim(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	stringFlag(fs, &o.InfoFile, "info", "FILE", "write the endpoints, CA path and seeded users as JSON to FILE", nil)
	stringFlag(fs, &o.AutoApprove, "auto-approve", "USER", "approve every device-code and browser sign-in as USER (a seeded UPN)", nil)
	boolFlag(fs, &o.Delays, "delays", false, "simulate a few seconds of Entra replication delay, as the demo does")
	durationFlag(fs, &o.Latency, "latency", 0, "add DURATION to every HTTP request (demos, benchmarks), e.g. 40ms")
	boolFlag(fs, &o.Verbose, "verbose", false, "log every request to stderr (never tokens or secrets)")
	return cmd
}

func serveSim(ctx context.Context, o *simOptions) error {
	io := o.IO
	opts := sim.Options{AutoApprove: o.AutoApprove, Latency: o.Latency}
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

func printSimInfo(io IO, info sim.Info, o *simOptions) {
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
	if o.Latency > 0 {
		fmt.Fprintf(w, "Latency\t%s added to every HTTP request\n", o.Latency)
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
