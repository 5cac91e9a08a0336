// Package specfile reads the files users write (spec files, templates) with
// errors that point at the right place: the file's name, and the line (and
// column) of the problem. Spec files decode as strictly as payloads do
// (package payload): an unknown or misspelled field is refused by name.
package specfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/imagefleet/imagefleet/internal/payload"
)

// Decode reads a spec file, JSON or YAML, into v: strictly, as a workflow
// input is decoded, with errors that name the file and the line.
func Decode(name string, data []byte, v any) error {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		if !json.Valid(data) {
			return JSONError(name, data, json.Unmarshal(data, new(any)))
		}
		if err := payload.Decode(data, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return YAMLError(name, data, err, func(b []byte) error { _, err := yaml.YAMLToJSON(b); return err })
	}
	if err := payload.Decode(js, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// JSONError places a JSON syntax error at its line and column; a document
// that ends too early says so instead of a bare "EOF".
func JSONError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn) && syn.Offset < int64(len(data)):
		line, col := position(data, int(syn.Offset)-1) // Offset is just past the offending byte
		return fmt.Errorf("%s:%d:%d: invalid JSON: %s", name, line, col, syn.Error())
	case syn != nil, errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := position(data, len(data))
		return fmt.Errorf("%s:%d:%d: invalid JSON: the document ends before its value is complete (a missing '}' or ']'?)", name, line, col)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func position(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

var yamlLineRE = regexp.MustCompile(`yaml: line (\d+): `)

// YAMLError names the file and the line of a YAML syntax error. The YAML
// parsers report the line where the enclosing block began (a mapping that
// started ten lines up), so the line is found again: it is the first line
// at which a prefix of the document fails with the same message. parse is
// the parser that produced err.
func YAMLError(name string, data []byte, err error, parse func([]byte) error) error {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatchIndex(msg)
	if m == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	reported, _ := strconv.Atoi(msg[m[2]:m[3]])
	problem := msg[m[1]:]
	line := reported
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= 5000 { // quadratic: only for files people write by hand
		var prefix []byte
		for i, l := range lines {
			prefix = append(prefix, l...)
			if i+1 < reported {
				continue
			}
			if perr := parse(prefix); perr != nil && strings.HasSuffix(perr.Error(), problem) {
				line = i + 1
				break
			}
		}
	}
	return fmt.Errorf("%s:%d: invalid YAML: %s", name, line, problem)
}
