package sim

import (
	"fmt"
	"strings"
	"time"
)

// RunPowerShell runs Exchange Online PowerShell lines against the tenant's
// Exchange organization, through the same cmdlet engine as the admin API
// (exo_cmdlets.go): one cmdlet per line, `#` comments and blank lines
// skipped (docs/architecture.md "PowerShell (sim)"). It returns what the
// cmdlets printed (objects as Format-List, warnings as "WARNING: ...");
// an error names the line and the cmdlet and carries Exchange's text.
// It runs as an Organization Management member: no caller is checked.
func (s *Server) RunPowerShell(script string) (string, error) {
	return s.home().runPowerShell(script)
}

// RunPowerShellIn is RunPowerShell in another tenant's Exchange
// organization (SecondTenantID).
func (s *Server) RunPowerShellIn(tenantID, script string) (string, error) {
	s.mu.Lock()
	t := s.tenantBySegment(tenantID)
	s.mu.Unlock()
	if t == nil {
		return "", fmt.Errorf("sim: no tenant %q", tenantID)
	}
	return s.viewOf(t).runPowerShell(script)
}

func (s *view) runPowerShell(script string) (string, error) {
	var out strings.Builder
	for i, line := range strings.Split(strings.ReplaceAll(script, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := psWords(line)
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %v", i+1, err)
		}
		words, err = dropFormatting(words)
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %v", i+1, err)
		}
		if len(words) == 0 {
			continue
		}
		name := words[0].text
		if psNoOps[strings.ToLower(name)] {
			continue
		}
		raw, flags, err := psArgs(words[1:])
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %s: %v", i+1, name, err)
		}
		if flags.whatIf {
			fmt.Fprintf(&out, "What if: Performing the operation %q.\n", name)
			continue
		}
		objs, warns, e := s.invoke(name, raw, time.Now())
		if e != nil {
			if flags.silent {
				continue
			}
			return out.String(), fmt.Errorf("line %d: %s: %s", i+1, name, e.msg)
		}
		if !flags.noWarnings {
			for _, w := range warns {
				out.WriteString("WARNING: " + w + "\n")
			}
		}
		out.WriteString(formatList(objs))
	}
	return out.String(), nil
}

// psNoOps are session cmdlets with nothing to model.
var psNoOps = map[string]bool{"connect-exchangeonline": true, "disconnect-exchangeonline": true, "import-module": true, "install-module": true}

// psWord is one word of a line: its text and whether it was quoted (a
// quoted "a,b" is one string; an unquoted a,b is an array).
type psWord struct {
	text   string
	quoted bool
}

// psWords splits a line on blanks, honouring single and double quotes
// (” or "" inside escapes the quote) and a trailing # comment.
func psWords(line string) ([]psWord, error) {
	var words []psWord
	var cur strings.Builder
	inWord, quoted := false, false
	quote := byte(0)
	flush := func() {
		if inWord {
			words = append(words, psWord{cur.String(), quoted})
			cur.Reset()
			inWord, quoted = false, false
		}
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == quote {
				if i+1 < len(line) && line[i+1] == quote {
					cur.WriteByte(ch)
					i++
					continue
				}
				quote = 0
				continue
			}
			cur.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote = ch
			inWord, quoted = true, true
		case ch == ' ' || ch == '\t':
			flush()
		case ch == '|':
			flush()
			words = append(words, psWord{"|", false})
		case ch == '#' && !inWord:
			i = len(line)
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("the string is missing the terminator: %c", quote)
	}
	flush()
	return words, nil
}

// dropFormatting removes a trailing "| Format-List ..." (fl, Format-Table,
// ft, Out-Null): the sim always prints every property. Other pipelines are
// refused, so a script that needs real PowerShell fails loudly.
func dropFormatting(words []psWord) ([]psWord, error) {
	for i, w := range words {
		if w.text != "|" || w.quoted {
			continue
		}
		if i+1 < len(words) {
			switch strings.ToLower(words[i+1].text) {
			case "format-list", "fl", "format-table", "ft", "out-null":
				if j := indexPipe(words[i+1:]); j < 0 {
					return words[:i], nil
				}
			}
		}
		return nil, fmt.Errorf("the sim's PowerShell runs one cmdlet per line; the pipeline after '|' is not supported")
	}
	for _, w := range words {
		if !w.quoted && (strings.HasPrefix(w.text, "$") && !isPSConstant(w.text) || strings.HasPrefix(w.text, "(") || strings.HasPrefix(w.text, "@")) {
			return nil, fmt.Errorf("the sim's PowerShell runs one cmdlet per line with literal values; %q is a variable or expression", w.text)
		}
	}
	return words, nil
}

func indexPipe(words []psWord) int {
	for i, w := range words {
		if w.text == "|" && !w.quoted {
			return i
		}
	}
	return -1
}

func isPSConstant(w string) bool {
	_, v, _ := strings.Cut(w, ":")
	if strings.Contains(w, ":") && !strings.HasPrefix(w, "$") {
		w = v
	}
	switch strings.ToLower(w) {
	case "$true", "$false", "$null":
		return true
	}
	return false
}

type psFlags struct {
	silent, noWarnings, whatIf bool
}

// commonParams are PowerShell's common parameters, handled by the shell.
var commonParams = map[string]bool{"erroraction": true, "warningaction": true, "verbose": true, "debug": true,
	"errorvariable": true, "warningvariable": true, "informationaction": true, "outvariable": true, "whatif": true}

// psArgs turns the words after the cmdlet name into raw arguments.
func psArgs(words []psWord) (rawArgs, psFlags, error) {
	raw := rawArgs{named: map[string]argValue{}}
	var flags psFlags
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w.quoted || !strings.HasPrefix(w.text, "-") || len(w.text) < 2 {
			raw.positional = append(raw.positional, psValue(w))
			continue
		}
		name, val, hasColon := strings.Cut(w.text[1:], ":")
		var v argValue
		switch {
		case hasColon:
			v = psValue(psWord{text: val})
		case i+1 < len(words) && (words[i+1].quoted || !strings.HasPrefix(words[i+1].text, "-")):
			v = psValue(words[i+1])
			i++
		default:
			v = argValue{isBool: true, b: true} // a switch
		}
		key := strings.ToLower(name)
		if commonParams[key] {
			text := strings.ToLower(strings.Join(v.strs, ""))
			switch key {
			case "erroraction":
				flags.silent = text == "silentlycontinue" || text == "ignore"
			case "warningaction":
				flags.noWarnings = text == "silentlycontinue" || text == "ignore"
			case "whatif":
				flags.whatIf = v.isBool && v.b
			}
			continue
		}
		if _, dup := raw.named[name]; dup {
			return raw, flags, fmt.Errorf("cannot bind parameter because parameter '%s' is specified more than once", name)
		}
		raw.named[name] = v
		raw.order = append(raw.order, name)
	}
	return raw, flags, nil
}

func psValue(w psWord) argValue {
	if !w.quoted {
		switch strings.ToLower(w.text) {
		case "$null":
			return argValue{null: true}
		case "$true":
			return argValue{isBool: true, b: true}
		case "$false":
			return argValue{isBool: true, b: false}
		}
		if strings.Contains(w.text, ",") {
			return argValue{strs: strings.Split(w.text, ",")}
		}
		if w.text == "0" || w.text == "1" {
			return argValue{strs: []string{w.text}, number: true}
		}
	}
	return argValue{strs: []string{w.text}}
}
