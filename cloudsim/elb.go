package cloudsim

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
)

// An Elastic-Load-Balancing-like service (actions AmazonELB.*, see
// cloud.LoadBalancing): load balancers, target groups and listeners whose
// forward action weighs target groups. A target group's targets are the tasks
// of the task sets attached to it (containers.go); their health is derived
// when read, and an unhealthy-tasks fault makes them fail.

var elbNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)

var (
	elbProtocols = []string{"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"}
	elbTypes     = []string{cloud.ELBTypeApplication, cloud.ELBTypeNetwork, cloud.ELBTypeGateway}
)

type elbLoadBalancerRecord struct {
	cloud.ELBLoadBalancer
	Owner string
}

type targetGroupRecord struct {
	cloud.TargetGroup
	Owner string
}

type listenerRecord struct {
	cloud.ELBListener
	Owner string
}

func (s *Server) registerELB() {
	registerMutation(s, cloud.ActionCreateLoadBalancer, s.createLoadBalancer)
	registerMutation(s, cloud.ActionCreateTargetGroup, s.createTargetGroup)
	registerQuery(s, cloud.ActionDescribeTargetGroups, s.describeTargetGroups)
	registerMutation(s, cloud.ActionCreateListener, s.createListener)
	registerQuery(s, cloud.ActionDescribeListeners, s.describeListeners)
	registerMutation(s, cloud.ActionModifyListener, s.modifyListener)
	registerQuery(s, cloud.ActionDescribeTargetHealth, s.describeTargetHealth)
}

func elbInvalid(format string, args ...any) error {
	return newError(http.StatusBadRequest, cloud.CodeELBValidation, format, args...)
}

func elbARN(account, resource string) string {
	return "arn:aws:elasticloadbalancing:" + containerARNRegion + ":" + account + ":" + resource
}

func shortHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

func (s *Server) createLoadBalancer(c *call, req *cloud.CreateELBLoadBalancerRequest) (*cloud.CreateELBLoadBalancerResponse, error) {
	typ := cmp.Or(req.Type, cloud.ELBTypeApplication)
	switch {
	case !elbNameRE.MatchString(req.Name) || strings.HasPrefix(req.Name, "internal-"):
		return nil, elbInvalid("Name %q must be 1–32 letters, digits and hyphens, not starting or ending with a hyphen", req.Name)
	case !slices.Contains(elbTypes, typ):
		return nil, elbInvalid("Type %q must be one of %s", typ, strings.Join(elbTypes, ", "))
	}
	for _, lb := range c.st.LoadBalancers {
		if lb.Owner == c.account && lb.LoadBalancerName == req.Name {
			return nil, newError(http.StatusBadRequest, cloud.CodeDuplicateLoadBalancer, "a load balancer named %s exists: %s", req.Name, lb.LoadBalancerArn)
		}
	}
	kind := map[string]string{cloud.ELBTypeApplication: "app", cloud.ELBTypeNetwork: "net", cloud.ELBTypeGateway: "gwy"}[typ]
	arn := elbARN(c.account, "loadbalancer/"+kind+"/"+req.Name+"/"+shortHash(c.account+req.Name))
	lb := &elbLoadBalancerRecord{Owner: c.account, ELBLoadBalancer: cloud.ELBLoadBalancer{
		LoadBalancerArn: arn, LoadBalancerName: req.Name, Type: typ,
		DNSName: req.Name + "-" + shortHash(arn)[:8] + ".elb.example", CreatedTime: c.now,
	}}
	c.st.LoadBalancers[arn] = lb
	c.touch(c.st.LoadBalancers, arn)
	c.record("", "LoadBalancer", arn, fmt.Sprintf("%s load balancer %s created", typ, req.Name))
	return &cloud.CreateELBLoadBalancerResponse{LoadBalancer: lb.ELBLoadBalancer}, nil
}

func (s *Server) createTargetGroup(c *call, req *cloud.CreateTargetGroupRequest) (*cloud.CreateTargetGroupResponse, error) {
	targetType := cmp.Or(req.TargetType, "ip")
	switch {
	case !elbNameRE.MatchString(req.Name):
		return nil, elbInvalid("Name %q must be 1–32 letters, digits and hyphens, not starting or ending with a hyphen", req.Name)
	case !slices.Contains(elbProtocols, req.Protocol):
		return nil, elbInvalid("Protocol %q must be one of %s", req.Protocol, strings.Join(elbProtocols, ", "))
	case req.Port < 1 || req.Port > 65535:
		return nil, elbInvalid("Port must be 1–65535")
	case targetType != "ip":
		return nil, elbInvalid("TargetType %q: tasks in awsvpc mode register as ip targets, the only type the simulator serves", targetType)
	}
	for _, tg := range c.st.TargetGroups {
		if tg.Owner == c.account && tg.TargetGroupName == req.Name {
			return nil, newError(http.StatusBadRequest, cloud.CodeDuplicateTargetGroup, "a target group named %s exists: %s", req.Name, tg.TargetGroupArn)
		}
	}
	arn := elbARN(c.account, "targetgroup/"+req.Name+"/"+shortHash(c.account+req.Name))
	tg := &targetGroupRecord{Owner: c.account, TargetGroup: cloud.TargetGroup{
		TargetGroupArn: arn, TargetGroupName: req.Name, Protocol: req.Protocol, Port: req.Port, TargetType: targetType,
	}}
	c.st.TargetGroups[arn] = tg
	c.touch(c.st.TargetGroups, arn)
	c.record("", "TargetGroup", arn, fmt.Sprintf("target group %s (%s:%d) created", req.Name, req.Protocol, req.Port))
	return &cloud.CreateTargetGroupResponse{TargetGroup: c.viewTargetGroup(tg)}, nil
}

// targetGroupLoadBalancers are the load balancers with a listener forwarding
// to the target group.
func (c *call) targetGroupLoadBalancers(tgArn string) []string {
	var out []string
	for _, l := range c.st.Listeners {
		if _, ok := l.Weights()[tgArn]; ok && !slices.Contains(out, l.LoadBalancerArn) {
			out = append(out, l.LoadBalancerArn)
		}
	}
	slices.Sort(out)
	return out
}

func (c *call) viewTargetGroup(tg *targetGroupRecord) cloud.TargetGroup {
	out := tg.TargetGroup
	out.LoadBalancerArns = c.targetGroupLoadBalancers(tg.TargetGroupArn)
	return out
}

func (s *Server) describeTargetGroups(c *call, req *cloud.DescribeTargetGroupsRequest) (*cloud.DescribeTargetGroupsResponse, error) {
	resp := &cloud.DescribeTargetGroupsResponse{TargetGroups: []cloud.TargetGroup{}}
	for _, arn := range req.TargetGroupArns {
		if tg := c.st.TargetGroups[arn]; tg == nil || tg.Owner != c.account {
			return nil, newError(http.StatusBadRequest, cloud.CodeTargetGroupNotFound, "target group %s not found", arn)
		}
	}
	for _, tg := range c.st.TargetGroups {
		if tg.Owner == c.account && (len(req.TargetGroupArns) == 0 || slices.Contains(req.TargetGroupArns, tg.TargetGroupArn)) {
			resp.TargetGroups = append(resp.TargetGroups, c.viewTargetGroup(tg))
		}
	}
	slices.SortFunc(resp.TargetGroups, func(a, b cloud.TargetGroup) int { return cmp.Compare(a.TargetGroupName, b.TargetGroupName) })
	return resp, nil
}

// checkActions validates a listener's default actions for load balancer lbArn:
// one forward action over 1–5 distinct target groups of the caller, weights
// 0–999, each target group used by no other load balancer.
func (c *call) checkActions(lbArn string, actions []cloud.ELBAction) error {
	if len(actions) != 1 || actions[0].Type != cloud.ELBActionForward || actions[0].ForwardConfig == nil {
		return elbInvalid("DefaultActions must be one %s action with a ForwardConfig (the simulator serves forward only)", cloud.ELBActionForward)
	}
	groups := actions[0].ForwardConfig.TargetGroups
	if len(groups) == 0 || len(groups) > cloud.MaxTargetGroupsPerForward {
		return newError(http.StatusBadRequest, cloud.CodeTooManyTargetGroups, "a forward action needs 1–%d target groups, got %d", cloud.MaxTargetGroupsPerForward, len(groups))
	}
	seen := map[string]bool{}
	for _, g := range groups {
		tg := c.st.TargetGroups[g.TargetGroupArn]
		switch {
		case tg == nil || tg.Owner != c.account:
			return newError(http.StatusBadRequest, cloud.CodeTargetGroupNotFound, "target group %s not found", g.TargetGroupArn)
		case seen[g.TargetGroupArn]:
			return elbInvalid("target group %s is named twice in the forward action", tg.TargetGroupName)
		case g.Weight < 0 || g.Weight > cloud.MaxTargetGroupWeight:
			return elbInvalid("the weight of target group %s must be 0–%d, got %d", tg.TargetGroupName, cloud.MaxTargetGroupWeight, g.Weight)
		}
		seen[g.TargetGroupArn] = true
		for _, other := range c.targetGroupLoadBalancers(g.TargetGroupArn) {
			if other != lbArn {
				return newError(http.StatusBadRequest, cloud.CodeTargetGroupAssociation, "target group %s is already used by load balancer %s", tg.TargetGroupName, other)
			}
		}
	}
	return nil
}

func cloneActions(actions []cloud.ELBAction) []cloud.ELBAction {
	out := make([]cloud.ELBAction, len(actions))
	for i, a := range actions {
		if a.ForwardConfig != nil {
			a.ForwardConfig = &cloud.ForwardConfig{TargetGroups: slices.Clone(a.ForwardConfig.TargetGroups)}
		}
		out[i] = a
	}
	return out
}

func (l *listenerRecord) view() cloud.ELBListener {
	out := l.ELBListener
	out.DefaultActions = cloneActions(l.DefaultActions)
	return out
}

func weightsText(actions []cloud.ELBAction, tgs map[string]*targetGroupRecord) string {
	var parts []string
	for _, a := range actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, g := range a.ForwardConfig.TargetGroups {
			name := g.TargetGroupArn
			if tg := tgs[g.TargetGroupArn]; tg != nil {
				name = tg.TargetGroupName
			}
			parts = append(parts, fmt.Sprintf("%s=%d", name, g.Weight))
		}
	}
	return strings.Join(parts, " ")
}

func (s *Server) createListener(c *call, req *cloud.CreateELBListenerRequest) (*cloud.CreateELBListenerResponse, error) {
	lb := c.st.LoadBalancers[req.LoadBalancerArn]
	if lb == nil || lb.Owner != c.account {
		return nil, newError(http.StatusBadRequest, cloud.CodeLoadBalancerNotFound, "load balancer %s not found", req.LoadBalancerArn)
	}
	if req.Port < 1 || req.Port > 65535 {
		return nil, elbInvalid("Port must be 1–65535")
	}
	if !slices.Contains(elbProtocols, req.Protocol) {
		return nil, elbInvalid("Protocol %q must be one of %s", req.Protocol, strings.Join(elbProtocols, ", "))
	}
	n := 0
	for _, l := range c.st.Listeners {
		if l.LoadBalancerArn == lb.LoadBalancerArn {
			n++
			if l.Port == req.Port {
				return nil, newError(http.StatusBadRequest, cloud.CodeDuplicateListener, "load balancer %s has a listener on port %d: %s", lb.LoadBalancerName, req.Port, l.ListenerArn)
			}
		}
	}
	if n >= cloud.MaxListenersPerLoadBalancer {
		return nil, elbInvalid("load balancer %s has %d listeners, the maximum", lb.LoadBalancerName, n)
	}
	if err := c.checkActions(lb.LoadBalancerArn, req.DefaultActions); err != nil {
		return nil, err
	}
	arn := strings.Replace(lb.LoadBalancerArn, ":loadbalancer/", ":listener/", 1) + "/" + shortHash(fmt.Sprint(lb.LoadBalancerArn, req.Port))
	l := &listenerRecord{Owner: c.account, ELBListener: cloud.ELBListener{
		ListenerArn: arn, LoadBalancerArn: lb.LoadBalancerArn, Port: req.Port, Protocol: req.Protocol,
		DefaultActions: cloneActions(req.DefaultActions),
	}}
	c.st.Listeners[arn] = l
	c.touch(c.st.Listeners, arn)
	c.record("", "Listener", arn, fmt.Sprintf("listener %s:%d created, forward %s", lb.LoadBalancerName, req.Port, weightsText(l.DefaultActions, c.st.TargetGroups)))
	return &cloud.CreateELBListenerResponse{Listener: l.view()}, nil
}

func (s *Server) describeListeners(c *call, req *cloud.DescribeListenersRequest) (*cloud.DescribeListenersResponse, error) {
	if len(req.ListenerArns) == 0 && req.LoadBalancerArn == "" {
		return nil, elbInvalid("ListenerArns or LoadBalancerArn is required")
	}
	resp := &cloud.DescribeListenersResponse{Listeners: []cloud.ELBListener{}}
	for _, arn := range req.ListenerArns {
		l := c.st.Listeners[arn]
		if l == nil || l.Owner != c.account {
			return nil, newError(http.StatusBadRequest, cloud.CodeListenerNotFound, "listener %s not found", arn)
		}
	}
	for _, l := range c.st.Listeners {
		if l.Owner == c.account && (len(req.ListenerArns) == 0 || slices.Contains(req.ListenerArns, l.ListenerArn)) &&
			(req.LoadBalancerArn == "" || l.LoadBalancerArn == req.LoadBalancerArn) {
			resp.Listeners = append(resp.Listeners, l.view())
		}
	}
	slices.SortFunc(resp.Listeners, func(a, b cloud.ELBListener) int { return cmp.Compare(a.ListenerArn, b.ListenerArn) })
	return resp, nil
}

func (s *Server) modifyListener(c *call, req *cloud.ModifyListenerRequest) (*cloud.ModifyListenerResponse, error) {
	l := c.st.Listeners[req.ListenerArn]
	if l == nil || l.Owner != c.account {
		return nil, newError(http.StatusBadRequest, cloud.CodeListenerNotFound, "listener %s not found", req.ListenerArn)
	}
	if err := c.checkActions(l.LoadBalancerArn, req.DefaultActions); err != nil {
		return nil, err
	}
	before := weightsText(l.DefaultActions, c.st.TargetGroups)
	after := weightsText(req.DefaultActions, c.st.TargetGroups)
	l.DefaultActions = cloneActions(req.DefaultActions)
	c.touch(c.st.Listeners, l.ListenerArn)
	if before != after {
		c.record("", "Listener", l.ListenerArn, fmt.Sprintf("listener port %d forward %s → %s", l.Port, before, after))
	}
	return &cloud.ModifyListenerResponse{Listener: l.view()}, nil
}

// describeTargetHealth lists the tasks of the task sets attached to the
// target group: running ones healthy (unhealthy under an unhealthy-tasks
// fault), starting ones initial, those of a deleted task set draining.
func (s *Server) describeTargetHealth(c *call, req *cloud.DescribeTargetHealthRequest) (*cloud.DescribeTargetHealthResponse, error) {
	tg := c.st.TargetGroups[req.TargetGroupArn]
	if tg == nil || tg.Owner != c.account {
		return nil, newError(http.StatusBadRequest, cloud.CodeTargetGroupNotFound, "target group %s not found", req.TargetGroupArn)
	}
	faulted := c.faultFired(cloud.FaultUnhealthyTasks)
	resp := &cloud.DescribeTargetHealthResponse{TargetHealthDescriptions: []cloud.TargetHealthDescription{}}
	var sets []*taskSetRecord
	for _, ts := range c.st.TaskSets {
		if ts.Owner == c.account && !c.gone(ts) && slices.ContainsFunc(ts.LoadBalancers, func(lb cloud.TaskSetLoadBalancer) bool { return lb.TargetGroupArn == tg.TargetGroupArn }) {
			sets = append(sets, ts)
		}
	}
	slices.SortFunc(sets, func(a, b *taskSetRecord) int { return cmp.Compare(a.TaskSetArn, b.TaskSetArn) })
	for _, ts := range sets {
		svc := c.st.ContainerServices[ts.ServiceArn]
		if svc == nil {
			continue
		}
		v := c.viewTaskSet(svc, ts)
		h := shortHash(ts.TaskSetArn)
		for i := range v.ComputedDesiredCount {
			d := cloud.TargetHealthDescription{
				TargetId:   fmt.Sprintf("10.%d.%d.%d", int(h[0])%200+10, int(h[1])%250, i+1),
				TaskSetArn: ts.TaskSetArn,
				State:      cloud.TargetHealthy,
			}
			switch {
			case v.Status == cloud.TaskSetDraining:
				d.State, d.Reason, d.Description = cloud.TargetDraining, "Target.DeregistrationInProgress", "Target deregistration is in progress"
			case i >= v.RunningCount:
				d.State, d.Reason, d.Description = cloud.TargetInitial, "Elb.RegistrationInProgress", "Target registration is in progress"
			case ts.Unhealthy || faulted:
				d.State, d.Reason, d.Description = cloud.TargetUnhealthy, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]"
			}
			resp.TargetHealthDescriptions = append(resp.TargetHealthDescriptions, d)
		}
	}
	return resp, nil
}
