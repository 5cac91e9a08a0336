package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// ECS instances: creation, description, release and system-disk replacement.

// Instance limits.
const (
	maxRunAmount         = 100
	defaultSystemDiskGiB = 40
	maxSystemDiskGiB     = 2048
	maxInstanceIDs       = 100
)

var (
	instanceTypeRE = regexp.MustCompile(`^ecs\.[a-z0-9-]+\.[a-z0-9]+$`)
	vSwitchRE      = regexp.MustCompile(`^vsw-[a-z0-9]+$`)
	diskCategories = []string{"cloud_essd", "cloud_ssd", "cloud_efficiency"}
)

// instanceRecord is a stored instance. Its status is not stored: it derives
// from the timestamps when read (see status), so that boots and restarts
// finish in wall time, also while the simulator is down.
type instanceRecord struct {
	cloud.Instance
	OwnerId string
	// Transition is the status shown until ReadyTime: Pending after
	// creation, Starting after a system-disk replacement.
	Transition string `json:",omitempty"`
	Stopped    bool   `json:",omitempty"`
}

func (r *instanceRecord) status(now time.Time) string {
	switch {
	case r.Transition != "" && now.Before(r.ReadyTime):
		return r.Transition
	case r.Stopped:
		return cloud.InstanceStopped
	default:
		return cloud.InstanceRunning
	}
}

func (r *instanceRecord) view(now time.Time) cloud.Instance {
	v := r.Instance
	v.Status = r.status(now)
	v.Tags = maps.Clone(r.Tags)
	return v
}

// BootDuration is how long a new instance from an image of sizeGiB stays
// Pending at this server's TimeScale: 20 s + 1 s per GiB.
func (s *Server) BootDuration(sizeGiB int) time.Duration {
	return s.scaled(20*time.Second + time.Duration(sizeGiB)*time.Second)
}

// ReplaceDiskDuration is how long an instance stays Starting after its system
// disk is replaced with an image of sizeGiB: 40 s + 2 s per GiB, scaled.
func (s *Server) ReplaceDiskDuration(sizeGiB int) time.Duration {
	return s.scaled(40*time.Second + time.Duration(sizeGiB)*2*time.Second)
}

func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.TimeScale)
}

func (s *Server) registerECSInstances() {
	registerQuery(s, "DescribeInstances", s.describeInstances)
	registerMutation(s, "RunInstances", s.runInstances)
	registerMutation(s, "DeleteInstances", s.deleteInstances)
	registerMutation(s, "ReplaceSystemDisk", s.replaceSystemDisk)
}

func instanceNotFound(format string, args ...any) error {
	return newError(http.StatusNotFound, cloud.CodeInstanceNotFound, format, args...)
}

func incorrectInstanceStatus(format string, args ...any) error {
	return newError(http.StatusForbidden, cloud.CodeIncorrectInstStatus, format, args...)
}

// ownInstance finds one of the caller's instances; region, if not empty,
// must be the instance's.
func (c *call) ownInstance(region, id string) (*instanceRecord, error) {
	if id == "" {
		return nil, invalidParam("InstanceId is required")
	}
	r := c.st.Instances[id]
	if r == nil || r.OwnerId != c.account {
		return nil, instanceNotFound("instance %s does not exist", id)
	}
	if region != "" && r.RegionId != region {
		return nil, instanceNotFound("instance %s does not exist in region %s (it is in %s)", id, region, r.RegionId)
	}
	return r, nil
}

// settledInstance finds one of the caller's instances that is Running or
// Stopped, as a call that works on its disk needs; rule says what the call
// does, for the refusal ("an image can be made only from").
func (c *call) settledInstance(region, id, rule string) (*instanceRecord, error) {
	r, err := c.ownInstance(region, id)
	if err != nil {
		return nil, err
	}
	if st := r.status(c.now); st != cloud.InstanceRunning && st != cloud.InstanceStopped {
		return nil, incorrectInstanceStatus("instance %s is %s: %s a Running or Stopped instance", r.InstanceId, st, rule)
	}
	return r, nil
}

// instanceFault fires the instance-fail rules for an operation of this call
// on one instance and returns the first that fired. Handlers ask after their
// validation, before they change anything.
func (c *call) instanceFault(region, instanceID string) (cloud.Fault, bool) {
	fired := c.srv.faults.fire(faultTarget{action: c.action, mutating: true, regions: []string{region}, instance: instanceID})
	for _, f := range fired {
		c.faults = append(c.faults, f.ID+":"+f.Kind)
	}
	if len(fired) == 0 {
		return cloud.Fault{}, false
	}
	return fired[0], true
}

// instanceFaultError is the answer of an operation hit by an instance fault.
func instanceFaultError(f cloud.Fault, action, instanceID string) error {
	return newError(http.StatusBadRequest, cloud.CodeInstanceFault, "%s failed on instance %s (injected fault %s)", action, instanceID, f.ID)
}

func (s *Server) describeInstances(c *call, req *cloud.DescribeInstancesRequest) (*cloud.DescribeInstancesResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	if len(req.InstanceIds) > cloud.MaxDescribeInstanceIds {
		return nil, invalidParam("InstanceIds must name at most %d instances, got %d", cloud.MaxDescribeInstanceIds, len(req.InstanceIds))
	}
	keep := func(r *instanceRecord) bool {
		return r != nil && r.OwnerId == c.account && r.RegionId == req.RegionId && (req.ImageId == "" || req.ImageId == r.ImageId)
	}
	var found []cloud.Instance
	add := func(r *instanceRecord) {
		if v := r.view(c.now); req.Status == "" || req.Status == v.Status {
			found = append(found, v)
		}
	}
	if len(req.InstanceIds) > 0 {
		// Looked up by ID: the cost of a call does not grow with the fleet.
		seen := make(map[string]bool, len(req.InstanceIds))
		for _, id := range req.InstanceIds {
			if r := c.st.Instances[id]; !seen[id] && keep(r) {
				seen[id] = true
				add(r)
			}
		}
	} else {
		for _, r := range c.st.Instances {
			if keep(r) {
				add(r)
			}
		}
	}
	slices.SortFunc(found, func(a, b cloud.Instance) int {
		return cmp.Or(a.CreationTime.Compare(b.CreationTime), cmp.Compare(a.InstanceId, b.InstanceId))
	})
	return &cloud.DescribeInstancesResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, Instances: pageItems(pg, found)}, nil
}

// bootImage finds an Available image of region the caller may start an
// instance from.
func (c *call) bootImage(region, id string) (*imageRecord, error) {
	img, err := c.usableImage(region, id)
	if err != nil {
		return nil, err
	}
	if st, _ := img.status(c.now); st != cloud.ImageAvailable {
		return nil, newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s in %s is %s, not Available", img.ImageId, region, st)
	}
	return img, nil
}

// checkSystemDisk validates a requested system disk for img and fills in the
// defaults: size def (at least the image's), category cloud_essd.
func checkSystemDisk(d cloud.SystemDisk, img *imageRecord, def int) (cloud.SystemDisk, error) {
	if d.Size == 0 {
		d.Size = max(def, img.Size)
	}
	if d.Size < img.Size || d.Size > maxSystemDiskGiB {
		return d, invalidParam("SystemDisk.Size %d GiB must be between the image's size (%d GiB of %s) and %d GiB", d.Size, img.Size, img.ImageId, maxSystemDiskGiB)
	}
	d.Category = cmp.Or(d.Category, diskCategories[0])
	if !slices.Contains(diskCategories, d.Category) {
		return d, invalidParam("SystemDisk.Category %q must be one of %s", d.Category, strings.Join(diskCategories, ", "))
	}
	d.DiskId = ""
	return d, nil
}

func (s *Server) runInstances(c *call, req *cloud.RunInstancesRequest) (*cloud.RunInstancesResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if !instanceTypeRE.MatchString(req.InstanceType) {
		return nil, newError(http.StatusBadRequest, cloud.CodeInstanceType, "InstanceType %q is not an instance type (e.g. ecs.g7.large)", req.InstanceType)
	}
	if req.VSwitchId != "" && !vSwitchRE.MatchString(req.VSwitchId) {
		return nil, invalidParam("VSwitchId %q is not a vSwitch ID (vsw-…)", req.VSwitchId)
	}
	amount := cmp.Or(req.Amount, 1)
	if amount < 1 || amount > maxRunAmount {
		return nil, invalidParam("Amount must be 1–%d, got %d", maxRunAmount, req.Amount)
	}
	if len(req.Tags) > maxImageTags {
		return nil, invalidParam("at most %d tags, got %d", maxImageTags, len(req.Tags))
	}
	if err := c.checkStock(req.RegionId, req.InstanceType); err != nil {
		return nil, err
	}
	img, err := c.bootImage(req.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	disk, err := checkSystemDisk(req.SystemDisk, img, defaultSystemDiskGiB)
	if err != nil {
		return nil, err
	}
	dur := s.BootDuration(img.Size)
	resp := &cloud.RunInstancesResponse{InstanceIdSets: make([]string, 0, amount)}
	for range amount {
		r := c.newInstance(req.RegionId, req.InstanceType, req.VSwitchId, img, disk, dur)
		r.Tags = maps.Clone(req.Tags)
		if req.InstanceName != "" {
			r.InstanceName = req.InstanceName
		}
		c.record(r.RegionId, "Instance", r.InstanceId, fmt.Sprintf("created from %s, %s, %d GiB system disk, running in %s", img.ImageId, r.InstanceType, disk.Size, dur.Round(time.Millisecond)))
		resp.InstanceIdSets = append(resp.InstanceIdSets, r.InstanceId)
	}
	return resp, nil
}

// newInstance adds an instance of the caller's, Pending for boot.
func (c *call) newInstance(region, instanceType, vSwitch string, img *imageRecord, disk cloud.SystemDisk, boot time.Duration) *instanceRecord {
	id := c.newInstanceID()
	disk.DiskId = newDiskID()
	r := &instanceRecord{OwnerId: c.account, Transition: cloud.InstancePending, Instance: cloud.Instance{
		InstanceId:   id,
		InstanceName: id,
		RegionId:     region,
		InstanceType: instanceType,
		VSwitchId:    vSwitch,
		ImageId:      img.ImageId,
		OSType:       cmp.Or(img.OSType, cloud.OSLinux),
		OSName:       img.OSName,
		SystemDisk:   disk,
		CreationTime: c.now,
		ReadyTime:    c.now.Add(boot),
	}}
	c.st.Instances[id] = r
	c.touch(c.st.Instances, id)
	return r
}

func (c *call) newInstanceID() string { return newID(c.st.Instances, "i-", 20, lowerAlnum) }

func newDiskID() string { return randomID("d-", 20, lowerAlnum) }

// instanceIDs checks a list of instance IDs: 1–maxInstanceIDs, no repeats.
func instanceIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > maxInstanceIDs {
		return invalidParam("InstanceIds must name 1–%d instances, got %d", maxInstanceIDs, len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return invalidParam("InstanceIds names %s twice", id)
		}
		seen[id] = true
	}
	return nil
}

// ownInstances checks a list of instance IDs (instanceIDs) and finds each
// of the caller's instances in region; vet refuses one that the call
// cannot act on. All are checked before anything changes.
func (c *call) ownInstances(region string, ids []string, vet func(*instanceRecord) error) ([]*instanceRecord, error) {
	if err := instanceIDs(ids); err != nil {
		return nil, err
	}
	recs := make([]*instanceRecord, len(ids))
	for i, id := range ids {
		r, err := c.ownInstance(region, id)
		if err != nil {
			return nil, err
		}
		if err := vet(r); err != nil {
			return nil, err
		}
		recs[i] = r
	}
	return recs, nil
}

func (s *Server) deleteInstances(c *call, req *cloud.DeleteInstancesRequest) (*cloud.DeleteInstancesResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	recs, err := c.ownInstances(req.RegionId, req.InstanceIds, func(r *instanceRecord) error {
		if st := r.status(c.now); st != cloud.InstanceStopped && !req.Force {
			return incorrectInstanceStatus("instance %s is %s: only a Stopped instance can be released without Force", r.InstanceId, st)
		}
		return c.checkReleasable(r)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
			return nil, instanceFaultError(f, c.action, r.InstanceId)
		}
	}
	for _, r := range recs {
		delete(c.st.Instances, r.InstanceId)
		c.touch(c.st.Instances, r.InstanceId)
		c.record(r.RegionId, "Instance", r.InstanceId, "released ("+r.status(c.now)+")")
	}
	return &cloud.DeleteInstancesResponse{}, nil
}

// checkReleasable refuses to release an instance another service holds on to
// (e.g. a member of a scaling group). Services that own instances add their
// checks here.
func (c *call) checkReleasable(r *instanceRecord) error {
	return c.checkReleasableFromGroups(r)
}

func (s *Server) replaceSystemDisk(c *call, req *cloud.ReplaceSystemDiskRequest) (*cloud.ReplaceSystemDiskResponse, error) {
	if req.RegionId != "" {
		if err := checkRegion("RegionId", req.RegionId); err != nil {
			return nil, err
		}
	}
	r, err := c.settledInstance(req.RegionId, req.InstanceId, "the system disk can be replaced only on")
	if err != nil {
		return nil, err
	}
	img, err := c.bootImage(r.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	disk, err := checkSystemDisk(req.SystemDisk, img, r.SystemDisk.Size)
	if err != nil {
		return nil, err
	}
	if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
		return nil, instanceFaultError(f, c.action, r.InstanceId)
	}
	dur := s.ReplaceDiskDuration(img.Size)
	from := r.ImageId
	disk.DiskId = newDiskID()
	r.ImageId, r.OSType, r.OSName, r.SystemDisk = img.ImageId, cmp.Or(img.OSType, cloud.OSLinux), img.OSName, disk
	r.Transition, r.ReadyTime, r.Stopped = cloud.InstanceStarting, c.now.Add(dur), false
	c.touch(c.st.Instances, r.InstanceId)
	c.record(r.RegionId, "Instance", r.InstanceId, fmt.Sprintf("system disk replaced: %s → %s (%s), running again in %s", from, img.ImageId, disk.DiskId, dur.Round(time.Millisecond)))
	return &cloud.ReplaceSystemDiskResponse{DiskId: disk.DiskId}, nil
}
