package templates

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mapping is what a package version offers a template: its source image and,
// once published, the image delivered to each region.
type Mapping struct {
	Package      string
	Version      string
	Published    bool
	SourceRegion string
	SourceImage  string
	// Delivered maps each region the version was distributed to to its image.
	Delivered map[string]string
}

// ImageFor returns the image a template deployed in region uses. A draft
// version maps only in its source region (to the source image); a published
// one in its source region and every region it was delivered to.
func (m Mapping) ImageFor(region string) (string, error) {
	if !m.Published {
		if region != m.SourceRegion {
			return "", fmt.Errorf("version %s of package %s is a draft: it can be used only in its source region %s, not %s; publish it to use it in other regions",
				m.Version, m.Package, m.SourceRegion, region)
		}
		return m.SourceImage, nil
	}
	if id := m.Delivered[region]; id != "" {
		return id, nil
	}
	if region == m.SourceRegion && m.SourceImage != "" {
		return m.SourceImage, nil
	}
	regions := slices.Sorted(maps.Keys(m.Delivered))
	return "", fmt.Errorf("version %s of package %s was not distributed to %s (its regions: %s, and the source region %s)",
		m.Version, m.Package, region, strings.Join(regions, ", "), m.SourceRegion)
}
