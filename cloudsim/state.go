package cloudsim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

const (
	stateFile          = "state.json"
	stateFormatVersion = 1
)

// state is everything the simulated cloud knows, one map per resource type.
// It is saved as a snapshot plus a journal of the records each mutation
// touched (journal.go).
type state struct {
	FormatVersion int
	// SeededAt is when the demo data was created (zero: never seeded).
	SeededAt time.Time `json:",omitzero"`

	// Images are keyed by imageKey(region, id): a system image has the same ID
	// in every region.
	Images      map[string]*imageRecord
	Artifacts   map[string]*artifactRecord   // by ArtifactId
	Services    map[string]*serviceRecord    // by ServiceId
	Instances   map[string]*instanceRecord   // by InstanceId
	Invocations map[string]*invocationRecord // by InvokeId
	// Auto Scaling, SLB, OOS and the event log (ess.go, oos.go).
	ScalingGroups map[string]*scalingGroupRecord // by ScalingGroupId
	SLBs          map[string]*slbRecord          // by LoadBalancerId
	OOSExecutions map[string]*executionRecord    // by ExecutionId
	OOSInstalled  map[string]map[string]string   // instance → package → version
	// RollingUpdateTasks by TaskId (ess_tasks.go).
	RollingUpdateTasks map[string]*rollingUpdateTaskRecord
	Events             []cloud.Event `json:",omitempty"`

	// The container service and load balancing (containers.go, elb.go),
	// each keyed by ARN.
	Clusters          map[string]*containerClusterRecord
	ContainerServices map[string]*containerServiceRecord
	TaskSets          map[string]*taskSetRecord
	LoadBalancers     map[string]*elbLoadBalancerRecord
	TargetGroups      map[string]*targetGroupRecord
	Listeners         map[string]*listenerRecord

	// Deployment package content besides images: OSS objects by
	// objectKey(region, bucket, key), registry tags by repoTagKey, and the
	// registry's temporary credentials by token.
	Objects        map[string]*objectRecord
	RepoTags       map[string]*repoTagRecord
	RegistryTokens map[string]*registryToken

	// Image Builder, VPC, instance stock and guest-OS state (imagebuilder.go).
	Build buildState

	// Idempotency holds the answer of every mutating call made with a client
	// token, by idempotencyKey(account, action, token).
	Idempotency map[string]*idempotencyRecord

	// LedgerSeq is the Seq of the last ledger entry. LastLedger are the entries
	// of the last mutation: saved here first, because the state (the call's
	// journal line) is the commit point, and appended to the ledger file
	// again on load if a crash came between the two writes.
	LedgerSeq  int64
	LastLedger []cloud.LedgerEntry `json:",omitempty"`

	// JournalSeq is the Seq of the last journal line applied (journal.go).
	JournalSeq int64 `json:",omitzero"`
}

// idempotencyRecord is the stored answer of a call made with a client token.
type idempotencyRecord struct {
	RequestHash string          // sha256 of the canonical request
	Response    json.RawMessage // the answer, returned unchanged on replay
	Time        time.Time
}

func idempotencyKey(account, action, token string) string {
	return account + "/" + action + "/" + token
}

func newState() *state {
	st := &state{FormatVersion: stateFormatVersion}
	st.init()
	return st
}

// init creates missing maps, so that a state file written before a resource
// type existed still loads. Add every new map here.
func (st *state) init() {
	if st.Images == nil {
		st.Images = map[string]*imageRecord{}
	}
	if st.Artifacts == nil {
		st.Artifacts = map[string]*artifactRecord{}
	}
	if st.Services == nil {
		st.Services = map[string]*serviceRecord{}
	}
	if st.Instances == nil {
		st.Instances = map[string]*instanceRecord{}
	}
	if st.Invocations == nil {
		st.Invocations = map[string]*invocationRecord{}
	}
	if st.ScalingGroups == nil {
		st.ScalingGroups = map[string]*scalingGroupRecord{}
	}
	if st.RollingUpdateTasks == nil {
		st.RollingUpdateTasks = map[string]*rollingUpdateTaskRecord{}
	}
	if st.SLBs == nil {
		st.SLBs = map[string]*slbRecord{}
	}
	if st.OOSExecutions == nil {
		st.OOSExecutions = map[string]*executionRecord{}
	}
	if st.OOSInstalled == nil {
		st.OOSInstalled = map[string]map[string]string{}
	}
	if st.Clusters == nil {
		st.Clusters = map[string]*containerClusterRecord{}
	}
	if st.ContainerServices == nil {
		st.ContainerServices = map[string]*containerServiceRecord{}
	}
	if st.TaskSets == nil {
		st.TaskSets = map[string]*taskSetRecord{}
	}
	if st.LoadBalancers == nil {
		st.LoadBalancers = map[string]*elbLoadBalancerRecord{}
	}
	if st.TargetGroups == nil {
		st.TargetGroups = map[string]*targetGroupRecord{}
	}
	if st.Listeners == nil {
		st.Listeners = map[string]*listenerRecord{}
	}
	if st.Objects == nil {
		st.Objects = map[string]*objectRecord{}
	}
	if st.RepoTags == nil {
		st.RepoTags = map[string]*repoTagRecord{}
	}
	if st.RegistryTokens == nil {
		st.RegistryTokens = map[string]*registryToken{}
	}
	st.Build.init()
	if st.Idempotency == nil {
		st.Idempotency = map[string]*idempotencyRecord{}
	}
}

func decodeState(data []byte) (*state, error) {
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, err
	}
	if st.FormatVersion > stateFormatVersion {
		return nil, fmt.Errorf("state format %d is newer than this simulator's (%d)", st.FormatVersion, stateFormatVersion)
	}
	st.FormatVersion = stateFormatVersion
	st.init()
	return st, nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content: write a temporary file, then rename it. It does
// not fsync: the simulator promises to survive a killed process (the page
// cache outlives it), not a power cut, and a disk flush per change would
// slow every mutating call.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
