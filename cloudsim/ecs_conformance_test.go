package cloudsim_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/credentials-go/credentials"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// Conformance of the simulator's ECS actions on the RPC front to the
// official SDK (github.com/alibabacloud-go/ecs-20140526/v7), as
// vpc_conformance_test.go does for VPC.

var ecsRequestTypes = map[string]reflect.Type{
	"DescribeInstanceTypes":     reflect.TypeFor[ecs.DescribeInstanceTypesRequest](),
	"DescribeAvailableResource": reflect.TypeFor[ecs.DescribeAvailableResourceRequest](),
}

func sdkECS(t *testing.T, env *cloudsimtest.Env) (*ecs.Client, *recorder) {
	t.Helper()
	id, secret := cloudsim.AccessKey(cloudsim.DefaultAccount)
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(id).SetAccessKeySecret(secret))
	require.NoError(t, err)
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	c, err := ecs.NewClient(new(openapiutil.Config).SetCredential(cred).SetEndpoint(u.Host).SetProtocol("http").SetRegionId(cloudsim.SeedRegion))
	require.NoError(t, err)
	rec := &recorder{}
	c.HttpClient = rec
	return c, rec
}

func TestECSRoutesAreTheSDKs(t *testing.T) {
	env := cloudsimtest.Start(t)
	n := 0
	for _, a := range env.Server.RPCActions() {
		if a.Product != "Ecs" {
			continue
		}
		n++
		require.Equal(t, "2014-05-26", a.Version)
		typ, ok := ecsRequestTypes[a.Action]
		require.True(t, ok, "ECS action %s has no SDK request type in this test", a.Action)
		for _, p := range a.Params {
			_, ok := jsonField(typ, strings.Split(p, ".")[0])
			require.True(t, ok, "%s parameter %s is not in the SDK's %s", a.Action, p, typ.Name())
		}
	}
	require.Equal(t, len(ecsRequestTypes), n)
}

func TestECSInstanceTypesConformance(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	require.NoError(t, env.Admin().SetStock(ctx, cloud.StockRule{RegionId: cloudsim.SeedRegion, InstanceType: "ecs.g7.large", SoldOut: true}))
	c, rec := sdkECS(t, env)
	rt := new(dara.RuntimeOptions)

	// DescribeInstanceTypes: regionless, paged by NextToken, filtered by
	// InstanceTypes.N.
	var ids []string
	var next *string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		_, err := c.DescribeInstanceTypesWithOptions(&ecs.DescribeInstanceTypesRequest{MaxResults: dara.Int64(4), NextToken: next}, rt)
		require.NoError(t, err)
		x := rec.last(t, "DescribeInstanceTypes")
		require.False(t, x.query.Has("RegionId"))
		var b ecs.DescribeInstanceTypesResponseBody
		strictDecode(t, x.body, &b)
		require.NotEmpty(t, dara.StringValue(b.RequestId))
		require.NotNil(t, b.InstanceTypes)
		for _, it := range b.InstanceTypes.InstanceType {
			require.NotEmpty(t, dara.StringValue(it.InstanceTypeFamily))
			require.Positive(t, dara.Int32Value(it.CpuCoreCount))
			require.Positive(t, dara.Float32Value(it.MemorySize))
			ids = append(ids, dara.StringValue(it.InstanceTypeId))
		}
		if dara.StringValue(b.NextToken) == "" {
			break
		}
		next = b.NextToken
	}
	require.Len(t, ids, 6)
	require.Contains(t, ids, "ecs.g7.large")
	_, err := c.DescribeInstanceTypesWithOptions(&ecs.DescribeInstanceTypesRequest{InstanceTypes: []*string{dara.String("ecs.c7.large"), dara.String("ecs.g7.xlarge")}}, rt)
	require.NoError(t, err)
	x := rec.last(t, "DescribeInstanceTypes")
	require.Equal(t, "ecs.c7.large", x.query.Get("InstanceTypes.1"))
	var two ecs.DescribeInstanceTypesResponseBody
	strictDecode(t, x.body, &two)
	require.Len(t, two.InstanceTypes.InstanceType, 2)

	// DescribeAvailableResource: the stock per zone.
	_, err = c.DescribeAvailableResourceWithOptions(&ecs.DescribeAvailableResourceRequest{RegionId: dara.String(cloudsim.SeedRegion), DestinationResource: dara.String("InstanceType")}, rt)
	require.NoError(t, err)
	x = rec.last(t, "DescribeAvailableResource")
	var ar ecs.DescribeAvailableResourceResponseBody
	strictDecode(t, x.body, &ar)
	require.NotEmpty(t, dara.StringValue(ar.RequestId))
	require.Len(t, ar.AvailableZones.AvailableZone, 1)
	zone := ar.AvailableZones.AvailableZone[0]
	require.Equal(t, cloudsim.SeedRegion, dara.StringValue(zone.RegionId))
	require.NotEmpty(t, dara.StringValue(zone.ZoneId))
	res := zone.AvailableResources.AvailableResource
	require.Len(t, res, 1)
	require.Equal(t, "InstanceType", dara.StringValue(res[0].Type))
	status := map[string]string{}
	for _, s := range res[0].SupportedResources.SupportedResource {
		status[dara.StringValue(s.Value)] = dara.StringValue(s.Status) + "/" + dara.StringValue(s.StatusCategory)
	}
	require.Equal(t, "SoldOut/WithoutStock", status["ecs.g7.large"])
	require.Equal(t, "Available/WithStock", status["ecs.c7.large"])

	// Without DestinationResource: the real MissingParameter; another
	// resource: refused as not modelled.
	_, err = c.DescribeAvailableResourceWithOptions(&ecs.DescribeAvailableResourceRequest{RegionId: dara.String(cloudsim.SeedRegion)}, rt)
	require.Error(t, err)
	x = rec.last(t, "DescribeAvailableResource")
	wantRPCError(t, x.status, x.body, http.StatusBadRequest, "MissingParameter")

	// Through imagefleet's client: the interface's answer, stock included,
	// smallest first.
	types, err := env.Client.DescribeInstanceTypes(ctx, &cloud.DescribeInstanceTypesRequest{RegionId: cloudsim.SeedRegion})
	require.NoError(t, err)
	require.Len(t, types.InstanceTypes, 6)
	require.Equal(t, "ecs.c7.large", types.InstanceTypes[0].InstanceTypeId)
	for i, it := range types.InstanceTypes {
		want := cloud.StockWithStock
		if it.InstanceTypeId == "ecs.g7.large" {
			want = cloud.StockSoldOut
		}
		require.Equal(t, want, it.Status, it.InstanceTypeId)
		if i > 0 {
			prev := types.InstanceTypes[i-1]
			require.True(t, prev.CpuCoreCount < it.CpuCoreCount || prev.CpuCoreCount == it.CpuCoreCount && prev.MemorySize <= it.MemorySize)
		}
	}
	err = env.Client.Call(ctx, "DescribeInstanceTypes", &cloud.DescribeInstanceTypesRequest{RegionId: cloudsim.SeedRegion}, nil)
	wantCode(t, err, cloud.CodeUnknownAction)
}
