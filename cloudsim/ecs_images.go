package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// ECS limits the simulator enforces.
const (
	defaultPageSize   = 50
	maxPageSize       = 100
	maxShareAccounts  = model.MaxImageShareAccounts
	maxImageTags      = model.MaxImageTags
	maxDescriptionLen = model.MaxImageDescriptionLen
)

// imageRecord is a stored image. Its owner alias, status and progress are not
// stored: they depend on who asks and when (see view).
type imageRecord struct {
	cloud.Image
	Kind       string   // kindCustom, kindSystem or kindMarketplace
	SharedWith []string `json:",omitempty"` // accounts it is shared with
	// FailsAtReady marks a copy hit by a copy-fail fault: it ends CreateFailed.
	FailsAtReady bool      `json:",omitempty"`
	Deleted      bool      `json:",omitempty"`
	DeletedTime  time.Time `json:",omitzero"`
}

func imageKey(region, id string) string { return region + "/" + id }

// status derives the image's status and progress at now from its timestamps,
// so that copies advance in wall time, also while the simulator is down.
func (img *imageRecord) status(now time.Time) (status, progress string) {
	switch {
	case img.Deleted:
		return cloud.ImageDeleted, ""
	case now.Before(img.ReadyTime):
		total := img.ReadyTime.Sub(img.CreationTime)
		pct := 0
		if elapsed := now.Sub(img.CreationTime); elapsed > 0 && total > 0 {
			pct = min(int(elapsed*100/total), 99)
		}
		return cloud.ImageCreating, fmt.Sprintf("%d%%", pct)
	case img.FailsAtReady:
		return cloud.ImageCreateFailed, "99%"
	default:
		return cloud.ImageAvailable, "100%"
	}
}

// alias is the owner alias the account sees; ok is false when the image is
// invisible to it: another account's private image not shared with it.
func (img *imageRecord) alias(account string) (alias string, ok bool) {
	switch {
	case img.Kind == kindSystem:
		return cloud.OwnerSystem, true
	case img.Kind == kindMarketplace:
		return cloud.OwnerMarketplace, true
	case img.OwnerId == account:
		return cloud.OwnerSelf, true
	case slices.Contains(img.SharedWith, account):
		return cloud.OwnerOthers, true
	case img.IsPublic:
		return cloud.OwnerCommunity, true // a public custom image is a community image
	}
	return "", false
}

// view is the image as account sees it at now.
func (img *imageRecord) view(account string, now time.Time) cloud.Image {
	v := img.Image
	v.ImageOwnerAlias, _ = img.alias(account)
	v.Status, v.Progress = img.status(now)
	v.Tags = maps.Clone(img.Tags)
	return v
}

func (s *Server) registerECSImages() {
	registerQuery(s, "DescribeRegions", s.describeRegions)
	registerQuery(s, "DescribeImages", s.describeImages)
	registerMutation(s, "CopyImage", s.copyImage)
	registerMutation(s, "CancelCopyImage", s.cancelCopyImage)
	registerMutation(s, "DeleteImage", s.deleteImage)
	registerMutation(s, "ModifyImageSharePermission", s.modifyImageSharePermission)
	registerQuery(s, "DescribeImageSharePermission", s.describeImageSharePermission)
}

func (s *Server) describeRegions(c *call, _ *cloud.DescribeRegionsRequest) (*cloud.DescribeRegionsResponse, error) {
	resp := &cloud.DescribeRegionsResponse{Regions: make([]cloud.RegionInfo, len(model.Regions))}
	for i, r := range model.Regions {
		resp.Regions[i] = cloud.RegionInfo{RegionId: r.ID, LocalName: r.Name}
	}
	return resp, nil
}

// checkRegion refuses a missing or unknown region in parameter field.
func checkRegion(field, id string) error {
	if id == "" {
		return invalidParam("%s is required", field)
	}
	if _, ok := model.LookupRegion(id); !ok {
		return newError(http.StatusBadRequest, cloud.CodeInvalidRegion, "%s %q does not exist; known regions: %s", field, id, strings.Join(model.RegionIDs(), ", "))
	}
	return nil
}

// usableImage finds an image the caller may describe or copy.
func (c *call) usableImage(region, id string) (*imageRecord, error) {
	if id == "" {
		return nil, invalidParam("ImageId is required")
	}
	img := c.st.Images[imageKey(region, id)]
	if img == nil || img.Deleted {
		return nil, newError(http.StatusNotFound, cloud.CodeImageNotFound, "image %s does not exist in region %s", id, region)
	}
	if _, ok := img.alias(c.account); !ok {
		return nil, newError(http.StatusForbidden, cloud.CodeImageNotAuthorized, "image %s in %s belongs to another account and is not shared with account %s", id, region, c.account)
	}
	return img, nil
}

// ownedImage finds a not deleted image of the caller's, for changing it.
func (c *call) ownedImage(region, id string) (*imageRecord, error) {
	if err := checkRegion("RegionId", region); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalidParam("ImageId is required")
	}
	img := c.st.Images[imageKey(region, id)]
	if img == nil || img.Deleted {
		return nil, newError(http.StatusNotFound, cloud.CodeImageNotFound, "image %s does not exist in region %s", id, region)
	}
	if img.Kind != kindCustom || img.OwnerId != c.account {
		return nil, newError(http.StatusForbidden, cloud.CodeImageNotAuthorized, "image %s in %s is not owned by account %s", id, region, c.account)
	}
	return img, nil
}

var ownerAliases = []string{cloud.OwnerSelf, cloud.OwnerSystem, cloud.OwnerOthers, cloud.OwnerMarketplace, cloud.OwnerCommunity}

func (s *Server) describeImages(c *call, req *cloud.DescribeImagesRequest) (*cloud.DescribeImagesResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	if req.ImageOwnerAlias != "" && !slices.Contains(ownerAliases, req.ImageOwnerAlias) {
		return nil, invalidParam("ImageOwnerAlias %q must be one of %s", req.ImageOwnerAlias, strings.Join(ownerAliases, ", "))
	}
	var statuses []string // ECS takes a comma-separated list
	if req.Status != "" {
		statuses = strings.Split(req.Status, ",")
	}
	ids, err := imageIDSet(req.ImageIds)
	if err != nil {
		return nil, err
	}
	var found []cloud.Image
	for _, img := range c.st.Images {
		if img.RegionId != req.RegionId || (img.Deleted && !req.IncludeDeleted) {
			continue
		}
		alias, ok := img.alias(c.account)
		switch {
		case !ok,
			ids != nil && !ids[img.ImageId],
			req.ImageName != "" && !matchName(req.ImageName, img.ImageName),
			req.ImageFamily != "" && req.ImageFamily != img.ImageFamily,
			req.ImageOwnerAlias != "" && req.ImageOwnerAlias != alias:
			continue
		}
		v := img.view(c.account, c.now)
		if len(statuses) > 0 && !slices.Contains(statuses, v.Status) {
			continue
		}
		found = append(found, v)
	}
	// Newest first, as ECS lists them.
	slices.SortFunc(found, func(a, b cloud.Image) int {
		return cmp.Or(b.CreationTime.Compare(a.CreationTime), cmp.Compare(a.ImageId, b.ImageId))
	})
	return &cloud.DescribeImagesResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, Images: pageItems(pg, found)}, nil
}

// maxImageIDs is how many image IDs one DescribeImages call may name.
const maxImageIDs = 100

// imageIDSet is the set of IDs a DescribeImages call names: ECS takes
// ImageId as a comma-separated list of up to 100 IDs (an element of
// ImageIds may hold such a list too); nil when it names none.
func imageIDSet(list []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	set := map[string]bool{}
	for _, item := range list {
		for id := range strings.SplitSeq(item, ",") {
			if id = strings.TrimSpace(id); id == "" {
				return nil, invalidParam("ImageId has an empty ID in %q", item)
			}
			set[id] = true
		}
	}
	if len(set) > maxImageIDs {
		return nil, invalidParam("ImageId names %d images; at most %d may be asked about in one call", len(set), maxImageIDs)
	}
	return set, nil
}

// matchName matches an image name exactly, or by prefix with a trailing *.
func matchName(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

func (s *Server) copyImage(c *call, req *cloud.CopyImageRequest) (*cloud.CopyImageResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if err := checkRegion("DestinationRegionId", req.DestinationRegionId); err != nil {
		return nil, err
	}
	if err := checkImageAttributes("Destination", req.DestinationImageName, req.DestinationDescription, req.Tags); err != nil {
		return nil, err
	}
	src, err := c.usableImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	if st, _ := src.status(c.now); st != cloud.ImageAvailable {
		return nil, newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s in %s is %s; only an Available image can be copied", src.ImageId, src.RegionId, st)
	}
	if err := c.checkImageQuota(req.DestinationRegionId); err != nil {
		return nil, err
	}

	dur := s.CopyDuration(req.RegionId, req.DestinationRegionId, src.Size)
	img := c.addCustomImage(dur, cloud.Image{
		ImageName:      cmp.Or(req.DestinationImageName, src.ImageName),
		Description:    cmp.Or(req.DestinationDescription, src.Description),
		RegionId:       req.DestinationRegionId,
		Size:           src.Size,
		OSType:         src.OSType,
		OSName:         src.OSName,
		Platform:       src.Platform,
		Architecture:   src.Architecture,
		ImageFamily:    src.ImageFamily,
		SourceImageId:  src.ImageId,
		SourceRegionId: src.RegionId,
		Tags:           maps.Clone(req.Tags),
	})
	id := img.ImageId
	detail := fmt.Sprintf("copy of %s from %s, %d GiB, ready in %s", src.ImageId, src.RegionId, src.Size, dur.Round(time.Millisecond))
	if img.FailsAtReady {
		detail += " (copy-fail fault: will end CreateFailed)"
	}
	c.record(img.RegionId, "Image", id, detail)
	return &cloud.CopyImageResponse{ImageId: id}, nil
}

// checkImageQuota refuses a new image in region once the caller has as many
// as the quota allows: every one not deleted counts, failed ones included.
func (c *call) checkImageQuota(region string) error {
	n := 0
	for _, img := range c.st.Images {
		if img.RegionId == region && img.Kind == kindCustom && img.OwnerId == c.account && !img.Deleted {
			n++
		}
	}
	if quota := c.srv.cfg.ImageQuota; n >= quota {
		return newError(http.StatusBadRequest, cloud.CodeQuotaExceeded, "account %s has %d custom images in %s, the quota is %d", c.account, n, region, quota)
	}
	return nil
}

// addCustomImage stores a new image of the caller's, with a new ID in its
// region; it is Creating for ready, then Available (CreateFailed under a
// copy-fail fault).
func (c *call) addCustomImage(ready time.Duration, v cloud.Image) *imageRecord {
	v.ImageId = c.newImageID(v.RegionId)
	v.OwnerId, v.CreationTime, v.ReadyTime = c.account, c.now, c.now.Add(ready)
	img := &imageRecord{Kind: kindCustom, FailsAtReady: c.copyFail, Image: v}
	key := imageKey(v.RegionId, v.ImageId)
	c.st.Images[key] = img
	c.touch(c.st.Images, key)
	return img
}

func (c *call) newImageID(region string) string {
	for {
		id := randomID("m-", 20, lowerAlnum)
		if c.st.Images[imageKey(region, id)] == nil {
			return id
		}
	}
}

func (s *Server) cancelCopyImage(c *call, req *cloud.CancelCopyImageRequest) (*cloud.CancelCopyImageResponse, error) {
	img, err := c.ownedImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	st, progress := img.status(c.now)
	if st != cloud.ImageCreating {
		return nil, newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s is %s, not Creating: only a running copy can be cancelled, delete the image instead", img.ImageId, st)
	}
	img.Deleted, img.DeletedTime = true, c.now
	c.touch(c.st.Images, imageKey(img.RegionId, img.ImageId))
	c.record(img.RegionId, "Image", img.ImageId, "copy cancelled at "+progress)
	return &cloud.CancelCopyImageResponse{}, nil
}

func (s *Server) deleteImage(c *call, req *cloud.DeleteImageRequest) (*cloud.DeleteImageResponse, error) {
	img, err := c.ownedImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	st, _ := img.status(c.now)
	if st == cloud.ImageCreating {
		return nil, newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s is Creating: cancel the copy with CancelCopyImage instead", img.ImageId)
	}
	if err := c.managedImageError(img.RegionId, img.ImageId); err != nil {
		return nil, err
	}
	img.Deleted, img.DeletedTime = true, c.now
	c.touch(c.st.Images, imageKey(img.RegionId, img.ImageId))
	c.record(img.RegionId, "Image", img.ImageId, "deleted ("+st+")")
	return &cloud.DeleteImageResponse{}, nil
}

func (s *Server) modifyImageSharePermission(c *call, req *cloud.ModifyImageSharePermissionRequest) (*cloud.ModifyImageSharePermissionResponse, error) {
	img, err := c.ownedImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	if st, _ := img.status(c.now); st != cloud.ImageAvailable {
		return nil, newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s is %s; only an Available image can be shared", img.ImageId, st)
	}
	if err := c.managedImageError(img.RegionId, img.ImageId); err != nil {
		return nil, err
	}
	for _, a := range slices.Concat(req.AddAccount, req.RemoveAccount) {
		switch {
		case !s.accounts[a]:
			return nil, invalidParam("account %q does not exist", a)
		case a == c.account:
			return nil, invalidParam("account %s owns image %s and cannot share it with itself", a, img.ImageId)
		}
	}
	shared := slices.Clone(img.SharedWith)
	for _, a := range req.AddAccount {
		if !slices.Contains(shared, a) {
			shared = append(shared, a)
		}
	}
	shared = slices.DeleteFunc(shared, func(a string) bool { return slices.Contains(req.RemoveAccount, a) })
	slices.Sort(shared)
	if len(shared) > maxShareAccounts {
		return nil, newError(http.StatusBadRequest, codeShareUserQuota, "an image can be shared with at most %d accounts, this would make %d", maxShareAccounts, len(shared))
	}
	public := img.IsPublic
	if req.IsPublic != nil {
		public = *req.IsPublic
	}
	if slices.Equal(shared, img.SharedWith) && public == img.IsPublic {
		return &cloud.ModifyImageSharePermissionResponse{}, nil // nothing changes: no side effect
	}
	img.SharedWith, img.IsPublic = shared, public
	if len(shared) == 0 {
		img.SharedWith = nil
	}
	c.touch(c.st.Images, imageKey(img.RegionId, img.ImageId))
	c.record(img.RegionId, "Image", img.ImageId, fmt.Sprintf("shared with %v, public %t", shared, public))
	return &cloud.ModifyImageSharePermissionResponse{}, nil
}

func (s *Server) describeImageSharePermission(c *call, req *cloud.DescribeImageSharePermissionRequest) (*cloud.DescribeImageSharePermissionResponse, error) {
	img, err := c.ownedImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeImageSharePermissionResponse{
		ImageId:  img.ImageId,
		RegionId: img.RegionId,
		IsPublic: img.IsPublic,
		Accounts: append([]string{}, img.SharedWith...),
	}, nil
}

// checkImageAttributes checks the name, description and tags a new image
// gets (CopyImage, CreateImage); prefix is the request's field prefix.
func checkImageAttributes(prefix, name, description string, tags map[string]string) error {
	if problems := model.CheckImageAttributes(prefix, name, description, tags); len(problems) > 0 {
		return invalidParam("%s", strings.Join(problems, "; "))
	}
	return nil
}
