package model

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text that imagefleet echoes (in errors, progress, the Web UI, logs) or
// builds workflow IDs and cloud names from is checked here, for every
// client: a name is valid UTF-8 without control characters or
// bidirectional controls, which would hide or reorder what a terminal or a
// page shows; free text (a description, a reason) may also hold line
// breaks and tabs. What an error echoes is quoted (Quote) and what it
// lists is capped (QuoteList), so that neither a control character nor a
// huge input reaches the reader raw.

// maxQuoted is how many characters of a value an error message shows.
const maxQuoted = 64

// CheckName refuses a name (an ID, a name, a tag) that is not valid UTF-8
// or holds a control or bidirectional-control character.
func CheckName(field, s string) error { return checkText(field, s, false) }

// CheckText is CheckName for free text: line breaks and tabs are allowed.
func CheckText(field, s string) error { return checkText(field, s, true) }

func checkText(field, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %s is not valid UTF-8", field, Quote(s))
	}
	for i, r := range []rune(s) {
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if IsControl(r) {
			return fmt.Errorf("%s %s must not hold control characters (%U at character %d)", field, Quote(s), r, i+1)
		}
	}
	return nil
}

// IsControl reports a C0 or C1 control character, DEL, or a character
// that changes the direction of text (the bidirectional controls, e.g.
// U+202E RIGHT-TO-LEFT OVERRIDE).
func IsControl(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Escape writes what a terminal or a page would interpret in msg (control
// characters, bidirectional controls, invalid bytes) as Go escapes
// (`\x00`, `\u202e`, `\xff`), keeping line breaks and tabs: for a
// message that echoes input.
func Escape(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		r, w := utf8.DecodeRuneInString(msg[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[msg[i]>>4])
			b.WriteByte(hex[msg[i]&0xf])
		case r == '\n' || r == '\t' || !IsControl(r):
			b.WriteString(msg[i : i+w])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += w
	}
	return b.String()
}

// Cut is msg cut after max characters, saying how long it was.
func Cut(msg string, max int) string {
	if n := utf8.RuneCountInString(msg); n > max {
		return string([]rune(msg)[:max]) + fmt.Sprintf("… (%d characters)", n)
	}
	return msg
}

// Quote is s as a Go string literal (control characters and invalid UTF-8
// escaped), cut after 64 characters.
func Quote(s string) string {
	if n := utf8.RuneCountInString(s); n > maxQuoted {
		return strconv.Quote(string([]rune(s)[:maxQuoted])) + fmt.Sprintf("… (%d characters)", n)
	}
	return strconv.Quote(s)
}

// QuoteList quotes the first max items, each once, and says how many
// there were beyond them: "a", "b" and 3 more.
func QuoteList(items []string, max int) string {
	var shown []string
	seen := map[string]bool{}
	rest := 0
	for _, it := range items {
		if seen[it] {
			continue
		}
		seen[it] = true
		if len(shown) < max {
			shown = append(shown, Quote(it))
		} else {
			rest++
		}
	}
	out := strings.Join(shown, ", ")
	if rest > 0 {
		out += fmt.Sprintf(" and %d more", rest)
	}
	return out
}

// checkNames checks names given as pairs of field and value with
// CheckName, and texts (fields ending in "description" or "reason") with
// CheckText; a list's items are checked by the caller.
func checkNames(fieldValues ...string) []error {
	var errs []error
	for i := 0; i+1 < len(fieldValues); i += 2 {
		field, v := fieldValues[i], fieldValues[i+1]
		check := CheckName
		if l := strings.ToLower(field); strings.HasSuffix(l, "description") || strings.HasSuffix(l, "reason") {
			check = CheckText
		}
		if err := check(field, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkList checks every item of a list of names, reporting the first bad
// one (a list can be long).
func checkList(field string, items []string) []error {
	for i, it := range items {
		if err := CheckName(fmt.Sprintf("%s[%d]", field, i), it); err != nil {
			return []error{err}
		}
	}
	return nil
}

// checkTagText checks the keys and values of tags with CheckName.
func checkTagText(tags map[string]string) []error {
	for _, k := range sortedKeys(tags) {
		if err := CheckName("tag key", k); err != nil {
			return []error{err}
		}
		if err := CheckName("the value of tag "+Quote(k), tags[k]); err != nil {
			return []error{err}
		}
	}
	return nil
}
