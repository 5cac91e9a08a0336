package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

// releaseDemoScenario starts a three-stage release (docs/release.md) on the
// running stack, as a user would with the starter: four fresh scaling
// groups are created through the cloud's admin API, the release publishes
// m-webapp-v2 to cn-hangzhou and cn-shanghai, updates the canary, soaks
// and verifies it, then waits for the approval of its regional stage. It
// prints the commands that approve, hold or roll it back, and the Web UI
// link, where the release's details show the table of stages × groups.
func releaseDemoScenario(ctx context.Context, s *stack.Stack, starter, dir string, out io.Writer) error {
	stamp := time.Now().UTC().Format("0102150405")
	groups := make([]string, 4)
	for i := range groups {
		groups[i] = fmt.Sprintf("asg-demo%s-%d", stamp, i+1)
		body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: groups[i], RegionId: "cn-hangzhou", ImageId: cloudsim.ImageWebappV1, Size: 3})
		resp, err := http.Post(s.CloudEndpoint()+"/admin/scaling-groups", "application/json", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("create demo group (is the simulated cloud running?): %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("create demo group %s: %s", groups[i], resp.Status)
		}
	}
	spec := releaseDemoSpec(stamp, groups)
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(dir, "release-"+stamp+".json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "Releasing %s to 4 scaling groups in 3 stages (spec: %s)\n", cloudsim.ImageWebappV2, file)
	run := exec.CommandContext(ctx, starter, "release", "start", "--spec", file, "--watch")
	run.Env = append(os.Environ(), s.Env()...)
	run.Stdout, run.Stderr = out, os.Stderr
	err = run.Run()
	// Exit code 4: the release waits for the regional stage's approval.
	if ee := (*exec.ExitError)(nil); err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 4) {
		return fmt.Errorf("starter release start: %w", err)
	}
	id := model.ReleaseWorkflowID(spec.Name, spec.Version)
	fmt.Fprintf(out, "\nWeb UI: %s/namespaces/default/workflows/%s\n", s.WebUI(), url.PathEscape(id))
	fmt.Fprintf(out, "The release waits for the approval of its regional stage. Next:\n%s\n", strings.Join([]string{
		fmt.Sprintf("  bin/starter release approve demo %s --comment \"canary clean\"", spec.Version),
		fmt.Sprintf("  bin/starter release status demo %s", spec.Version),
		fmt.Sprintf("  bin/starter release rollback demo %s --reason \"try the rollback\"", spec.Version),
	}, "\n"))
	return nil
}

// releaseDemoSpec is the demo's release over groups (four, in cn-hangzhou).
func releaseDemoSpec(stamp string, groups []string) model.ReleaseSpec {
	g := func(i int) model.ReleaseGroup {
		return model.ReleaseGroup{ScalingGroupID: groups[i], RegionID: "cn-hangzhou"}
	}
	return model.ReleaseSpec{
		Name: "demo", Version: "v" + stamp,
		Source:  model.ReleaseSource{Image: &model.ReleaseImage{Region: "cn-hangzhou", ImageID: cloudsim.ImageWebappV2}},
		Package: "demo_release", Description: "Demo release of webapp v2, started by devstack demo --release",
		Regions: []string{"cn-hangzhou", "cn-shanghai"},
		Stages: []model.ReleaseStage{
			{Name: "canary", Groups: []model.ReleaseGroup{g(0)}, Gate: model.ReleaseGate{Soak: "20s", Verify: &model.Verification{Every: "2s"}}},
			{Name: "regional", Groups: []model.ReleaseGroup{g(1), g(2)}, Parallelism: 1, Gate: model.ReleaseGate{Approval: true}},
			{Name: "global", Groups: []model.ReleaseGroup{g(3)}},
		},
	}
}

// demoCommand is `devstack demo`: the distribution demo, or with
// --release a three-stage release on the running stack.
func demoCommand(f *flags) *cobra.Command {
	var release bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo scenario, starting the stack if it is not running (--release: a three-stage release on the running stack)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			starter := filepath.Join(f.root, "bin", "starter")
			if !release {
				return demo(cmd.Context(), f.stack(), filepath.Join(f.dataDir, "demo-stack.log"), starter)
			}
			s := f.stack()
			if !s.Running() {
				return errors.New("the release demo waits for your approval: start the stack first (go tool task up, in another terminal), then run it again")
			}
			return releaseDemoScenario(cmd.Context(), s, starter, filepath.Join(f.dataDir, "demo"), os.Stdout)
		},
	}
	cmd.Flags().BoolVar(&release, "release", false, "start a three-stage release (canary soaked and verified, a regional stage behind an approval, a global stage) and stop where it waits for your approval")
	return cmd
}
