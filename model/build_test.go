package model

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateSpecLimits(t *testing.T) {
	ok := TemplateSpec{Region: "cn-hangzhou", Name: "web", SourceFamily: "webapp"}
	require.NoError(t, ok.Validate())

	accounts := make([]string, 21)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("10000000000000%02d", i)
	}
	bad := ok
	bad.Regions, bad.Accounts = RegionIDs()[:21], accounts
	bad.SourceImage = "m-1" // and a family: exactly one is allowed
	bad.SystemDiskSize = 501
	bad.Components = []TemplateComponent{{}}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"at most 20 distribution regions, got 21", "at most 20 accounts to share with, got 21",
		"exactly one of sourceImage and sourceFamily", "systemDiskSize must be 20–500 GiB, got 501", "component 1"} {
		require.ErrorContains(t, err, want)
	}
	twenty := ok
	twenty.Regions, twenty.Accounts = RegionIDs()[:20], accounts[:20]
	require.NoError(t, twenty.Validate())
}

func TestBuildInputValidate(t *testing.T) {
	in := BuildInput{Region: "cn-hangzhou", TemplateID: "ip-abc"}
	require.NoError(t, in.Validate())
	w, err := in.Window()
	require.NoError(t, err)
	require.Equal(t, DefaultRetryWindow, w)
	in.RetryWindow = "0s"
	w, err = in.Window()
	require.NoError(t, err)
	require.Zero(t, w)
	require.ErrorContains(t, BuildInput{Region: "cn-hangzhou", TemplateID: "web", RetryWindow: "-1h"}.Validate(), "template ID \"web\"")
	require.ErrorContains(t, BuildInput{Region: "cn-hangzhou", TemplateID: "ip-a", RetryWindow: "-1h"}.Validate(), "retryWindow")
	require.Equal(t, "build/cn-hangzhou/ip-abc", BuildWorkflowID("cn-hangzhou", "ip-abc"))
}
