package lifecycle

import (
	"sync/atomic"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// changeSearchAttributesChecked: a run asks which of imagefleet's search
// attributes its namespace lacks before it sets them. Versioned so that
// runs started before keep replaying.
const changeSearchAttributesChecked = "search-attributes-checked"

// unregisteredFn tells which search attributes the worker found missing in
// its namespace (see SetUnregisteredSearchAttributes).
var unregisteredFn atomic.Pointer[func() []string]

// SetUnregisteredSearchAttributes gives the runs of this process the
// worker's view of the search attributes its namespace lacks. Without it
// (tests, the replayer) every attribute counts as registered.
func SetUnregisteredSearchAttributes(f func() []string) {
	unregisteredFn.Store(&f)
}

// unregistered are the search attributes the run must not set: setting
// one the namespace lacks makes the server fail every workflow task of the
// run (BadSearchAttributes), which would never move again. Recorded in the
// history (a side effect), so that every replay sets the same attributes.
func unregistered(ctx workflow.Context) []string {
	if workflow.GetVersion(ctx, changeSearchAttributesChecked, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	var names []string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		if f := unregisteredFn.Load(); f != nil {
			return (*f)()
		}
		return []string(nil)
	}).Get(&names)
	if err != nil {
		workflow.GetLogger(ctx).Error("Could not read which search attributes are registered", "error", err)
		return nil
	}
	return names
}

// registeredOnly drops the updates of the attributes in missing.
func registeredOnly(updates []temporal.SearchAttributeUpdate, missing []string) []temporal.SearchAttributeUpdate {
	if len(missing) == 0 {
		return updates
	}
	var kept []temporal.SearchAttributeUpdate
	for _, u := range updates {
		sa := temporal.NewSearchAttributes(u)
		drop := false
		for _, name := range missing {
			if sa.ContainsKey(temporal.NewSearchAttributeKeyKeyword(name)) {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, u)
		}
	}
	return kept
}
