package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The cmdlet engine's input and output: one typed parameter table per
// cmdlet, filled either from a PowerShell line (powershell.go) or from the
// admin API's JSON "Parameters" object (exo_rest.go), so both reach the
// same implementation with the same checks and the same errors.

// paramKind is a cmdlet parameter's .NET type as far as binding goes.
type paramKind int

const (
	kString   paramKind = iota // String and *IdParameter types
	kBool                      // System.Boolean ($true/$false)
	kNullBool                  // System.Nullable[Boolean]: $null too
	kSwitch                    // SwitchParameter
	kStrings                   // String[] / MultiValuedProperty
	kNullStr                   // String that may be $null
	kNullList                  // comma-separated String or array that $null clears (EwsAllowedAppIDs)
)

type paramSpec struct {
	name     string
	kind     paramKind
	required bool
	position int // 0-based positional index; -1 = named only
}

func named(name string, kind paramKind) paramSpec {
	return paramSpec{name: name, kind: kind, position: -1}
}

func mandatory(name string, kind paramKind) paramSpec {
	return paramSpec{name: name, kind: kind, required: true, position: -1}
}

func positional(p paramSpec, pos int) paramSpec {
	p.position = pos
	return p
}

// argValue is one raw argument before binding: null, a boolean, or one or
// more strings (a PowerShell array or a JSON array).
type argValue struct {
	null   bool
	isBool bool
	b      bool
	strs   []string
	number bool // a JSON number, kept as text in strs
}

// rawArgs is a cmdlet invocation before binding.
type rawArgs struct {
	named      map[string]argValue // parameter as written -> value
	order      []string            // names in the order written (for error texts)
	positional []argValue
}

// bound is a bound parameter set.
type bound struct {
	vals map[string]boundValue // by lower-case parameter name
}

type boundValue struct {
	set  bool
	null bool
	b    bool
	s    string
	list []string
}

func (b bound) has(name string) bool   { return b.vals[strings.ToLower(name)].set }
func (b bound) str(name string) string { return b.vals[strings.ToLower(name)].s }
func (b bound) flag(name string) bool  { return b.vals[strings.ToLower(name)].b }
func (b bound) get(name string) boundValue {
	return b.vals[strings.ToLower(name)]
}

// exoError is a cmdlet failure: the .NET exception type Exchange reports
// (category) and the cmdlet's own text.
type exoError struct {
	category string // e.g. ManagementObjectNotFoundException, ParameterBindingException
	msg      string
}

func (e *exoError) Error() string { return e.msg }

func exoErr(category, format string, args ...any) *exoError {
	return &exoError{category: category, msg: fmt.Sprintf(format, args...)}
}

// PowerShell's own binding errors (System.Management.Automation texts).
func errNoParam(name string) *exoError {
	return exoErr("ParameterBindingException", "A parameter cannot be found that matches parameter name '%s'.", name)
}

func errMissingMandatory(names []string) *exoError {
	return exoErr("ParameterBindingException", "Cannot process command because of one or more missing mandatory parameters: %s.", strings.Join(names, " "))
}

func errPositional(arg string) *exoError {
	return exoErr("ParameterBindingException", "A positional parameter cannot be found that accepts argument '%s'.", arg)
}

func errNullArg(name string) *exoError {
	return exoErr("ParameterBindingValidationException", "Cannot bind argument to parameter '%s' because it is null.", name)
}

func errNotBoolean(name string) *exoError {
	return exoErr("ParameterBindingArgumentTransformationException", "Cannot process argument transformation on parameter '%s'. Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", name)
}

func errEmptyArg(name string) *exoError {
	return exoErr("ParameterBindingValidationException", "Cannot bind argument to parameter '%s' because it is an empty string.", name)
}

func errNotString(name string) *exoError {
	return exoErr("ParameterBindingArgumentTransformationException", "Cannot process argument transformation on parameter '%s'. Cannot convert the value to type \"System.String\".", name)
}

// bind checks raw arguments against a cmdlet's parameters, in PowerShell's
// order: names, positions, types, mandatory parameters.
func bind(specs []paramSpec, raw rawArgs) (bound, *exoError) {
	out := bound{vals: map[string]boundValue{}}
	byName := map[string]paramSpec{}
	for _, p := range specs {
		byName[strings.ToLower(p.name)] = p
	}
	assign := func(p paramSpec, v argValue) *exoError {
		bv, e := convert(p, v)
		if e != nil {
			return e
		}
		out.vals[strings.ToLower(p.name)] = bv
		return nil
	}
	for _, name := range raw.order {
		p, ok := byName[strings.ToLower(name)]
		if !ok {
			return out, errNoParam(name)
		}
		if e := assign(p, raw.named[name]); e != nil {
			return out, e
		}
	}
	for i, v := range raw.positional {
		var target *paramSpec
		for _, p := range specs {
			if p.position == i && !out.has(p.name) {
				p := p
				target = &p
				break
			}
		}
		if target == nil {
			text := "$null"
			if len(v.strs) > 0 {
				text = strings.Join(v.strs, ",")
			} else if v.isBool {
				text = strconv.FormatBool(v.b)
			}
			return out, errPositional(text)
		}
		if e := assign(*target, v); e != nil {
			return out, e
		}
	}
	var missing []string
	for _, p := range specs {
		if p.required && !out.has(p.name) {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return out, errMissingMandatory(missing)
	}
	return out, nil
}

func convert(p paramSpec, v argValue) (boundValue, *exoError) {
	bv := boundValue{set: true}
	if v.null {
		switch p.kind {
		case kNullBool, kNullStr, kNullList:
			bv.null = true
			return bv, nil
		case kSwitch:
			return bv, errNotBoolean(p.name)
		}
		return bv, errNullArg(p.name)
	}
	switch p.kind {
	case kBool, kNullBool, kSwitch:
		if v.isBool {
			bv.b = v.b
			return bv, nil
		}
		if v.number && len(v.strs) == 1 && (v.strs[0] == "0" || v.strs[0] == "1") {
			bv.b = v.strs[0] == "1"
			return bv, nil
		}
		return bv, errNotBoolean(p.name)
	case kStrings, kNullList:
		if v.isBool {
			return bv, errNotString(p.name)
		}
		for _, s := range v.strs {
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					bv.list = append(bv.list, part)
				}
			}
		}
		if len(bv.list) == 0 {
			return bv, errEmptyArg(p.name)
		}
		return bv, nil
	default: // kString, kNullStr
		if v.isBool || len(v.strs) != 1 {
			if v.isBool {
				bv.s = map[bool]string{true: "True", false: "False"}[v.b]
				return bv, nil
			}
			return bv, errNotString(p.name)
		}
		bv.s = strings.TrimSpace(v.strs[0])
		if bv.s == "" {
			return bv, errEmptyArg(p.name)
		}
		return bv, nil
	}
}

// rawFromJSON reads the admin API's Parameters object.
func rawFromJSON(params map[string]json.RawMessage) (rawArgs, *exoError) {
	raw := rawArgs{named: map[string]argValue{}}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "@") || strings.Contains(k, "@odata") {
			continue // OData annotations such as Parameter@odata.type
		}
		v, e := jsonArg(k, params[k])
		if e != nil {
			return raw, e
		}
		raw.named[k] = v
		raw.order = append(raw.order, k)
	}
	return raw, nil
}

func jsonArg(name string, msg json.RawMessage) (argValue, *exoError) {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 || string(msg) == "null" {
		return argValue{null: true}, nil
	}
	switch msg[0] {
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(msg, &b); err != nil {
			return argValue{}, errNotString(name)
		}
		return argValue{isBool: true, b: b}, nil
	case '"':
		var s string
		if err := json.Unmarshal(msg, &s); err != nil {
			return argValue{}, errNotString(name)
		}
		return argValue{strs: []string{s}}, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(msg, &list); err != nil {
			return argValue{}, errNotString(name)
		}
		v := argValue{strs: []string{}}
		for _, item := range list {
			var s string
			if err := json.Unmarshal(item, &s); err != nil {
				return argValue{}, errNotString(name)
			}
			v.strs = append(v.strs, s)
		}
		return v, nil
	case '{':
		return argValue{}, exoErr("ParameterBindingArgumentTransformationException", "Cannot process argument transformation on parameter '%s'. The sim's admin API does not accept hashtable (Add/Remove) values; pass the whole list.", name)
	default:
		var n json.Number
		if err := json.Unmarshal(msg, &n); err != nil {
			return argValue{}, errNotString(name)
		}
		return argValue{strs: []string{n.String()}, number: true}, nil
	}
}

// exoObject is one result object, its properties in Exchange's order.
type exoObject []exoProp

type exoProp struct {
	name  string
	value any // string, bool, nil, int, []string
}

// MarshalJSON writes the properties in order.
func (o exoObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		v, err := json.Marshal(p.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// wire is the object as the admin API writes it: only the $select
// properties (if any), "<Name>@odata.type" before each array (§3), and
// EwsAllowedAppIDs in the form the quirks choose.
func (o exoObject) wire(sel []string, q ExchangeAdminQuirks) exoObject {
	out := exoObject{}
	for _, p := range o {
		if len(sel) > 0 && !slices.ContainsFunc(sel, func(x string) bool { return strings.EqualFold(x, p.name) }) {
			continue
		}
		v := p.value
		if p.name == "EwsAllowedAppIDs" && q.AllowListAsArray {
			list := []string{}
			if str, ok := v.(string); ok && str != "" {
				list = strings.Split(str, ",")
			}
			v = list
		}
		if _, ok := v.([]string); ok {
			out = append(out, exoProp{p.name + "@odata.type", "#Collection(String)"})
		}
		out = append(out, exoProp{p.name, v})
	}
	return out
}

func (o exoObject) get(name string) any {
	for _, p := range o {
		if strings.EqualFold(p.name, name) {
			return p.value
		}
	}
	return nil
}

// formatList renders objects as PowerShell's Format-List does.
func formatList(objs []exoObject) string {
	var b strings.Builder
	for _, o := range objs {
		w := 0
		for _, p := range o {
			w = max(w, len(p.name))
		}
		b.WriteString("\n")
		for _, p := range o {
			fmt.Fprintf(&b, "%-*s : %s\n", w, p.name, psText(p.value))
		}
	}
	return b.String()
}

// psText is a value as PowerShell prints it.
func psText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "True"
		}
		return "False"
	case []string:
		return "{" + strings.Join(x, ", ") + "}"
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
