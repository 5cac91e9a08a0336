package cloudsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// Cloud Assistant: commands run on instances. The simulator does not execute
// scripts; it interprets a few statements so that tests can steer the result:
//
//	echo TEXT / Write-Output TEXT / Write-Host TEXT   a line of output
//	exit N / exit /b N                                stop with exit code N
//	sleep N / Start-Sleep [-Seconds] N / timeout /t N the run takes N s longer
//
// Statements are separated by new lines, ";", "&" and "&&" (outside quotes).
// Everything else is ignored. A run takes 2 s plus its sleeps, scaled by
// TimeScale; its exit code and output are fixed when the command starts and
// shown once it has finished.

const maxCommandContent = cloud.MaxCommandContent

var commandTypes = []string{cloud.CommandShell, cloud.CommandBat, cloud.CommandPowerShell}

// invocationRecord is a stored invocation; statuses derive from the results'
// FinishTime when read.
type invocationRecord struct {
	cloud.Invocation
	OwnerId string
}

func (r *invocationRecord) scope() (string, string) { return r.OwnerId, r.RegionId }

var invocations = resource{"invocation", cloud.CodeInvocationNotFound}

func (r *invocationRecord) view(now time.Time, instanceID string) cloud.Invocation {
	v := r.Invocation
	v.InvocationResults = []cloud.InvocationResult{}
	running, failed := 0, 0
	for _, res := range r.InvocationResults {
		if now.Before(res.FinishTime) {
			res.InvocationStatus, res.ExitCode, res.Output, res.ErrorInfo, res.FinishTime = cloud.InvocationRunning, 0, "", "", time.Time{}
			running++
		} else if res.ExitCode != 0 {
			res.InvocationStatus = cloud.InvocationFailed
			failed++
		} else {
			res.InvocationStatus = cloud.InvocationSuccess
		}
		if instanceID == "" || res.InstanceId == instanceID {
			v.InvocationResults = append(v.InvocationResults, res)
		}
	}
	switch {
	case running > 0:
		v.InvocationStatus = cloud.InvocationRunning
	case failed == len(r.InvocationResults):
		v.InvocationStatus = cloud.InvocationFailed
	case failed > 0:
		v.InvocationStatus = cloud.InvocationPartialFailed
	default:
		v.InvocationStatus = cloud.InvocationSuccess
	}
	return v
}

func (s *Server) registerCloudAssistant() {
	registerMutation(s, "RunCommand", s.runCommand)
	registerQuery(s, "DescribeInvocationResults", s.describeInvocationResults)
}

// commandFits reports whether a command of type typ runs on osType.
func commandFits(typ, osType string) bool {
	if osType == cloud.OSWindows {
		return typ == cloud.CommandBat || typ == cloud.CommandPowerShell
	}
	return typ == cloud.CommandShell
}

func (s *Server) runCommand(c *call, req *cloud.RunCommandRequest) (*cloud.RunCommandResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if !slices.Contains(commandTypes, req.Type) {
		return nil, invalidParam("Type %q must be one of %s", req.Type, strings.Join(commandTypes, ", "))
	}
	if strings.TrimSpace(req.CommandContent) == "" || len(req.CommandContent) > maxCommandContent {
		return nil, invalidParam("CommandContent must be 1 byte to %d KiB, got %d bytes", maxCommandContent/1024, len(req.CommandContent))
	}
	recs, err := c.ownInstances(req.RegionId, req.InstanceIds, func(r *instanceRecord) error { // 1–cloud.MaxCommandInstances
		if st := r.status(c.now); st != cloud.InstanceRunning {
			return incorrectInstanceStatus("instance %s is %s: commands run only on Running instances", r.InstanceId, st)
		}
		if !commandFits(req.Type, r.OSType) {
			return newError(http.StatusBadRequest, cloud.CodeCommandTypeNotSupported,
				"instance %s runs %s, which does not run %s commands (linux: RunShellScript; windows: RunBatScript, RunPowerShellScript)", r.InstanceId, r.OSType, req.Type)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	exit, output, extra := interpretScript(req.CommandContent)
	dur := s.scaled(2*time.Second + extra)
	inv := &invocationRecord{OwnerId: c.account, Invocation: cloud.Invocation{
		InvokeId:       c.newInvokeID(),
		Name:           req.Name,
		RegionId:       req.RegionId,
		Type:           req.Type,
		CommandContent: req.CommandContent,
		CreationTime:   c.now,
	}}
	for _, r := range recs {
		res := cloud.InvocationResult{InstanceId: r.InstanceId, ExitCode: exit, Output: output, StartTime: c.now, FinishTime: c.now.Add(dur)}
		if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
			res.ExitCode, res.Output = 1, ""
			res.ErrorInfo = fmt.Sprintf("the command failed on the instance (injected fault %s)", f.ID)
		}
		inv.InvocationResults = append(inv.InvocationResults, res)
		c.record(r.RegionId, "Instance", r.InstanceId, fmt.Sprintf("command %s (%s) started, exits %d", inv.InvokeId, req.Type, res.ExitCode))
	}
	c.st.Invocations[inv.InvokeId] = inv
	c.touch(c.st.Invocations, inv.InvokeId)
	return &cloud.RunCommandResponse{InvokeId: inv.InvokeId}, nil
}

// interpretScript derives a run's exit code, output and extra duration from
// the statements the simulator understands (see the top of this file).
func interpretScript(content string) (exit int, output string, extra time.Duration) {
	var out []string
	for line := range statements(content) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		cmd := strings.ToLower(f[0])
		args := f[1:]
		switch cmd {
		case "echo", "write-output", "write-host":
			text := strings.TrimSpace(strings.TrimSpace(line)[len(f[0]):])
			out = append(out, strings.Trim(text, `"'`))
		case "exit":
			if len(args) > 0 && strings.EqualFold(args[0], "/b") {
				args = args[1:]
			}
			code := 0
			if len(args) > 0 {
				code, _ = strconv.Atoi(args[0])
			}
			return code, truncateOutput(out), extra
		case "sleep", "start-sleep", "timeout":
			for _, a := range args {
				if n, err := strconv.ParseFloat(a, 64); err == nil && n > 0 {
					extra += time.Duration(n * float64(time.Second))
					break
				}
			}
		}
	}
	return 0, truncateOutput(out), extra
}

// statements yields the script's statements: its lines, each split at the
// separators ";" (shell, PowerShell), "&" (cmd) and "&&" outside quotes,
// so that "echo a; exit 3" exits 3.
func statements(content string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for line := range strings.Lines(content) {
			start, quote := 0, rune(0)
			for i, r := range line {
				switch {
				case quote != 0:
					if r == quote {
						quote = 0
					}
				case r == '"' || r == '\'':
					quote = r
				case r == ';' || r == '&':
					if !yield(line[start:i]) {
						return
					}
					start = i + 1
				}
			}
			if !yield(line[start:]) {
				return
			}
		}
	}
}

func truncateOutput(lines []string) string {
	s := strings.Join(lines, "\n")
	if len(lines) > 0 {
		s += "\n"
	}
	if len(s) > cloud.MaxCommandOutput {
		s = s[:cloud.MaxCommandOutput]
	}
	return s
}

func (c *call) newInvokeID() string { return newID(c.st.Invocations, "t-", 20, lowerAlnum) }

func (s *Server) describeInvocationResults(c *call, req *cloud.DescribeInvocationResultsRequest) (*cloud.DescribeInvocationResultsResponse, error) {
	inv, err := findOwned(c, c.st.Invocations, invocations, req.RegionId, "InvokeId", req.InvokeId)
	if err != nil {
		return nil, err
	}
	if req.InstanceId != "" && !slices.ContainsFunc(inv.InvocationResults, func(r cloud.InvocationResult) bool { return r.InstanceId == req.InstanceId }) {
		return nil, instanceNotFound("invocation %s did not run on instance %s", req.InvokeId, req.InstanceId)
	}
	if st := req.InvokeRecordStatus; st != "" && st != cloud.InvocationRunning && st != cloud.InvocationSuccess && st != cloud.InvocationFailed {
		return nil, invalidParam("InvokeRecordStatus %q must be Running, Success or Failed", st)
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, cloud.MaxInvocationResultsPage)
	if err != nil {
		return nil, err
	}
	v := inv.view(c.now, req.InstanceId)
	matching := v.InvocationResults
	if req.InvokeRecordStatus != "" {
		matching = slices.DeleteFunc(matching, func(r cloud.InvocationResult) bool { return r.InvocationStatus != req.InvokeRecordStatus })
	}
	v.InvocationResults = pageItems(pg, matching)
	return &cloud.DescribeInvocationResultsResponse{TotalCount: len(matching), PageNumber: pg.number, PageSize: pg.size, Invocation: v}, nil
}
