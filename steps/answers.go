package steps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Answers are the wizard's answers given ahead of time: an answers file
// (YAML) and command-line flags share the same keys. A nil field or an
// empty list means "not answered": the step's default is used, or, for a
// question without a default, the unattended runner names the missing
// flag and key.
type Answers struct {
	Product           string `yaml:"product,omitempty"`
	Method            string `yaml:"method,omitempty"`
	AppName           string `yaml:"app_name,omitempty"`
	AppID             string `yaml:"app_id,omitempty"`
	Audience          string `yaml:"audience,omitempty"`
	Protocols         List   `yaml:"protocols,omitempty"`
	ExtraViewURL      string `yaml:"extraview_url,omitempty"`
	CallbackURL       string `yaml:"callback_url,omitempty"`
	RedirectURI       string `yaml:"redirect_uri,omitempty"`
	Mailboxes         List   `yaml:"mailboxes,omitempty"`
	AdditionalUsers   List   `yaml:"additional_users,omitempty"`
	SecretMonths      *int   `yaml:"secret_months,omitempty"`
	RequireAssignment *bool  `yaml:"require_assignment,omitempty"`
	Test              *bool  `yaml:"test,omitempty"`
	TestPassword      string `yaml:"test_password,omitempty"`
}

// KeyInfo describes one answers key and its flag.
type KeyInfo struct {
	Key  string // answers-file key, e.g. callback_url
	Flag string // flag, e.g. --callback-url
	Help string // the accepted form
}

// Keys lists every answers key, in the order the steps ask them. The cli
// registers one flag per key from this list.
var Keys = []KeyInfo{
	{"product", "--product", "extraview, email-this-issue, genesys, agiloft, monitor-erp, generic"},
	{"method", "--method", "Monitor ERP: user-password, client-secret; generic: auth-code, ropc, client-credentials, device-code"},
	{"protocols", "--protocols", "list or comma-separated: imap, pop, smtp, ews, graph-read, graph-send"},
	{"extraview_url", "--extraview-url", "ExtraView instance URL, https://host/evj"},
	{"callback_url", "--callback-url", "the Callback URL shown by Email This Issue (https://...)"},
	{"redirect_uri", "--redirect-uri", "redirect URI for the generic auth-code method (https://..., or http://localhost...)"},
	{"app_name", "--app-name", "app registration display name"},
	{"app_id", "--app-id", "Application (client) ID of an existing app to update"},
	{"audience", "--audience", "single, multi"},
	{"secret_months", "--secret-months", "client secret lifetime in months, 1..24 (default 12)"},
	{"mailboxes", "--mailboxes", "list or comma-separated mailbox addresses"},
	{"additional_users", "--additional-users", "list or comma-separated extra mailbox addresses (Agiloft Additional Users)"},
	{"require_assignment", "--require-assignment", "true, false: only assigned users may sign in"},
	{"test", "--test", "true, false: run the login test"},
	{"test_password", "--test-password", "mailbox password for an unattended ROPC login test (never stored)"},
}

// FlagFor returns the flag of an answers key ("--" + key with dashes).
func FlagFor(key string) string {
	for _, k := range Keys {
		if k.Key == key {
			return k.Flag
		}
	}
	return "--" + strings.ReplaceAll(key, "_", "-")
}

func keyNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Key
	}
	return strings.Join(names, ", ")
}

// List is a list of strings written either as a YAML sequence or as one
// comma-separated string ("imap, smtp").
type List []string

// UnmarshalYAML accepts a sequence of scalars or one scalar.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = SplitList(n.Value)
		return nil
	case yaml.SequenceNode:
		var out List
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: expected a plain value in the list", item.Line)
			}
			out = append(out, SplitList(item.Value)...)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: expected a list or a comma-separated string", n.Line)
}

// SplitList splits a comma-, semicolon- or space-separated string,
// dropping empty items.
func SplitList(s string) List {
	var out List
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		out = append(out, f)
	}
	return out
}

// ParseAnswers reads an answers file. Unknown keys are an error naming the
// key and the accepted ones; so are values of the wrong type.
func ParseAnswers(data []byte) (Answers, error) {
	var a Answers
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return a, fmt.Errorf("answers file: %w", err)
	}
	if len(doc.Content) == 0 {
		return a, nil // empty file: nothing answered
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return a, fmt.Errorf("answers file: line %d: expected key: value pairs (accepted keys: %s)", root.Line, keyNames())
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !known(k.Value) {
			return a, fmt.Errorf("answers file: line %d: unknown key %q; accepted keys: %s", k.Line, k.Value, keyNames())
		}
		if seen[k.Value] {
			return a, fmt.Errorf("answers file: line %d: key %q given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil && !errors.Is(err, io.EOF) {
		return Answers{}, fmt.Errorf("answers file: %w", err)
	}
	if err := a.check(); err != nil {
		return Answers{}, fmt.Errorf("answers file: %w", err)
	}
	return a, nil
}

func known(key string) bool {
	for _, k := range Keys {
		if k.Key == key {
			return true
		}
	}
	return false
}

// check validates the values that do not depend on the product.
func (a Answers) check() error {
	if a.SecretMonths != nil && (*a.SecretMonths < 1 || *a.SecretMonths > 24) {
		return fmt.Errorf("secret_months: %d is out of range; accepted: 1..24 (Entra allows at most 24 months)", *a.SecretMonths)
	}
	return nil
}

// Set answers one key from a flag value (or any string form), e.g.
// Set("callback_url", "https://..."), Set("protocols", "imap,smtp").
func (a *Answers) Set(key, value string) error {
	flag := FlagFor(key)
	switch key {
	case "product":
		a.Product = value
	case "method":
		a.Method = value
	case "app_name":
		a.AppName = value
	case "app_id":
		a.AppID = value
	case "audience":
		a.Audience = value
	case "protocols":
		a.Protocols = SplitList(value)
	case "extraview_url":
		a.ExtraViewURL = value
	case "callback_url":
		a.CallbackURL = value
	case "redirect_uri":
		a.RedirectURI = value
	case "mailboxes":
		a.Mailboxes = SplitList(value)
	case "additional_users":
		a.AdditionalUsers = SplitList(value)
	case "test_password":
		a.TestPassword = value
	case "secret_months":
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s / secret_months: %q is not a number; accepted: 1..24", flag, value)
		}
		a.SecretMonths = &n
		return a.check()
	case "require_assignment", "test":
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s / %s: %q is not accepted; accepted: true, false", flag, key, value)
		}
		if key == "test" {
			a.Test = &b
		} else {
			a.RequireAssignment = &b
		}
	default:
		return fmt.Errorf("unknown key %q; accepted keys: %s", key, keyNames())
	}
	return nil
}

// Get returns an answer in its string form (lists comma-joined) and
// whether it was given.
func (a Answers) Get(key string) (string, bool) {
	str := func(s string) (string, bool) { return s, s != "" }
	list := func(l List) (string, bool) { return strings.Join(l, ","), len(l) > 0 }
	switch key {
	case "product":
		return str(a.Product)
	case "method":
		return str(a.Method)
	case "app_name":
		return str(a.AppName)
	case "app_id":
		return str(a.AppID)
	case "audience":
		return str(a.Audience)
	case "protocols":
		return list(a.Protocols)
	case "extraview_url":
		return str(a.ExtraViewURL)
	case "callback_url":
		return str(a.CallbackURL)
	case "redirect_uri":
		return str(a.RedirectURI)
	case "mailboxes":
		return list(a.Mailboxes)
	case "additional_users":
		return list(a.AdditionalUsers)
	case "test_password":
		return str(a.TestPassword)
	case "secret_months":
		if a.SecretMonths == nil {
			return "", false
		}
		return strconv.Itoa(*a.SecretMonths), true
	case "require_assignment":
		if a.RequireAssignment == nil {
			return "", false
		}
		return strconv.FormatBool(*a.RequireAssignment), true
	case "test":
		if a.Test == nil {
			return "", false
		}
		return strconv.FormatBool(*a.Test), true
	}
	return "", false
}
