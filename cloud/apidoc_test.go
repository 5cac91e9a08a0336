package cloud_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloudsim"
)

// TestCloudAPIDocListsEveryAction keeps docs/cloud-api.md's table true: a
// row for every method of every interface in this package, and a row says
// "SDK" only for an action the simulator serves on its RPC front.
func TestCloudAPIDocListsEveryAction(t *testing.T) {
	doc, err := os.ReadFile("../docs/cloud-api.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // "Iface.Method" → row
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			rows[name] = line
		}
	}
	files, _ := filepath.Glob("*.go")
	fs := token.NewFileSet()
	var methods []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if it, ok := ts.Type.(*ast.InterfaceType); ok {
				for _, m := range it.Methods.List {
					for _, name := range m.Names {
						methods = append(methods, ts.Name.Name+"."+name.Name)
					}
				}
			}
			return false
		})
	}
	if len(methods) < 90 {
		t.Fatalf("found only %d interface methods in cloud/", len(methods))
	}
	srv, err := cloudsim.New(cloudsim.Config{NoSeed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	served := map[string]bool{}
	for _, a := range srv.RPCActions() {
		served[a.Action] = true
	}
	for _, m := range methods {
		row, ok := rows[m]
		if !ok {
			t.Errorf("docs/cloud-api.md has no row for %s", m)
			continue
		}
		_, action, _ := strings.Cut(m, ".")
		if strings.Contains(row, "**SDK**") != served[action] {
			t.Errorf("docs/cloud-api.md row of %s says migrated=%v, the RPC front serves it=%v", m, strings.Contains(row, "**SDK**"), served[action])
		}
	}
}
