package cloudsim

import (
	"cmp"
	"net/http"
	"slices"
)

// What the handlers of every service share: finding the caller's record in
// a region, listing its records, paging and new IDs. A record of another
// account is answered as not found, as the real services do: a caller
// cannot tell it exists.

// regional is a stored record that belongs to an account in one region.
type regional interface {
	scope() (owner, region string)
}

// resource names a resource type in the errors about it.
type resource struct {
	noun         string // e.g. "image template"
	notFoundCode string // e.g. cloud.CodePipelineNotFound
}

func (k resource) notFound(id, region string) error {
	return newError(http.StatusNotFound, k.notFoundCode, "%s %q does not exist in region %s", k.noun, id, region)
}

// findOwned finds record id of m that the caller owns in region. field
// names the ID parameter: when set, an empty id is refused as missing;
// when empty, an empty id is not found like any other.
func findOwned[R regional](c *call, m map[string]R, k resource, region, field, id string) (R, error) {
	var none R
	if err := checkRegion("RegionId", region); err != nil {
		return none, err
	}
	if field != "" && id == "" {
		return none, invalidParam("%s is required", field)
	}
	if r, ok := m[id]; ok {
		if owner, in := r.scope(); owner == c.account && in == region {
			return r, nil
		}
	}
	return none, k.notFound(id, region)
}

// listOwned returns, sorted by order, the view of every record of m the
// caller owns in region that keep accepts (never nil: the API answers an
// empty list as []).
func listOwned[R regional, V any](c *call, m map[string]R, region string, keep func(R) bool, view func(R) V, order func(a, b V) int) ([]V, error) {
	if err := checkRegion("RegionId", region); err != nil {
		return nil, err
	}
	out := []V{}
	for _, r := range m {
		if owner, in := r.scope(); owner == c.account && in == region && keep(r) {
			out = append(out, view(r))
		}
	}
	slices.SortFunc(out, order)
	return out, nil
}

// page is a request's page, checked: PageNumber from 1, PageSize 1 to a
// limit (defaultPageSize when 0).
type page struct{ number, size int }

func pageOf(number, size, maxSize int) (page, error) {
	p := page{cmp.Or(number, 1), cmp.Or(size, defaultPageSize)}
	if p.number < 1 || p.size < 1 || p.size > maxSize {
		return p, invalidParam("PageNumber must be at least 1 and PageSize 1–%d, got %d and %d", maxSize, number, size)
	}
	return p, nil
}

// pageItems returns the page's part of all: empty (not nil) past its end.
func pageItems[T any](p page, all []T) []T {
	if from := (p.number - 1) * p.size; from < len(all) {
		return all[from:min(from+p.size, len(all))]
	}
	return []T{}
}

// newID returns a random ID that m does not hold yet: prefix and n
// characters of alphabet.
func newID[V any](m map[string]V, prefix string, n int, alphabet string) string {
	for {
		id := randomID(prefix, n, alphabet)
		if _, taken := m[id]; !taken {
			return id
		}
	}
}
