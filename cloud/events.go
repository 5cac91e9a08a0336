package cloud

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Events is the part of Alibaba Cloud CloudMonitor's event service that
// imagefleet writes to: events that alert rules match on by name and
// keywords (e.g. a scaling group's ID), such as the failure events of a
// rolling update.
type Events interface {
	PutCustomEvent(ctx context.Context, req *PutCustomEventRequest) (*PutCustomEventResponse, error)
	// DescribeCustomEventAttribute reads events back (a release's
	// verification counts its groups' failure events).
	DescribeCustomEventAttribute(ctx context.Context, req *DescribeCustomEventAttributeRequest) (*DescribeCustomEventAttributeResponse, error)
}

// Event levels.
const (
	EventCritical = "CRITICAL"
	EventWarn     = "WARN"
	EventInfo     = "INFO"
)

// Event is one entry of the event log.
type Event struct {
	EventId   string `json:",omitempty"` // assigned by the cloud
	EventName string // e.g. ACS-ESS-RollingUpdateByRunCommandInScalingGroup
	Level     string // CRITICAL | WARN | INFO
	RegionId  string
	// GroupId is the resource group the event concerns, e.g. a scaling group.
	GroupId    string `json:",omitempty"`
	InstanceId string `json:",omitempty"`
	Content    string
	Time       time.Time `json:",omitzero"` // set by the cloud
}

type PutCustomEventRequest struct {
	EventInfo   []Event
	ClientToken string `json:",omitempty"`
}

type PutCustomEventResponse struct {
	RequestId string
	EventIds  []string
}

// DescribeCustomEventAttributeRequest filters the event log: by group, by
// level, and events at or after StartTime (each optional).
type DescribeCustomEventAttributeRequest struct {
	GroupId   string    `json:",omitempty"`
	Level     string    `json:",omitempty"`
	StartTime time.Time `json:",omitzero"`
	PageSize  int       `json:",omitempty"` // at most 100 (default 100)
}

// DescribeCustomEventAttributeResponse is the newest PageSize matching
// events, oldest first, and how many matched in all.
type DescribeCustomEventAttributeResponse struct {
	RequestId  string
	TotalCount int
	Events     []Event
}

// Events returns the event log, oldest first; name and group, if not empty,
// filter by event name and group ID.
func (a *Admin) Events(ctx context.Context, name, group string) ([]Event, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if group != "" {
		q.Set("group", group)
	}
	path := "/admin/events"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []Event
	err := a.c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// InstanceHealth makes instances of a scaling group fail their health
// check (Unhealthy) or pass it again: POST /admin/instance-health.
type InstanceHealth struct {
	ScalingGroupId string
	InstanceIds    []string
	Unhealthy      bool
}

// SetInstanceHealth sets the health of instances of a scaling group.
func (a *Admin) SetInstanceHealth(ctx context.Context, h InstanceHealth) error {
	return a.c.do(ctx, http.MethodPost, "/admin/instance-health", h, nil)
}
