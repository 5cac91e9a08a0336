package cloudsim

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// ACR: Compute Nest's container registry. One registry serves every region
// (its content is global; each region has its own endpoints), and every
// account has its own namespace in it. Pushes and pulls need a temporary
// credential; pulls are served over the internet endpoint only.

type repoTagRecord struct {
	cloud.RepoTag
	Content []byte `json:",omitempty"` // a chart's .tgz
}

// registryToken is an issued temporary credential.
type registryToken struct {
	Account    string
	ExpireTime time.Time
}

var (
	repoNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)
	repoTagRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

func repoTagKey(namespace, repo, tag string) string { return namespace + "/" + repo + ":" + tag }

// tenantNamespace is the account's namespace in Compute Nest's registry.
func tenantNamespace(account string) string { return "computenest-" + account }

func registryInternet(region string) string {
	return "computenest-registry." + region + ".cr.aliyuncs.com"
}
func registryVPC(region string) string {
	return "computenest-registry-vpc." + region + ".cr.aliyuncs.com"
}

// pullAddress is where a tag is pulled from through region's internet
// endpoint: an image reference, or an oci:// chart reference.
func pullAddress(kind, region, namespace, repo, tag string) string {
	if kind == cloud.RegistryChart {
		return "oci://" + registryInternet(region) + "/" + namespace + "/" + repo + ":" + tag
	}
	return registryInternet(region) + "/" + namespace + "/" + repo + ":" + tag
}

func (s *Server) registerACR() {
	registerMutation(s, "GetAuthorizationToken", s.getAuthorizationToken)
	registerMutation(s, "PushImage", s.pushImage)
	registerMutation(s, "PushChart", s.pushChart)
	registerQuery(s, "PullArtifact", s.pullArtifact)
	registerQuery(s, "GetRepoTag", s.getRepoTag)
	registerQuery(s, "ListRepoTags", s.listRepoTags)
	registerMutation(s, "DeleteRepoTag", s.deleteRepoTag)
}

func (s *Server) getAuthorizationToken(c *call, req *cloud.GetAuthorizationTokenRequest) (*cloud.GetAuthorizationTokenResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	token := newID(c.st.RegistryTokens, "crt.", 40, lowerAlnum)
	exp := c.now.Add(cloud.TokenTTL)
	c.st.RegistryTokens[token] = &registryToken{Account: c.account, ExpireTime: exp}
	c.touch(c.st.RegistryTokens, token)
	// The ledger never holds the credential itself.
	c.record(req.RegionId, "RegistryToken", tenantNamespace(c.account), "temporary credential issued, expires "+exp.Format(time.RFC3339))
	return &cloud.GetAuthorizationTokenResponse{
		TempUsername:       "cr_temp_user",
		AuthorizationToken: token,
		ExpireTime:         exp,
		Namespace:          tenantNamespace(c.account),
		InternetEndpoint:   registryInternet(req.RegionId),
		VpcEndpoint:        registryVPC(req.RegionId),
	}, nil
}

// checkToken validates a temporary credential for the caller. Expired tokens
// are dropped on the next mutation that finds them.
func (c *call) checkToken(token string) error {
	if token == "" {
		return newError(http.StatusUnauthorized, cloud.CodeTokenInvalid, "AuthorizationToken is required: get one with GetAuthorizationToken")
	}
	t := c.st.RegistryTokens[token]
	switch {
	case t == nil:
		return newError(http.StatusUnauthorized, cloud.CodeTokenInvalid, "the authorization token is not valid")
	case t.Account != c.account:
		return newError(http.StatusUnauthorized, cloud.CodeTokenInvalid, "the authorization token was issued to another account")
	case !c.now.Before(t.ExpireTime):
		return newError(http.StatusUnauthorized, cloud.CodeTokenExpired, "the authorization token expired at %s: get a new one", t.ExpireTime.Format(time.RFC3339))
	}
	return nil
}

// checkPush validates a push into the caller's namespace.
func (c *call) checkPush(region, namespace, repo, tag, token string) error {
	if err := checkRegion("RegionId", region); err != nil {
		return err
	}
	if err := c.checkToken(token); err != nil {
		return err
	}
	if namespace != tenantNamespace(c.account) {
		return accessDenied("namespace %q is not the caller's; its namespace is %s", namespace, tenantNamespace(c.account))
	}
	if !repoNameRE.MatchString(repo) {
		return invalidParam("RepoName %q must be 2–64 lowercase letters, digits, '.', '_' or '-'", repo)
	}
	if !repoTagRE.MatchString(tag) {
		return invalidParam("Tag %q must be 1–128 letters, digits, '.', '_' or '-'", tag)
	}
	if a, v := c.publishedDelivering(c.account, func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		p := v.ArtifactProperty
		return isRegistryType(a.ArtifactType) && p.Namespace == namespace && p.RepoName == repo && p.Tag == tag
	}); v != nil {
		return lockedError(v.VersionName, a.Name)
	}
	c.dropExpiredTokens()
	return nil
}

func (c *call) dropExpiredTokens() {
	for k, t := range c.st.RegistryTokens {
		if !c.now.Before(t.ExpireTime) {
			delete(c.st.RegistryTokens, k)
			c.touch(c.st.RegistryTokens, k)
		}
	}
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s *Server) pushImage(c *call, req *cloud.PushImageRequest) (*cloud.PushImageResponse, error) {
	if err := c.checkPush(req.RegionId, req.Namespace, req.RepoName, req.Tag, req.AuthorizationToken); err != nil {
		return nil, err
	}
	if req.SourceImage == "" {
		return nil, invalidParam("SourceImage (the local image to push, e.g. nginx:1.25) is required")
	}
	rec := &repoTagRecord{RepoTag: cloud.RepoTag{
		Namespace: req.Namespace, RepoName: req.RepoName, Tag: req.Tag, Kind: cloud.RegistryImage,
		Digest: digest([]byte(req.SourceImage)), Size: 50 << 20, OwnerId: c.account, Source: req.SourceImage, PushTime: c.now,
	}}
	c.st.RepoTags[repoTagKey(req.Namespace, req.RepoName, req.Tag)] = rec
	c.touch(c.st.RepoTags, repoTagKey(req.Namespace, req.RepoName, req.Tag))
	c.record(req.RegionId, "RepoTag", repoTagKey(req.Namespace, req.RepoName, req.Tag), "image pushed from "+req.SourceImage)
	return &cloud.PushImageResponse{Tag: rec.RepoTag, ImageUrl: pullAddress(cloud.RegistryImage, req.RegionId, req.Namespace, req.RepoName, req.Tag)}, nil
}

func (s *Server) pushChart(c *call, req *cloud.PushChartRequest) (*cloud.PushChartResponse, error) {
	if err := c.checkPush(req.RegionId, req.Namespace, req.RepoName, req.Tag, req.AuthorizationToken); err != nil {
		return nil, err
	}
	if len(req.Content) == 0 {
		return nil, invalidParam("Content (the packaged chart, .tgz) is required")
	}
	if err := model.CheckHelmChart(req.ChartName, req.Content); err != nil {
		return nil, invalidParam("%s", err.Error())
	}
	if len(req.Content) > cloud.MaxObjectSize {
		return nil, newError(http.StatusBadRequest, cloud.CodeEntityTooLarge, "the simulated registry stores charts of at most %d bytes, got %d", cloud.MaxObjectSize, len(req.Content))
	}
	rec := &repoTagRecord{Content: slices.Clone(req.Content), RepoTag: cloud.RepoTag{
		Namespace: req.Namespace, RepoName: req.RepoName, Tag: req.Tag, Kind: cloud.RegistryChart,
		Digest: digest(req.Content), Size: len(req.Content), OwnerId: c.account, Source: req.ChartName, PushTime: c.now,
	}}
	c.st.RepoTags[repoTagKey(req.Namespace, req.RepoName, req.Tag)] = rec
	c.touch(c.st.RepoTags, repoTagKey(req.Namespace, req.RepoName, req.Tag))
	c.record(req.RegionId, "RepoTag", repoTagKey(req.Namespace, req.RepoName, req.Tag), fmt.Sprintf("chart %s pushed, %d bytes", req.ChartName, len(req.Content)))
	return &cloud.PushChartResponse{Tag: rec.RepoTag, ChartUrl: pullAddress(cloud.RegistryChart, req.RegionId, req.Namespace, req.RepoName, req.Tag)}, nil
}

// pullArtifact serves a pull over the internet endpoint. The owner may pull
// its tags; a tag that only draft versions hold only through their source
// region. Another account may pull a tag that a published version delivered
// to the region and made visible to it.
func (s *Server) pullArtifact(c *call, req *cloud.PullArtifactRequest) (*cloud.PullArtifactResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	switch req.Endpoint {
	case "", cloud.EndpointInternet:
	case cloud.EndpointVPC:
		return nil, newError(http.StatusForbidden, cloud.CodeVPCPullDenied,
			"Compute Nest's registry serves pulls only over the internet endpoint %s, not the VPC endpoint %s", registryInternet(req.RegionId), registryVPC(req.RegionId))
	default:
		return nil, invalidParam("Endpoint %q must be %s", req.Endpoint, cloud.EndpointInternet)
	}
	if err := c.checkToken(req.AuthorizationToken); err != nil {
		return nil, err
	}
	rec := c.st.RepoTags[repoTagKey(req.Namespace, req.RepoName, req.Tag)]
	owner := req.Namespace == tenantNamespace(c.account)
	matchesTag := func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		p := v.ArtifactProperty
		return isRegistryType(a.ArtifactType) && p.Namespace == req.Namespace && p.RepoName == req.RepoName && p.Tag == req.Tag
	}
	switch {
	case owner && rec == nil:
		return nil, newError(http.StatusNotFound, cloud.CodeRepoTagMissing, "%s/%s:%s does not exist", req.Namespace, req.RepoName, req.Tag)
	case owner:
		if err := c.checkDraftRegion(matchesTag, req.RegionId); err != nil {
			return nil, err
		}
	case rec == nil || !c.granted(rec.OwnerId, func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		return matchesTag(a, v) && v.Delivery[req.RegionId] != ""
	}):
		return nil, accessDenied("account %s may not pull %s/%s:%s in %s: it is not part of a package version visible to it there", c.account, req.Namespace, req.RepoName, req.Tag, req.RegionId)
	}
	return &cloud.PullArtifactResponse{
		Tag:      rec.RepoTag,
		Endpoint: cloud.EndpointInternet,
		Url:      pullAddress(rec.Kind, req.RegionId, req.Namespace, req.RepoName, req.Tag),
		Content:  slices.Clone(rec.Content),
	}, nil
}

// checkDraftRegion refuses the owner's use of content in a region when only
// draft versions hold it and none has region as its source region. Content
// no version holds, or a published version holds, is not restricted.
func (c *call) checkDraftRegion(match func(*artifactRecord, *cloud.ArtifactVersion) bool, region string) error {
	var draftRegions []string
	for _, a := range c.st.Artifacts {
		if a.OwnerId != c.account {
			continue
		}
		for i := range a.Versions {
			v := &a.Versions[i]
			if !match(a, v) {
				continue
			}
			if v.Status == cloud.ArtifactAvailable || v.ArtifactProperty.RegionId == region {
				return nil
			}
			draftRegions = append(draftRegions, v.ArtifactProperty.RegionId)
		}
	}
	if len(draftRegions) == 0 {
		return nil
	}
	slices.Sort(draftRegions)
	return newError(http.StatusForbidden, cloud.CodeAccessDenied,
		"the content belongs to a draft package version, usable only in its source region %s until it is published", slices.Compact(draftRegions)[0])
}

func (s *Server) getRepoTag(c *call, req *cloud.GetRepoTagRequest) (*cloud.GetRepoTagResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if err := c.checkToken(req.AuthorizationToken); err != nil {
		return nil, err
	}
	if req.Namespace != tenantNamespace(c.account) {
		return nil, accessDenied("namespace %q is not the caller's (%s)", req.Namespace, tenantNamespace(c.account))
	}
	rec := c.st.RepoTags[repoTagKey(req.Namespace, req.RepoName, req.Tag)]
	if rec == nil {
		return nil, newError(http.StatusNotFound, cloud.CodeRepoTagMissing, "%s/%s:%s does not exist", req.Namespace, req.RepoName, req.Tag)
	}
	return &cloud.GetRepoTagResponse{
		Tag:         rec.RepoTag,
		PullAddress: pullAddress(rec.Kind, req.RegionId, req.Namespace, req.RepoName, req.Tag),
		Endpoint:    cloud.EndpointInternet,
	}, nil
}

func (s *Server) listRepoTags(c *call, req *cloud.ListRepoTagsRequest) (*cloud.ListRepoTagsResponse, error) {
	if req.Namespace != tenantNamespace(c.account) {
		return nil, accessDenied("namespace %q is not the caller's (%s)", req.Namespace, tenantNamespace(c.account))
	}
	resp := &cloud.ListRepoTagsResponse{Tags: []cloud.RepoTag{}}
	for _, t := range c.st.RepoTags {
		if t.Namespace == req.Namespace && (req.RepoName == "" || t.RepoName == req.RepoName) {
			resp.Tags = append(resp.Tags, t.RepoTag)
		}
	}
	slices.SortFunc(resp.Tags, func(a, b cloud.RepoTag) int {
		return cmp.Or(cmp.Compare(a.RepoName, b.RepoName), cmp.Compare(a.Tag, b.Tag))
	})
	return resp, nil
}

func (s *Server) deleteRepoTag(c *call, req *cloud.DeleteRepoTagRequest) (*cloud.DeleteRepoTagResponse, error) {
	if req.Namespace != tenantNamespace(c.account) {
		return nil, accessDenied("namespace %q is not the caller's (%s)", req.Namespace, tenantNamespace(c.account))
	}
	if a, v := c.publishedDelivering(c.account, func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		p := v.ArtifactProperty
		return isRegistryType(a.ArtifactType) && p.Namespace == req.Namespace && p.RepoName == req.RepoName && p.Tag == req.Tag
	}); v != nil {
		return nil, lockedError(v.VersionName, a.Name)
	}
	k := repoTagKey(req.Namespace, req.RepoName, req.Tag)
	if c.st.RepoTags[k] == nil {
		return nil, newError(http.StatusNotFound, cloud.CodeRepoTagMissing, "%s does not exist", k)
	}
	delete(c.st.RepoTags, k)
	c.touch(c.st.RepoTags, k)
	c.record("", "RepoTag", k, "deleted")
	return &cloud.DeleteRepoTagResponse{}, nil
}

func isRegistryType(t string) bool {
	return t == cloud.ArtifactAcrImage || t == cloud.ArtifactHelmChart
}
