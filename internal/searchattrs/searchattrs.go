// Package searchattrs finds out which of imagefleet's search attributes
// (model.SearchAttributes) a namespace has, registers the missing ones where
// the client may, and keeps a worker's view of them current.
//
// A run that sets an attribute its namespace lacks has every workflow task
// failed by the server (BadSearchAttributes) and never moves again; the
// workflows therefore ask the worker (workflows.SetUnregisteredSearchAttributes)
// which attributes are missing and set only the others, with a warning.
package searchattrs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/model"
)

// Missing lists, sorted, the attributes of model.SearchAttributes that
// namespace ns lacks. An attribute registered with another type is an
// error: nothing but an operator can fix it.
func Missing(ctx context.Context, c client.Client, ns string) ([]string, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %s: %w", ns, err)
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(model.SearchAttributes)) {
		typ, ok := resp.GetCustomAttributes()[name]
		switch want := model.SearchAttributes[name]; {
		case !ok:
			missing = append(missing, name)
		case typ != want:
			return nil, fmt.Errorf("search attribute %s of namespace %s is a %s, imagefleet needs a %s", name, ns, typ, want)
		}
	}
	return missing, nil
}

// Register adds the attributes names to namespace ns (with their types
// from model.SearchAttributes). A self-hosted cluster allows it to a client
// with admin rights; Temporal Cloud does not (tcld or its UI does it).
func Register(ctx context.Context, c client.Client, ns string, names []string) error {
	req := &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: map[string]enums.IndexedValueType{}}
	for _, n := range names {
		req.SearchAttributes[n] = model.SearchAttributes[n]
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, req); err != nil {
		return fmt.Errorf("register search attributes %s on namespace %s: %w", strings.Join(names, ", "), ns, err)
	}
	return nil
}

// Hint says how an operator registers the attributes.
const Hint = "register them once per namespace: `starter setup` on a self-hosted cluster, " +
	"`tcld namespace search-attributes add` (or the UI) on Temporal Cloud, each a Keyword"

// Catalog is a worker's view of the attributes its namespace lacks.
type Catalog struct {
	c        client.Client
	ns       string
	log      zerolog.Logger
	register bool

	mu      sync.Mutex
	missing []string
}

// NewCatalog follows namespace ns through c; register lets it add missing
// attributes.
func NewCatalog(c client.Client, ns string, register bool, log zerolog.Logger) *Catalog {
	return &Catalog{c: c, ns: ns, register: register, log: log}
}

// Unregistered lists the attributes the namespace lacked at the last check
// (nil when it has them all, or when they could not be listed).
func (k *Catalog) Unregistered() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.missing)
}

// Check lists the namespace's attributes, registers the missing ones if it
// may, and says in the log what runs will do. quiet logs only changes.
func (k *Catalog) Check(ctx context.Context) {
	k.check(ctx, false)
}

func (k *Catalog) check(ctx context.Context, quiet bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	missing, err := Missing(ctx, k.c, k.ns)
	if err != nil {
		// Unknown: the runs set the attributes as they always did.
		if !quiet {
			k.log.Warn().Err(err).Msg("could not check the namespace's search attributes; runs set them as if registered")
		}
		return
	}
	if len(missing) > 0 && k.register {
		if err := Register(ctx, k.c, k.ns, missing); err != nil {
			if !quiet {
				k.log.Warn().Err(err).Msg("could not register the missing search attributes")
			}
		} else {
			k.log.Info().Strs("registered", missing).Str("namespace", k.ns).Msg("registered imagefleet's missing search attributes")
			missing = nil
		}
	}
	k.mu.Lock()
	changed := !slices.Equal(k.missing, missing)
	k.missing = missing
	k.mu.Unlock()
	switch {
	case len(missing) > 0 && (changed || !quiet):
		k.log.Error().Strs("missing", missing).Str("namespace", k.ns).
			Msg("the namespace lacks imagefleet's search attributes: runs do not set them (a warning each), so visibility queries and the Web UI's filters by them find nothing; " + Hint)
	case changed:
		k.log.Info().Str("namespace", k.ns).Msg("the namespace has imagefleet's search attributes now; new runs set them")
	}
}

// Watch checks again every interval while an attribute is missing, so that
// one registered later is set by the runs that start after it, until ctx
// ends.
func (k *Catalog) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if len(k.Unregistered()) > 0 {
				k.check(ctx, true)
			}
		}
	}
}
