package cloudsim_test

import (
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

// A published version is deprecated, then its copies are deleted region by
// region, each once; a copy that an instance or a scaling group's active
// configuration uses is refused with ECS's codes, and a refusal changes
// nothing and records nothing.
func TestVersionDeprecationAndRegionalDeletion(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	c := env.Client
	id := createArtifact(t, c, draft())

	// Only a published version is deprecated.
	_, err := c.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{ArtifactId: id, VersionName: "v1_0", Deprecated: true})
	wantCode(t, err, cloud.CodeArtifactNotPublished)

	west := deliveredCopy(t, env, clock, "eu-west-1")
	central := deliveredCopy(t, env, clock, "eu-central-1")
	_, err = c.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{
		ArtifactId: id, VersionName: "v1_0", ImageDelivery: map[string]string{"eu-west-1": west, "eu-central-1": central},
		Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate},
	})
	ok(t, err)
	usage := func(region string) cloud.DescribeSnapshotsUsageResponse {
		t.Helper()
		u, err := c.DescribeSnapshotsUsage(ctx, &cloud.DescribeSnapshotsUsageRequest{RegionId: region})
		ok(t, err)
		return *u
	}
	if u := usage("eu-west-1"); u.SnapshotCount != 1 || u.SnapshotSize != 40<<30 {
		t.Fatalf("eu-west-1 storage before: %+v, want one 40 GiB image", u)
	}

	before := len(env.Server.Ledger())
	// Copies are deleted only once the version is deprecated.
	_, err = c.DeleteArtifactDelivery(ctx, &cloud.DeleteArtifactDeliveryRequest{ArtifactId: id, VersionName: "v1_0", RegionId: "eu-west-1"})
	wantCode(t, err, cloud.CodeArtifactNotDeprecated)

	// The version's copies are in use: an instance in eu-west-1, a scaling
	// group's configuration in eu-central-1.
	run, err := c.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: west, InstanceType: "ecs.g7.large", ClientToken: "run-west"})
	ok(t, err)
	if _, err := env.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-retention", RegionId: "eu-central-1", ImageId: central}); err != nil {
		t.Fatal(err)
	}
	before = len(env.Server.Ledger())

	dep, err := c.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{ArtifactId: id, VersionName: "v1_0", Deprecated: true, ClientToken: "dep-1"})
	ok(t, err)
	if dep.DeprecateTime.IsZero() {
		t.Fatal("no deprecation time")
	}
	_, err = c.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{ArtifactId: id, VersionName: "v1_0", Deprecated: true})
	ok(t, err) // already deprecated: no change
	if n := len(ledgerOf(env, "ModifyArtifactVersion")); n != 1 {
		t.Fatalf("%d ModifyArtifactVersion entries, want 1", n)
	}
	got, err := c.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if v := got.Artifact.Versions[0]; !v.Deprecated || !v.DeprecateTime.Equal(dep.DeprecateTime) || v.Status != cloud.ArtifactAvailable {
		t.Fatalf("version after deprecation: %+v", v)
	}
	before = len(env.Server.Ledger())

	_, err = c.DeleteArtifactDelivery(ctx, &cloud.DeleteArtifactDeliveryRequest{ArtifactId: id, VersionName: "v1_0", RegionId: "eu-west-1"})
	wantCode(t, err, cloud.CodeImageUsingByInstance)
	_, err = c.DeleteArtifactDelivery(ctx, &cloud.DeleteArtifactDeliveryRequest{ArtifactId: id, VersionName: "v1_0", RegionId: "eu-central-1"})
	wantCode(t, err, cloud.CodeImageUsingByScalingConfiguration)
	if n := len(env.Server.Ledger()); n != before {
		t.Fatalf("refused deletions left %d side effects", n-before)
	}
	if !visible(t, c, "eu-west-1", west) || !visible(t, c, "eu-central-1", central) {
		t.Fatal("a refused deletion deleted a copy")
	}

	// Once the instance is released the copy goes, once, with its token.
	_, err = c.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: "eu-west-1", InstanceIds: run.InstanceIdSets, Force: true})
	ok(t, err)
	del := &cloud.DeleteArtifactDeliveryRequest{ArtifactId: id, VersionName: "v1_0", RegionId: "eu-west-1", ClientToken: "del-west"}
	first, err := c.DeleteArtifactDelivery(ctx, del)
	ok(t, err)
	again, err := c.DeleteArtifactDelivery(ctx, del)
	ok(t, err)
	if !first.ImageDeleted || first.ImageId != west || first.SizeGiB != 40 || *again != *first {
		t.Fatalf("deletion answered %+v, then %+v", first, again)
	}
	if visible(t, c, "eu-west-1", west) {
		t.Fatal("the copy is still there")
	}
	if n := len(ledgerOf(env, "DeleteArtifactDelivery")); n != 2 { // the image and the version, once
		t.Fatalf("%d DeleteArtifactDelivery entries, want 2", n)
	}
	if u := usage("eu-west-1"); u.SnapshotCount != 0 || u.SnapshotSize != 0 {
		t.Fatalf("eu-west-1 storage after: %+v, want none", u)
	}
	got, err = c.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if v := got.Artifact.Versions[0]; len(v.ImageDelivery) != 1 || v.ImageDelivery["eu-central-1"] != central {
		t.Fatalf("version's delivery after: %v", v.ImageDelivery)
	}
	_, err = c.DeleteArtifactDelivery(ctx, &cloud.DeleteArtifactDeliveryRequest{ArtifactId: id, VersionName: "v1_0", RegionId: "eu-west-1"})
	wantCode(t, err, cloud.CodeArtifactNotFound)
}

// DeleteImage refuses an image an instance was created from (unless Force,
// as ECS) and one a scaling group's active configuration or launch template
// launches (always).
func TestDeleteImageInUse(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	c := env.Client
	used := deliveredCopy(t, env, clock, "eu-west-1")
	launched := deliveredCopy(t, env, clock, "eu-central-1")
	templated := deliveredCopy(t, env, clock, "us-east-1")
	if _, err := env.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-lt", RegionId: "us-east-1", ImageId: templated, LaunchTemplateId: "lt-retention"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: used, InstanceType: "ecs.g7.large", ClientToken: "run"})
	ok(t, err)
	if _, err := env.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-x", RegionId: "eu-central-1", ImageId: launched}); err != nil {
		t.Fatal(err)
	}
	before := len(env.Server.Ledger())
	_, err = c.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: used})
	wantCode(t, err, cloud.CodeImageUsingByInstance)
	_, err = c.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-central-1", ImageId: launched, Force: true})
	wantCode(t, err, cloud.CodeImageUsingByScalingConfiguration)
	_, err = c.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "us-east-1", ImageId: templated, Force: true})
	wantCode(t, err, cloud.CodeImageUsingByLaunchTemplate)
	if n := len(env.Server.Ledger()); n != before {
		t.Fatalf("refused deletions left %d side effects", n-before)
	}
	_, err = c.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: used, Force: true})
	ok(t, err)
	if visible(t, c, "eu-west-1", used) {
		t.Fatal("a forced deletion kept the image")
	}
}
