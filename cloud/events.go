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
