package model

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Bounds of SpecMarkdown's output: static details travel as one payload at
// start and must stay small whatever the spec holds (10,000 instance IDs, a
// long script).
const (
	specMarkdownListItems = 20
	specMarkdownBlockLen  = 4 << 10
	specMarkdownMaxLen    = 16 << 10
)

// SpecMarkdown renders an operation's input (any of the *Spec types, or a
// struct holding one) as readable Markdown for a run's static details in
// the Web UI: a table of the fields that are set, named by their JSON names
// (the names a raw client sends), and each multi-line value (a script, a
// component's content) as a code block below it. Lists and blocks are cut
// to a bounded size.
//
// The starter sets it on every run it starts. Static details can only be
// set by the client that starts a run, so another client that wants them
// sets StartWorkflowOptions.StaticDetails to this (or to its own text).
func SpecMarkdown(spec any) string {
	var rows, blocks []string
	walkSpec("", reflect.ValueOf(spec), &rows, &blocks)
	if len(rows) == 0 && len(blocks) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| field | value |\n|---|---|\n")
	for _, r := range rows {
		b.WriteString(r)
	}
	for _, blk := range blocks {
		b.WriteString("\n")
		b.WriteString(blk)
	}
	out := b.String()
	if len(out) > specMarkdownMaxLen {
		out = truncateUTF8(out, specMarkdownMaxLen) + "\n\n*(cut: the full spec is the run's input)*\n"
	}
	return out
}

func walkSpec(name string, v reflect.Value, rows, blocks *[]string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() || v.IsZero() {
		return
	}
	if stringer, ok := v.Interface().(fmt.Stringer); ok && v.Kind() == reflect.Struct {
		addRow(rows, name, stringer.String()) // time.Time and the like
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if jsonName == "-" {
				continue
			}
			if jsonName == "" {
				jsonName = f.Name
			}
			child := jsonName
			if f.Anonymous && f.Tag.Get("json") == "" {
				child = "" // embedded: its fields belong to this level
			}
			walkSpec(joinName(name, child), v.Field(i), rows, blocks)
		}
	case reflect.Slice, reflect.Array:
		if isStructLike(v.Type().Elem()) {
			for i := range min(v.Len(), specMarkdownListItems) {
				walkSpec(fmt.Sprintf("%s[%d]", name, i), v.Index(i), rows, blocks)
			}
			if v.Len() > specMarkdownListItems {
				addRow(rows, name, fmt.Sprintf("… and %d more", v.Len()-specMarkdownListItems))
			}
			return
		}
		items := make([]string, 0, min(v.Len(), specMarkdownListItems))
		for i := range min(v.Len(), specMarkdownListItems) {
			items = append(items, fmt.Sprint(v.Index(i).Interface()))
		}
		value := strings.Join(items, ", ")
		if v.Len() > specMarkdownListItems {
			value += fmt.Sprintf(" … and %d more (%d in all)", v.Len()-specMarkdownListItems, v.Len())
		}
		addRow(rows, name, value)
	case reflect.Map:
		items := make([]string, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			items = append(items, fmt.Sprint(it.Key())+"="+fmt.Sprint(it.Value()))
		}
		slices.Sort(items)
		addRow(rows, name, strings.Join(items, ", "))
	case reflect.String:
		if s := v.String(); strings.Contains(s, "\n") {
			*blocks = append(*blocks, codeBlock(name, s))
			return
		}
		addRow(rows, name, v.String())
	default:
		addRow(rows, name, fmt.Sprint(v.Interface()))
	}
}

func isStructLike(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func joinName(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	}
	return parent + "." + child
}

func addRow(rows *[]string, name, value string) {
	if len(value) > 300 {
		value = truncateUTF8(value, 300) + "…"
	}
	cell := strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(value)
	if !strings.Contains(cell, "`") {
		cell = "`" + cell + "`"
	}
	*rows = append(*rows, fmt.Sprintf("| %s | %s |\n", name, cell))
}

func codeBlock(name, s string) string {
	if len(s) > specMarkdownBlockLen {
		s = truncateUTF8(s, specMarkdownBlockLen) + fmt.Sprintf("\n… (%d more bytes)", len(s)-specMarkdownBlockLen)
	}
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fmt.Sprintf("**%s**\n\n%s\n%s\n%s\n", name, fence, strings.TrimRight(s, "\n"), fence)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
