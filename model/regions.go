package model

import (
	"fmt"
	"slices"
	"strings"
)

// Region is an Alibaba Cloud region the simulated cloud serves.
type Region struct {
	ID   string `json:"RegionId"`
	Name string `json:"LocalName"`
	// Zone groups regions for copy-time estimates: copies inside a zone are fast,
	// across zones slower.
	Zone string `json:"-"`
}

// Regions lists the real Alibaba Cloud region IDs imagefleet knows. The simulated
// cloud serves exactly these, and input validation refuses any other.
var Regions = []Region{
	{"cn-hangzhou", "China (Hangzhou)", "cn"},
	{"cn-shanghai", "China (Shanghai)", "cn"},
	{"cn-qingdao", "China (Qingdao)", "cn"},
	{"cn-beijing", "China (Beijing)", "cn"},
	{"cn-zhangjiakou", "China (Zhangjiakou)", "cn"},
	{"cn-huhehaote", "China (Hohhot)", "cn"},
	{"cn-wulanchabu", "China (Ulanqab)", "cn"},
	{"cn-shenzhen", "China (Shenzhen)", "cn"},
	{"cn-heyuan", "China (Heyuan)", "cn"},
	{"cn-guangzhou", "China (Guangzhou)", "cn"},
	{"cn-chengdu", "China (Chengdu)", "cn"},
	{"cn-hongkong", "China (Hong Kong)", "ap"},
	{"ap-northeast-1", "Japan (Tokyo)", "ap"},
	{"ap-northeast-2", "South Korea (Seoul)", "ap"},
	{"ap-southeast-1", "Singapore", "ap"},
	{"ap-southeast-3", "Malaysia (Kuala Lumpur)", "ap"},
	{"ap-southeast-5", "Indonesia (Jakarta)", "ap"},
	{"ap-southeast-6", "Philippines (Manila)", "ap"},
	{"ap-southeast-7", "Thailand (Bangkok)", "ap"},
	{"us-east-1", "US (Virginia)", "us"},
	{"us-west-1", "US (Silicon Valley)", "us"},
	{"eu-west-1", "UK (London)", "eu"},
	{"eu-central-1", "Germany (Frankfurt)", "eu"},
	{"me-east-1", "UAE (Dubai)", "me"},
	{"me-central-1", "Saudi Arabia (Riyadh)", "me"},
}

// LookupRegion returns the region with the given ID.
func LookupRegion(id string) (Region, bool) {
	i := slices.IndexFunc(Regions, func(r Region) bool { return r.ID == id })
	if i < 0 {
		return Region{}, false
	}
	return Regions[i], true
}

// maxListed is how many items of a list an error message names.
const maxListed = 10

// CheckRegions returns an error naming the unknown or repeated region IDs
// (each once, at most maxListed of them, quoted).
func CheckRegions(ids []string) error {
	var unknown, repeated []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := LookupRegion(id); !ok {
			unknown = append(unknown, id)
		}
		if seen[id] {
			repeated = append(repeated, id)
		}
		seen[id] = true
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown region(s) %s; known regions: %s", QuoteList(unknown, maxListed), strings.Join(RegionIDs(), ", "))
	}
	if len(repeated) > 0 {
		return fmt.Errorf("region(s) listed more than once: %s", QuoteList(repeated, maxListed))
	}
	return nil
}

// RegionIDs returns every known region ID.
func RegionIDs() []string {
	ids := make([]string, len(Regions))
	for i, r := range Regions {
		ids[i] = r.ID
	}
	return ids
}
