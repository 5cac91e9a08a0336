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
	// Instance configuration sources and scaling rules (ess_scaling.go):
	// scaling configurations, launch templates and rules by their IDs.
	ScalingConfigurations map[string]*scalingConfigurationRecord
	LaunchTemplates       map[string]*launchTemplateRecord
	ScalingRules          map[string]*scalingRuleRecord
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
	ensure(&st.Images)
	ensure(&st.Artifacts)
	ensure(&st.Services)
	ensure(&st.Instances)
	ensure(&st.Invocations)
	ensure(&st.ScalingGroups)
	ensure(&st.RollingUpdateTasks)
	ensure(&st.ScalingConfigurations)
	ensure(&st.LaunchTemplates)
	ensure(&st.ScalingRules)
	ensure(&st.SLBs)
	ensure(&st.OOSExecutions)
	ensure(&st.OOSInstalled)
	ensure(&st.Clusters)
	ensure(&st.ContainerServices)
	ensure(&st.TaskSets)
	ensure(&st.LoadBalancers)
	ensure(&st.TargetGroups)
	ensure(&st.Listeners)
	ensure(&st.Objects)
	ensure(&st.RepoTags)
	ensure(&st.RegistryTokens)
	st.Build.init()
	ensure(&st.Idempotency)
}

// ensure makes *m an empty map if it is nil.
func ensure[K comparable, V any](m *map[K]V) {
	if *m == nil {
		*m = map[K]V{}
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
