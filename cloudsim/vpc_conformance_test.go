package cloudsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	vpc "github.com/alibabacloud-go/vpc-20160428/v6/client"
	"github.com/aliyun/credentials-go/credentials"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// Conformance of the simulator's VPC to the official SDK
// (github.com/alibabacloud-go/vpc-20160428/v6): every action imagefleet
// calls (cloud.VPC's methods) is driven through the SDK, the parameters the
// simulator models are fields of the SDK's request types, and every answer
// decodes into the SDK's response type with no field the SDK does not know
// and none imagefleet needs missing.

// sdkRequestTypes are the SDK's request types of the VPC actions.
var sdkRequestTypes = map[string]reflect.Type{
	"CreateVpc":         reflect.TypeFor[vpc.CreateVpcRequest](),
	"DeleteVpc":         reflect.TypeFor[vpc.DeleteVpcRequest](),
	"CreateVSwitch":     reflect.TypeFor[vpc.CreateVSwitchRequest](),
	"DeleteVSwitch":     reflect.TypeFor[vpc.DeleteVSwitchRequest](),
	"DescribeVSwitches": reflect.TypeFor[vpc.DescribeVSwitchesRequest](),
}

// exchange is one recorded HTTP call of the SDK.
type exchange struct {
	action string
	query  url.Values
	status int
	body   []byte
}

// recorder is the SDK's HTTP client, keeping every exchange.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	action := req.Header.Get("x-acs-action")
	if v := req.Header["x-acs-action"]; len(v) > 0 { // set as is, not canonical
		action = v[0]
	}
	r.log = append(r.log, exchange{action: action, query: req.URL.Query(), status: resp.StatusCode, body: body})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) last(t *testing.T, action string) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.log)
	x := r.log[len(r.log)-1]
	require.Equal(t, action, x.action)
	return x
}

// sdkVPC is the SDK's VPC client for env's simulator, signed with
// account's key.
func sdkVPC(t *testing.T, env *cloudsimtest.Env, account string) (*vpc.Client, *recorder) {
	t.Helper()
	id, secret := cloudsim.AccessKey(account)
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(id).SetAccessKeySecret(secret))
	require.NoError(t, err)
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	c, err := vpc.NewClient(new(openapiutil.Config).SetCredential(cred).SetEndpoint(u.Host).SetProtocol("http").SetRegionId("cn-hangzhou"))
	require.NoError(t, err)
	rec := &recorder{}
	c.HttpClient = rec
	return c, rec
}

// strictDecode decodes body into v refusing any field v's type lacks.
func strictDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "answer %s has a field %T does not know", body, v)
}

// jsonField finds the field of struct type typ (through pointers and
// slices) whose JSON name is name.
func jsonField(typ reflect.Type, name string) (reflect.Type, bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return nil, false
	}
	for _, f := range reflect.VisibleFields(typ) {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

func TestVPCRoutesAreTheSDKs(t *testing.T) {
	env := cloudsimtest.Start(t)
	var served []string
	for _, a := range env.Server.RPCActions() {
		if a.Product != "Vpc" {
			continue
		}
		served = append(served, a.Action)
		require.Equal(t, "2016-04-28", a.Version)
		typ, ok := sdkRequestTypes[a.Action]
		require.True(t, ok, "VPC action %s has no SDK request type in this test", a.Action)
		for _, p := range a.Params {
			cur := typ
			for _, seg := range strings.Split(p, ".") {
				if seg == "N" {
					continue
				}
				next, ok := jsonField(cur, seg)
				require.True(t, ok, "%s parameter %s is not in the SDK's %s", a.Action, p, typ.Name())
				cur = next
			}
		}
	}
	// Every action imagefleet calls through cloud.VPC is served.
	vpcIface := reflect.TypeFor[cloud.VPC]()
	for i := range vpcIface.NumMethod() {
		require.Contains(t, served, vpcIface.Method(i).Name)
	}
}

func TestVPCConformance(t *testing.T) {
	env := cloudsimtest.Start(t)
	c, rec := sdkVPC(t, env, cloudsim.DefaultAccount)
	rt := new(dara.RuntimeOptions)
	region := "cn-hangzhou"

	// CreateVpc, and again with its token: one VPC.
	createVpc := &vpc.CreateVpcRequest{RegionId: dara.String(region), VpcName: dara.String("conf"), CidrBlock: dara.String("10.0.0.0/8"), ClientToken: dara.String("conf-vpc")}
	vr, err := c.CreateVpcWithOptions(createVpc, rt)
	require.NoError(t, err)
	x := rec.last(t, "CreateVpc")
	require.Equal(t, region, x.query.Get("RegionId"))
	require.Equal(t, "conf-vpc", x.query.Get("ClientToken"))
	var vb vpc.CreateVpcResponseBody
	strictDecode(t, x.body, &vb)
	for _, f := range []*string{vb.RequestId, vb.VpcId, vb.VRouterId, vb.RouteTableId, vb.ResourceGroupId} {
		require.NotEmpty(t, dara.StringValue(f), "CreateVpc answer %s", x.body)
	}
	require.True(t, strings.HasPrefix(*vb.VpcId, "vpc-"))
	require.Equal(t, *vb.VpcId, dara.StringValue(vr.Body.VpcId))
	again, err := c.CreateVpcWithOptions(createVpc, rt)
	require.NoError(t, err)
	require.Equal(t, *vb.VpcId, *again.Body.VpcId)
	require.Len(t, ledgerOf(env, "CreateVpc"), 1)
	vpcID := *vb.VpcId

	// CreateVSwitch: three, in two zones.
	var ids []string
	for i, cidr := range []string{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"} {
		zone := region + "-" + string(rune('h'+i%2))
		sr, err := c.CreateVSwitchWithOptions(&vpc.CreateVSwitchRequest{
			RegionId: dara.String(region), VpcId: dara.String(vpcID), ZoneId: dara.String(zone), CidrBlock: dara.String(cidr),
			VSwitchName: dara.String("conf-" + cidr), ClientToken: dara.String("conf-vsw-" + cidr),
		}, rt)
		require.NoError(t, err)
		x := rec.last(t, "CreateVSwitch")
		require.Equal(t, zone, x.query.Get("ZoneId"))
		var sb vpc.CreateVSwitchResponseBody
		strictDecode(t, x.body, &sb)
		require.NotEmpty(t, dara.StringValue(sb.RequestId))
		require.True(t, strings.HasPrefix(dara.StringValue(sb.VSwitchId), "vsw-"))
		ids = append(ids, *sr.Body.VSwitchId)
	}
	slices.Sort(ids)

	// DescribeVSwitches: the real pagination and fields.
	describe := func(req *vpc.DescribeVSwitchesRequest) vpc.DescribeVSwitchesResponseBody {
		t.Helper()
		req.RegionId = dara.String(region)
		_, err := c.DescribeVSwitchesWithOptions(req, rt)
		require.NoError(t, err)
		var db vpc.DescribeVSwitchesResponseBody
		strictDecode(t, rec.last(t, "DescribeVSwitches").body, &db)
		require.NotEmpty(t, dara.StringValue(db.RequestId))
		require.NotNil(t, db.VSwitches)
		return db
	}
	p1 := describe(&vpc.DescribeVSwitchesRequest{VpcId: dara.String(vpcID), PageSize: dara.Int32(2)})
	require.Equal(t, int32(3), dara.Int32Value(p1.TotalCount))
	require.Equal(t, int32(1), dara.Int32Value(p1.PageNumber))
	require.Equal(t, int32(2), dara.Int32Value(p1.PageSize))
	require.Len(t, p1.VSwitches.VSwitch, 2)
	p2 := describe(&vpc.DescribeVSwitchesRequest{VpcId: dara.String(vpcID), PageSize: dara.Int32(2), PageNumber: dara.Int32(2)})
	require.Len(t, p2.VSwitches.VSwitch, 1)
	var seen []string
	for _, sw := range append(p1.VSwitches.VSwitch, p2.VSwitches.VSwitch...) {
		seen = append(seen, dara.StringValue(sw.VSwitchId))
		require.Equal(t, vpcID, dara.StringValue(sw.VpcId))
		require.Equal(t, "Available", dara.StringValue(sw.Status))
		require.Contains(t, []string{region + "-h", region + "-i"}, dara.StringValue(sw.ZoneId))
		require.True(t, strings.HasPrefix(dara.StringValue(sw.CidrBlock), "10.0."))
		require.Equal(t, int64(252), dara.Int64Value(sw.AvailableIpAddressCount))
		_, err := time.Parse(time.RFC3339, dara.StringValue(sw.CreationTime))
		require.NoError(t, err, "CreationTime %q", dara.StringValue(sw.CreationTime))
	}
	require.Equal(t, ids, seen)
	one := describe(&vpc.DescribeVSwitchesRequest{VSwitchId: dara.String(ids[1])})
	require.Len(t, one.VSwitches.VSwitch, 1)
	require.Equal(t, ids[1], *one.VSwitches.VSwitch[0].VSwitchId)
	require.Equal(t, int32(10), dara.Int32Value(one.PageSize), "the default page size")

	// DeleteVpc refuses a VPC with vSwitches: the real error body.
	_, err = c.DeleteVpcWithOptions(&vpc.DeleteVpcRequest{RegionId: dara.String(region), VpcId: dara.String(vpcID)}, rt)
	require.Error(t, err)
	x = rec.last(t, "DeleteVpc")
	wantRPCError(t, x.status, x.body, http.StatusBadRequest, cloud.CodeDependencyViolation)

	// DeleteVSwitch, which takes no ClientToken: a repeat finds nothing.
	for _, id := range ids {
		_, err := c.DeleteVSwitchWithOptions(&vpc.DeleteVSwitchRequest{RegionId: dara.String(region), VSwitchId: dara.String(id)}, rt)
		require.NoError(t, err)
		x := rec.last(t, "DeleteVSwitch")
		require.False(t, x.query.Has("ClientToken"))
		var b vpc.DeleteVSwitchResponseBody
		strictDecode(t, x.body, &b)
		require.NotEmpty(t, dara.StringValue(b.RequestId))
	}
	_, err = c.DeleteVSwitchWithOptions(&vpc.DeleteVSwitchRequest{RegionId: dara.String(region), VSwitchId: dara.String(ids[0])}, rt)
	require.Error(t, err)
	x = rec.last(t, "DeleteVSwitch")
	wantRPCError(t, x.status, x.body, http.StatusNotFound, cloud.CodeVSwitchNotFound)
	require.Len(t, ledgerOf(env, "DeleteVSwitch"), 3)

	_, err = c.DeleteVpcWithOptions(&vpc.DeleteVpcRequest{RegionId: dara.String(region), VpcId: dara.String(vpcID), ClientToken: dara.String("conf-del")}, rt)
	require.NoError(t, err)
	var db vpc.DeleteVpcResponseBody
	strictDecode(t, rec.last(t, "DeleteVpc").body, &db)
	require.NotEmpty(t, dara.StringValue(db.RequestId))
	require.Empty(t, describe(&vpc.DescribeVSwitchesRequest{}).VSwitches.VSwitch)

	// A required parameter left out, and one the simulator does not model:
	// refused, not ignored.
	before := len(env.Server.Ledger())
	_, err = c.CreateVSwitchWithOptions(&vpc.CreateVSwitchRequest{RegionId: dara.String(region), VpcId: dara.String(vpcID), CidrBlock: dara.String("10.0.9.0/24")}, rt)
	require.Error(t, err)
	x = rec.last(t, "CreateVSwitch")
	wantRPCError(t, x.status, x.body, http.StatusBadRequest, "MissingParameter")
	_, err = c.DescribeVSwitchesWithOptions(&vpc.DescribeVSwitchesRequest{RegionId: dara.String(region), IsDefault: dara.Bool(true)}, rt)
	require.Error(t, err)
	x = rec.last(t, "DescribeVSwitches")
	wantRPCError(t, x.status, x.body, http.StatusBadRequest, cloud.CodeInvalidParameter)
	require.Len(t, env.Server.Ledger(), before)

	// VPC is no longer on the old protocol.
	err = env.Client.Call(context.Background(), "CreateVpc", &cloud.CreateVpcRequest{RegionId: region}, nil)
	wantCode(t, err, cloud.CodeUnknownAction)
	require.Len(t, env.Server.Ledger(), before)
}
