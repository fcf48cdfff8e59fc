package steps

import (
	"github.com/mailoauth/mailoauth/internal/model"

	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/internal/validate"
	"github.com/mailoauth/mailoauth/output/product"
)

// Answers are the wizard's answers given ahead of time: an answers file
// (YAML), command-line flags, the environment and, on --resume, the state
// file share the keys of the Keys table. A nil field or an empty list means
// "not answered": the step's default is used, or, for a question without
// a default, the unattended runner names the missing flag and key.
//
// The fields carry no key names: Keys maps each key to its field, so the
// names, flags, kinds and rules live in one place.
type Answers struct {
	Product            string
	Method             string
	AppName            string
	AppID              string
	Audience           string
	Protocols          List
	ExtraViewURL       string
	CallbackURL        string
	RedirectURI        string
	Mailboxes          List
	AdditionalUsers    List
	SecretMonths       *int
	RequireAssignment  *bool
	Exchange           string // apply | script
	LimitMailboxAccess *bool
	Test               *bool
	TestPassword       string
}

// AnswerKind is how an answer is written.
type AnswerKind int

const (
	StringAnswer AnswerKind = iota // one line of text
	ListAnswer                     // a YAML list, or one comma-separated string
	IntAnswer                      // a whole number in [Min, Max]
	BoolAnswer                     // true or false
	EnumAnswer                     // one of Choices
)

func (k AnswerKind) String() string {
	return [...]string{"string", "list", "int", "bool", "enum"}[k]
}

// KeyInfo is one answers key: everything the flags, the answers file, the
// merge, Get/Set, the precheck and README's "Answers file" table know
// about it.
type KeyInfo struct {
	Key   string // answers-file key, e.g. callback_url
	Flag  string // its flag, e.g. --callback-url; "" when it has none
	Env   string // its environment variable; "" when it has none
	Label string // the field in the admin's words, e.g. "Mailbox addresses"
	Help  string // the accepted form
	Kind  AnswerKind
	// Choices are the accepted values of an EnumAnswer (and of each item of
	// a ListAnswer that has them), compared case-insensitively.
	Choices  []string
	Min, Max int // IntAnswer
	// Secret values are never shown: not in messages, not in --help.
	Secret bool
	// Default is what an unanswered key becomes, in words (README, --help).
	Default string
	// Arg names the flag's value in --help (e.g. URL, ADDRESSES).
	Arg string
	// Check is the key's own rule for one value (one item of a list), the
	// same one provisioning applies; the product's questions add theirs in
	// Precheck.
	Check func(string) error
	// field is where the answer is stored: *string, *List, **int or **bool.
	field func(*Answers) any
}

// Bounds on what an answers file or a flag may hold: enough for any real
// setup, small enough that nothing huge is read, kept or sent.
const (
	// MaxAnswersFile is the largest answers file read (1 MiB).
	MaxAnswersFile = 1 << 20
	// MaxValueLen bounds one value (a list's whole string included).
	MaxValueLen = 16 << 10
	// MaxListItems bounds a list (mailboxes, additional users, protocols).
	MaxListItems = 500
	// maxSecretLen bounds a password (Entra ID's limit is 256 characters).
	maxSecretLen = 256

	asciiBlanks = " \t\r\n"
)

// Keys lists every answers key, in the order the steps ask them. The cli
// registers one flag per key that has one, from this table.
var Keys = []KeyInfo{
	{Key: "product", Flag: "--product", Label: "Product", Kind: EnumAnswer, Choices: product.IDs(),
		Help: strings.Join(product.IDs(), ", "), Default: "required", Arg: "PRODUCT",
		field: func(a *Answers) any { return &a.Product }},
	{Key: "method", Flag: "--method", Label: "Sign-in method", Kind: StringAnswer,
		Help: methodKeyHelp(), Default: "required when the product has two or more", Arg: "METHOD",
		Check: func(s string) error { return validate.Text(s, 64) },
		field: func(a *Answers) any { return &a.Method }},
	{Key: "protocols", Flag: "--protocols", Label: "Protocols", Kind: ListAnswer, Choices: protocolIDs(),
		Help:    "`" + strings.Join(protocolIDs(), "`, `") + "` (only those the product supports)",
		Default: "the product's", Arg: "LIST",
		Check: func(s string) error { _, err := catalog.ParseProtocol(s); return err },
		field: func(a *Answers) any { return &a.Protocols }},
	{Key: "extraview_url", Flag: "--extraview-url", Label: "ExtraView instance URL", Kind: StringAnswer,
		Help: "`https://host/evj` (ExtraView)", Default: "required for ExtraView", Arg: "URL",
		Check: validate.HTTPSURL, field: func(a *Answers) any { return &a.ExtraViewURL }},
	{Key: "callback_url", Flag: "--callback-url", Label: "Callback URL", Kind: StringAnswer,
		Help: "`https://…` (Email This Issue's Callback URL)", Default: "required for Email This Issue", Arg: "URL",
		Check: validate.RedirectURI, field: func(a *Answers) any { return &a.CallbackURL }},
	{Key: "redirect_uri", Flag: "--redirect-uri", Label: "Redirect URI", Kind: StringAnswer,
		Help: "`https://…`, or `http://localhost…` (generic auth-code)", Default: "required for generic auth-code", Arg: "URI",
		Check: validate.RedirectURI, field: func(a *Answers) any { return &a.RedirectURI }},
	{Key: "app_name", Flag: "--app-name", Label: "App registration name", Kind: StringAnswer,
		Help: fmt.Sprintf("1–%d characters; no control or invisible formatting characters", validate.MaxName), Default: "`<Product> mail (OAuth2)`", Arg: "NAME",
		Check: validate.AppName, field: func(a *Answers) any { return &a.AppName }},
	{Key: "app_id", Flag: "--app-id", Label: "Existing app to update (Application ID)", Kind: StringAnswer,
		Help: "an Application (client) ID or object ID (a GUID) of an app to update", Default: "the app found by `app_name`, else a new one", Arg: "ID",
		Check: validate.GUID, field: func(a *Answers) any { return &a.AppID }},
	{Key: "audience", Flag: "--audience", Label: "Who may sign in", Kind: EnumAnswer, Choices: []string{"single", "multi"},
		Help: "`single`, `multi` (tenant)", Default: "the product's", Arg: "single|multi",
		Check: func(s string) error { _, err := catalog.ParseAudience(s); return err },
		field: func(a *Answers) any { return &a.Audience }},
	{Key: "secret_months", Flag: "--secret-months", Label: "Client secret lifetime (months)", Kind: IntAnswer, Min: 1, Max: 24,
		Help: "a whole number of months, 1 to 24", Default: strconv.Itoa(model.DefaultSecretMonths), Arg: "MONTHS",
		field: func(a *Answers) any { return &a.SecretMonths }},
	{Key: "mailboxes", Flag: "--mailboxes", Label: "Mailbox addresses", Kind: ListAnswer,
		Help: "addresses (name@domain)", Default: "required", Arg: "ADDRESSES",
		Check: validate.Email, field: func(a *Answers) any { return &a.Mailboxes }},
	{Key: "additional_users", Flag: "--additional-users", Label: "Additional mailboxes", Kind: ListAnswer,
		Help: "addresses (Agiloft \"Additional Users\")", Default: "none", Arg: "ADDRESSES",
		Check: validate.Email, field: func(a *Answers) any { return &a.AdditionalUsers }},
	{Key: "require_assignment", Flag: "--require-assignment", Label: "Only assigned users may sign in", Kind: BoolAnswer,
		Help: "`true`, `false` (ExtraView)", Default: "`false`", Arg: "true|false",
		field: func(a *Answers) any { return &a.RequireAssignment }},
	{Key: "exchange", Flag: "--exchange", Label: "Exchange Online changes", Kind: EnumAnswer, Choices: []string{"apply", "script"},
		Help:    "`apply` (mailoauth makes the Exchange Online changes) or `script` (it writes exchange-setup.ps1 for you to run)",
		Default: "`apply` when the setup needs Exchange work", Arg: "apply|script",
		field: func(a *Answers) any { return &a.Exchange }},
	{Key: "limit_mailbox_access", Flag: "--limit-mailbox-access", Label: "Limit the app to its mailboxes", Kind: BoolAnswer,
		Help:    "`true`, `false`: scope an app-only app to its mailboxes with RBAC for Applications (client credentials only)",
		Default: "`false`", Arg: "true|false",
		field: func(a *Answers) any { return &a.LimitMailboxAccess }},
	{Key: "test", Flag: "--test", Label: "Test the login now", Kind: BoolAnswer,
		Help: "`true`, `false`", Default: "`true`", Arg: "true|false",
		field: func(a *Answers) any { return &a.Test }},
	{Key: "test_password", Env: "MAILOAUTH_TEST_PASSWORD", Label: "Mailbox password (for this test only)", Kind: StringAnswer, Secret: true,
		Help:    "the mailbox password, for an unattended ROPC test only; never stored (better in the environment than in a file)",
		Default: "required when testing ROPC unattended",
		field:   func(a *Answers) any { return &a.TestPassword }},
}

func methodKeyHelp() string {
	var parts []string
	for _, p := range product.All() {
		if len(p.Methods) < 2 {
			continue
		}
		ids := make([]string, len(p.Methods))
		for i, m := range p.Methods {
			ids[i] = "`" + m.ID + "`"
		}
		parts = append(parts, p.Name+": "+strings.Join(ids, ", "))
	}
	return strings.Join(parts, "; ")
}

func protocolIDs() []string {
	ids := make([]string, len(catalog.Protocols))
	for i, p := range catalog.Protocols {
		ids[i] = string(p)
	}
	return ids
}

// Key returns the table's entry for an answers key.
func Key(key string) (KeyInfo, bool) {
	for _, k := range Keys {
		if k.Key == key {
			return k, true
		}
	}
	return KeyInfo{}, false
}

// FlagFor returns how an answers key is given on the command line: its
// flag, or, for a key without one (test_password), its environment
// variable.
func FlagFor(key string) string {
	if k, ok := Key(key); ok {
		if k.Flag != "" {
			return k.Flag
		}
		if k.Env != "" {
			return k.Env
		}
	}
	return "--" + strings.ReplaceAll(key, "_", "-")
}

// LabelFor returns a key's field name in the admin's words, for messages
// on screen (flags and keys belong in unattended and usage errors).
func LabelFor(key string) string {
	if k, ok := Key(key); ok {
		return k.Label
	}
	return key
}

func keyNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Key
	}
	return strings.Join(names, ", ")
}

// Accepted is the key's accepted form in plain words (no Markdown).
func (k KeyInfo) Accepted() string {
	switch k.Kind {
	case BoolAnswer:
		return "true or false"
	case EnumAnswer:
		return strings.Join(k.Choices, ", ")
	}
	return strings.ReplaceAll(k.Help, "`", "")
}

// Usage is the key's line in --help: its label and accepted form.
func (k KeyInfo) Usage() string {
	u := k.Label + ": " + k.Accepted()
	if k.Kind == ListAnswer {
		u += "; comma-separated"
	}
	if d := strings.ReplaceAll(k.Default, "`", ""); d != "" && !strings.HasPrefix(d, "required") {
		u += " (default: " + d + ")"
	}
	return u
}

// InvalidError is an answer refused before anything is sent: it names the
// flag (or environment variable) and the answers key, and says why with
// the accepted form.
type InvalidError struct {
	Key string
	Err error
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s / %s: %s", FlagFor(e.Key), e.Key, strings.TrimPrefix(e.Err.Error(), e.Key+": "))
}

func (e *InvalidError) Unwrap() error { return e.Err }

// refuse says what is wrong with a value of this key, never showing a
// secret one.
func (k KeyInfo) refuse(value, problem string) error {
	if k.Secret {
		return fmt.Errorf("the value given %s; accepted form: %s", problem, k.Accepted())
	}
	return &validate.Error{Value: value, Problem: problem, Accepted: k.Accepted()}
}

// Parse reads one value of this key in its string form (a flag's value,
// a scalar in the answers file, a state file's answer) into a: its kind
// (a whole number in range, true or false, a list) and its size. The
// key's own rule (an address, a GUID, one of the choices) is Check's, in
// Precheck's one pass. Strings are trimmed, except secrets; lists are
// split (validate.SplitList).
func (k KeyInfo) Parse(a *Answers, value string) error {
	limit := MaxValueLen
	if k.Secret {
		limit = maxSecretLen
	}
	if len(value) > limit {
		return k.refuse(value, fmt.Sprintf("is longer than %d characters", limit))
	}
	switch p := k.field(a).(type) {
	case *string:
		if !k.Secret {
			// ASCII blanks only: U+0085 and other Unicode spaces are not
			// trimmed away unseen but refused by the key's rule.
			value = strings.Trim(value, asciiBlanks)
		}
		*p = k.canonical(value)
	case *List:
		return k.setList(p, validate.SplitList(value))
	case **int:
		n, err := strconv.Atoi(strings.Trim(value, asciiBlanks))
		if err != nil {
			return k.refuse(value, "is not a whole number")
		}
		if n < k.Min || n > k.Max {
			return k.refuse(value, "is out of range")
		}
		*p = &n
	case **bool:
		b, err := strconv.ParseBool(strings.Trim(value, asciiBlanks))
		if err != nil {
			return k.refuse(value, "is not accepted")
		}
		*p = &b
	}
	return nil
}

// check applies the key's own rule to its answer in a (each item of a
// list), and Parse's kind and size again for answers built in code.
func (k KeyInfo) check(a *Answers) error {
	v, given := k.value(a)
	if !given {
		return nil
	}
	var scratch Answers
	if err := k.Parse(&scratch, v); err != nil {
		return err
	}
	if l, ok := k.field(a).(*List); ok {
		for _, it := range *l {
			if err := k.checkOne(it); err != nil {
				return err
			}
		}
		return nil
	}
	return k.checkOne(v)
}

func (k KeyInfo) setList(p *List, items []string) error {
	if len(items) > MaxListItems {
		return k.refuse(strings.Join(items[:3], ", ")+", ...", fmt.Sprintf("has %d items, more than %d", len(items), MaxListItems))
	}
	*p = items
	return nil
}

// checkOne applies the key's own rule to one value (or list item).
func (k KeyInfo) checkOne(v string) error {
	if len(k.Choices) > 0 && k.Check == nil {
		for _, c := range k.Choices {
			if strings.EqualFold(c, v) {
				return nil
			}
		}
		return k.refuse(v, "is not accepted")
	}
	if k.Check != nil {
		if k.Kind == EnumAnswer {
			if err := k.Check(v); err != nil {
				return k.refuse(v, "is not accepted")
			}
			return nil
		}
		return k.Check(v)
	}
	if !k.Secret {
		return validate.Text(v, MaxValueLen)
	}
	return nil
}

// canonical is an enum's value as the table spells it ("EXTRAVIEW" is
// extraview); other values are kept as given.
func (k KeyInfo) canonical(v string) string {
	if k.Kind == EnumAnswer {
		for _, c := range k.Choices {
			if strings.EqualFold(c, v) {
				return c
			}
		}
	}
	return v
}

// value returns the answer in its string form (lists comma-joined) and
// whether it was given.
func (k KeyInfo) value(a *Answers) (string, bool) {
	switch p := k.field(a).(type) {
	case *string:
		return *p, *p != ""
	case *List:
		return strings.Join(*p, ","), len(*p) > 0
	case **int:
		if *p == nil {
			return "", false
		}
		return strconv.Itoa(**p), true
	case **bool:
		if *p == nil {
			return "", false
		}
		return strconv.FormatBool(**p), true
	}
	return "", false
}

// List is a list of strings written either as a YAML sequence or as one
// comma-separated string ("imap, smtp").
type List []string

// SplitList splits a comma-, semicolon- or space-separated string,
// dropping empty items (internal/validate's one splitter).
func SplitList(s string) List { return validate.SplitList(s) }

// ParseAnswers reads an answers file: one YAML document of key: value
// pairs, at most MaxAnswersFile bytes. Unknown keys, repeated keys, a
// second document and values of the wrong kind are errors naming the line,
// the key and the accepted form; nothing is silently dropped or rounded.
func ParseAnswers(data []byte) (Answers, error) {
	var a Answers
	if len(data) > MaxAnswersFile {
		return a, fmt.Errorf("answers file: %d bytes; accepted: at most %d (1 MiB)", len(data), MaxAnswersFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return a, nil // empty file: nothing answered
		}
		return a, fmt.Errorf("answers file: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return a, fmt.Errorf("answers file: %w", err)
	default:
		return a, fmt.Errorf("answers file: line %d: a second YAML document (after ---); accepted: one document of key: value pairs", next.Line)
	}
	if len(doc.Content) == 0 {
		return a, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return a, nil // only comments, or a bare ~
	}
	if root.Kind != yaml.MappingNode {
		return a, fmt.Errorf("answers file: line %d: expected key: value pairs (accepted keys: %s)", root.Line, keyNames())
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		k, ok := Key(kn.Value)
		if kn.Kind != yaml.ScalarNode || !ok {
			return Answers{}, fmt.Errorf("answers file: line %d: unknown key %q; accepted keys: %s", kn.Line, kn.Value, keyNames())
		}
		if seen[k.Key] {
			return Answers{}, fmt.Errorf("answers file: line %d: key %q given twice", kn.Line, k.Key)
		}
		seen[k.Key] = true
		if err := k.decode(&a, vn); err != nil {
			return Answers{}, fmt.Errorf("answers file: line %d: %s: %w", line(vn, kn), k.Key, err)
		}
	}
	return a, nil
}

func line(v, k *yaml.Node) int {
	if v.Line > 0 {
		return v.Line
	}
	return k.Line
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// resolveAlias follows an alias (&a ... *a) to its anchor.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// decode reads one value node of the answers file into a, by kind. YAML's
// own type is respected: 3.7 is not a whole number, "yes" is not true.
func (k KeyInfo) decode(a *Answers, n *yaml.Node) error {
	n = resolveAlias(n)
	if isNull(n) {
		return nil // "key:" with nothing after it: not answered
	}
	if k.Kind == ListAnswer && n.Kind == yaml.SequenceNode {
		var items []string
		for _, it := range n.Content {
			it = resolveAlias(it)
			if it.Kind != yaml.ScalarNode || isNull(it) {
				return fmt.Errorf("line %d: expected a plain value in the list; accepted: %s", it.Line, k.Accepted())
			}
			items = append(items, validate.SplitList(it.Value)...)
		}
		return k.setList(k.field(a).(*List), items)
	}
	if n.Kind != yaml.ScalarNode {
		what := "a list"
		if n.Kind == yaml.MappingNode {
			what = "key: value pairs"
		}
		want := "one value"
		if k.Kind == ListAnswer {
			want = "a list or one comma-separated string"
		}
		return fmt.Errorf("expected %s, not %s; accepted: %s", want, what, k.Accepted())
	}
	switch {
	case k.Kind == IntAnswer && n.Tag != "!!int" && n.Tag != "!!str":
		return k.refuse(n.Value, "is not a whole number")
	case k.Kind == BoolAnswer && n.Tag != "!!bool" && n.Tag != "!!str":
		return k.refuse(n.Value, "is not accepted")
	}
	return k.Parse(a, n.Value)
}

// Set answers one key from its string form (a flag's value, a state
// file's answer), e.g. Set("callback_url", "https://..."),
// Set("protocols", "imap,smtp"). A refused value is an *InvalidError.
func (a *Answers) Set(key, value string) error {
	k, ok := Key(key)
	if !ok {
		return fmt.Errorf("unknown key %q; accepted keys: %s", key, keyNames())
	}
	if err := k.Parse(a, value); err != nil {
		return &InvalidError{Key: key, Err: err}
	}
	return nil
}

// Get returns an answer in its string form (lists comma-joined) and
// whether it was given.
func (a Answers) Get(key string) (string, bool) {
	k, ok := Key(key)
	if !ok {
		return "", false
	}
	return k.value(&a)
}

// Merge sets in a every key that b answers (b wins): flags over the
// answers file, or over a resumed state's answers.
func (a *Answers) Merge(b Answers) {
	for _, k := range Keys {
		src := k.field(&b)
		if _, given := k.value(&b); !given {
			continue
		}
		switch dst := k.field(a).(type) {
		case *string:
			*dst = *src.(*string)
		case *List:
			*dst = append(List(nil), *src.(*List)...)
		case **int:
			*dst = *src.(**int)
		case **bool:
			*dst = *src.(**bool)
		}
	}
}

// answersTable is README's "Answers file" table, made from Keys (a test
// keeps README's copy equal to it).
func answersTable() string {
	var b strings.Builder
	b.WriteString("| Key | Flag | Accepted | Default |\n|---|---|---|---|\n")
	for _, k := range Keys {
		flag := "`" + k.Flag + "`"
		if k.Flag == "" {
			flag = "none: `" + k.Env + "` (environment)"
		} else if k.Env != "" {
			flag += " or `" + k.Env + "`"
		}
		accepted := k.Help
		if k.Kind == EnumAnswer && !strings.Contains(accepted, "`") {
			accepted = "`" + strings.Join(k.Choices, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Key, flag, accepted, k.Default)
	}
	return b.String()
}
