package main

import (
	"fmt"
	"os"
	"reflect"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imagefleet/imagefleet/internal/specfile"
)

// specFlags is how every start command reads its spec: from --spec (a YAML
// or JSON file of the spec's fields) and from flags, each bound to one field;
// a flag set on the command line overrides the file's field, a flag left
// alone does not.
type specFlags[S any] struct {
	cmd      *cobra.Command
	file     string
	defaults func() S
	values   S                       // what the flags were parsed into
	fields   map[string]func(*S) any // flag name → pointer to its field
}

// newSpecFlags adds --spec to cmd; defaults gives a spec before the file and
// the flags apply (nil: the zero spec), and the flags' defaults.
func newSpecFlags[S any](cmd *cobra.Command, defaults func() S) *specFlags[S] {
	if defaults == nil {
		defaults = func() S { var zero S; return zero }
	}
	f := &specFlags[S]{cmd: cmd, defaults: defaults, values: defaults(), fields: map[string]func(*S) any{}}
	cmd.Flags().StringVar(&f.file, "spec", "", "spec file (YAML or JSON); flags set on the command line override its fields")
	return f
}

// flag binds the flag name to the spec's field: field returns a pointer to
// it (a *string, *int, *bool, *[]string or *map[string]string).
func (f *specFlags[S]) flag(name, usage string, field func(*S) any) {
	f.fields[name] = field
	fl := f.cmd.Flags()
	switch p := field(&f.values).(type) {
	case *string:
		fl.StringVar(p, name, *p, usage)
	case *int:
		fl.IntVar(p, name, *p, usage)
	case *bool:
		fl.BoolVar(p, name, *p, usage)
	case *[]string:
		fl.StringSliceVar(p, name, *p, usage)
	case *map[string]string:
		fl.StringToStringVar(p, name, *p, usage)
	default:
		panic(fmt.Sprintf("flag --%s: a field of type %T cannot be a flag", name, p))
	}
}

// load returns the spec: the defaults, then the file's fields, then every
// flag set on the command line. A file that cannot be read or decoded is
// invalid input.
func (f *specFlags[S]) load() (S, error) {
	spec := f.defaults()
	if f.file != "" {
		data, err := os.ReadFile(f.file)
		if err != nil {
			return spec, invalid("read spec: %w", err)
		}
		if err := specfile.Decode(f.file, data, &spec); err != nil {
			return spec, invalid("%w", err)
		}
	}
	f.cmd.Flags().Visit(func(fl *pflag.Flag) {
		if field, ok := f.fields[fl.Name]; ok {
			reflect.ValueOf(field(&spec)).Elem().Set(reflect.ValueOf(field(&f.values)).Elem())
		}
	})
	return spec, nil
}

// ensure returns *p, allocating it first: a field accessor of a nested
// optional part of a spec (RolloutSpec.Image, say).
func ensure[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}
