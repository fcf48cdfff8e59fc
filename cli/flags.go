package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/validate"
	"github.com/mailoauth/mailoauth/output/product"
	"github.com/mailoauth/mailoauth/steps"
)

// Flag values are typed: each refuses a bad value with an error that
// names the accepted form, which flagError puts after the flag's name. No
// message of the flag package is rewritten.

// boolValue is a switch: --yes, or --yes=false.
type boolValue struct{ p *bool }

func (b boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return &validate.Error{Value: s, Problem: "is not accepted", Accepted: "true or false"}
	}
	*b.p = v
	return nil
}
func (b boolValue) String() string   { return strconv.FormatBool(b.p != nil && *b.p) }
func (b boolValue) Type() string     { return "bool" }
func (b boolValue) IsBoolFlag() bool { return true }

func boolFlag(fs *pflag.FlagSet, p *bool, name string, def bool, usage string) {
	*p = def
	fs.VarPF(boolValue{p}, name, "", usage).NoOptDefVal = "true"
}

// durationValue is a wait or a limit: 30s, 10m, 1h30m; never negative.
type durationValue struct{ p *time.Duration }

func (d durationValue) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return &validate.Error{Value: s, Problem: "is not accepted", Accepted: "a duration such as 30s, 10m or 1h30m"}
	}
	*d.p = v
	return nil
}
func (d durationValue) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}
func (d durationValue) Type() string { return "duration" }

func durationFlag(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(durationValue{p}, name, usage)
}

// checkedValue is a string with a rule (a tenant, a GUID, an address):
// refused where it is typed, before anything else happens.
type checkedValue struct {
	p     *string
	check func(string) error
	arg   string
}

func (c checkedValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if s != "" && c.check != nil {
		if err := c.check(s); err != nil {
			return err
		}
	}
	*c.p = s
	return nil
}
func (c checkedValue) String() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}
func (c checkedValue) Type() string { return c.arg }

// stringFlag is a string flag; check (may be nil) is its rule and arg
// names its value in --help.
func stringFlag(fs *pflag.FlagSet, p *string, name, arg, usage string, check func(string) error) {
	fs.Var(checkedValue{p: p, check: check, arg: arg}, name, usage)
}

// answerValue is the flag of an answers key (steps.Keys): its value is
// parsed by the key's kind into the flag answers, which are merged over
// the answers file; the key's rule is checked with every other answer by
// steps.Precheck.
type answerValue struct {
	key steps.KeyInfo
	a   *steps.Answers
}

func (v answerValue) Set(s string) error {
	if err := v.key.Parse(v.a, s); err != nil {
		return err
	}
	return nil
}
func (v answerValue) String() string { s, _ := v.a.Get(v.key.Key); return s }
func (v answerValue) Type() string {
	if v.key.Arg != "" {
		return v.key.Arg
	}
	return v.key.Kind.String()
}

// registerAnswerFlags: every answers key that has a flag gets it, from
// the one table.
func registerAnswerFlags(cmd *cobra.Command, a *steps.Answers) {
	for _, k := range steps.Keys {
		if k.Flag == "" {
			continue
		}
		name := strings.TrimPrefix(k.Flag, "--")
		cmd.Flags().Var(answerValue{key: k, a: a}, name, k.Usage())
		if choices := completionChoices(k); len(choices) > 0 {
			_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion(choices...))
		}
	}
}

func completionChoices(k steps.KeyInfo) []string {
	switch {
	case k.Kind == steps.BoolAnswer:
		return []string{"true", "false"}
	case len(k.Choices) > 0:
		return k.Choices
	case k.Key == "method":
		var ids []string
		seen := map[string]bool{}
		for _, p := range product.All() {
			for _, m := range p.Methods {
				if !seen[m.ID] {
					seen[m.ID] = true
					ids = append(ids, m.ID)
				}
			}
		}
		return ids
	}
	return nil
}

func fixedCompletion(choices ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return choices, cobra.ShellCompDirectiveNoFileComp
	}
}

// flagError turns pflag's typed errors into one usage line (exit 2) that
// names the flag and, for a bad value, the accepted form; --help is not
// printed after it.
func flagError(cmd *cobra.Command, err error) error {
	help := fmt.Sprintf("run '%s --help' for its flags", cmd.CommandPath())
	var (
		notExist *pflag.NotExistError
		noValue  *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &notExist):
		if short := notExist.GetSpecifiedShortnames(); short != "" {
			return usagef("unknown flag -%s in -%s (flags start with --); %s", notExist.GetSpecifiedName(), short, help)
		}
		return usagef("unknown flag --%s; %s", notExist.GetSpecifiedName(), help)
	case errors.As(err, &noValue):
		return usagef("--%s needs a value; %s", noValue.GetFlag().Name, help)
	case errors.As(err, &invalid):
		name := "--" + invalid.GetFlag().Name
		var ve *validate.Error
		if errors.As(invalid, &ve) {
			return usagef("%s: %v", name, ve)
		}
		return usagef("%s: %q is not accepted; accepted: %v", name, invalid.GetValue(), errors.Unwrap(invalid))
	case errors.As(err, &syntax):
		return usagef("bad flag syntax %s; flags look like --name or --name value; %s", syntax.GetSpecifiedFlag(), help)
	}
	return usagef("%v; %s", err, help)
}

// noArgs refuses stray arguments, which are almost always a missing "--".
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q (flags start with --)", cmd.CommandPath(), args[0])
	}
	return nil
}

// cloudFlags select and override the Microsoft 365 cloud.
type cloudFlags struct {
	name string
	o    cloud.Overrides
}

func (c *cloudFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	c.name = "global"
	stringFlag(fs, &c.name, "cloud", "NAME", "Microsoft 365 cloud: "+strings.Join(cloud.Names, ", "), nil)
	_ = cmd.RegisterFlagCompletionFunc("cloud", fixedCompletion(cloud.Names...))
	stringFlag(fs, &c.o.Authority, "authority", "URL", "identity platform base URL (default: the cloud's, e.g. https://login.microsoftonline.com)", nil)
	stringFlag(fs, &c.o.GraphURL, "graph-url", "URL", "Microsoft Graph base URL (default: the cloud's)", nil)
	stringFlag(fs, &c.o.IMAP, "imap", "host:port", "IMAP server (implicit TLS)", nil)
	stringFlag(fs, &c.o.POP, "pop", "host:port", "POP3 server (implicit TLS)", nil)
	stringFlag(fs, &c.o.SMTP, "smtp", "host:port", "SMTP submission server (STARTTLS)", nil)
	stringFlag(fs, &c.o.EWSURL, "ews-url", "URL", "Exchange Web Services URL", nil)
	stringFlag(fs, &c.o.CAFile, "ca-file", "FILE", "extra trusted CA certificates (PEM), e.g. a lab's or the simulator's", nil)
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

// Rules of the non-answer flags that name something in the tenant.
func checkTenant(s string) error   { return validate.Tenant(s) }
func checkClientID(s string) error { return validate.GUID(s) }
func checkAddress(s string) error  { return validate.Email(s) }
