package cloudsim

import (
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// Accounts of the simulated cloud.
const (
	// DefaultAccount is the account imagefleet acts as.
	DefaultAccount = "1000000000000001"
	// SecondAccount owns a private image the default account may not use.
	SecondAccount = "1000000000000002"
	// ThirdAccount owns the community image.
	ThirdAccount = "1000000000000003"
)

// Accounts are the accounts that exist unless Config.Accounts says otherwise.
var Accounts = []string{DefaultAccount, SecondAccount, ThirdAccount}

// Demo data created on first start. Custom, marketplace and community images
// are in SeedRegion; the system images exist in every region.
const (
	SeedRegion = "cn-hangzhou"

	ImageWebappV1 = "m-webapp-v1" // DefaultAccount, 40 GiB linux, family webapp
	ImageWebappV2 = "m-webapp-v2" // DefaultAccount, 80 GiB linux, family webapp, newer
	ImageWinsvcV1 = "m-winsvc-v1" // DefaultAccount, 60 GiB windows

	ImageOtherPrivate     = "m-other-private"   // SecondAccount, private, not shared
	ImageMarketplaceNginx = "m-mkt-nginx"       // marketplace, 20 GiB
	ImageCommunityTools   = "m-community-tools" // ThirdAccount, public: a community image

	ImageSystemAliyun = "aliyun_3_x64_20G_alibase_20240819.vhd"
	ImageSystemUbuntu = "ubuntu_22_04_x64_20G_alibase_20240130.vhd"
)

// Intrinsic image kinds; the owner alias a caller sees derives from them.
const (
	kindCustom      = "custom" // owned by an account: self, others or community
	kindSystem      = "system"
	kindMarketplace = "marketplace"
)

// seed fills an empty state with the demo data. Seeding is not a side effect
// of any call, so it adds no ledger entries.
func seed(st *state, now time.Time) {
	day := 24 * time.Hour
	add := func(kind, region string, age time.Duration, img cloud.Image) {
		img.RegionId = region
		img.CreationTime = now.Add(-age)
		img.ReadyTime = img.CreationTime
		if img.Architecture == "" {
			img.Architecture = "x86_64"
		}
		st.Images[imageKey(region, img.ImageId)] = &imageRecord{Image: img, Kind: kind}
	}
	linux := func(img cloud.Image) cloud.Image {
		img.OSType, img.OSName, img.Platform = "linux", "Alibaba Cloud Linux 3.2104 LTS 64 bit", "Aliyun"
		return img
	}

	add(kindCustom, SeedRegion, 90*day, linux(cloud.Image{
		ImageId: ImageWebappV1, ImageName: "webapp-v1", Description: "web application, release 1",
		Size: 40, ImageFamily: "webapp", OwnerId: DefaultAccount,
	}))
	add(kindCustom, SeedRegion, 30*day, linux(cloud.Image{
		ImageId: ImageWebappV2, ImageName: "webapp-v2", Description: "web application, release 2",
		Size: 80, ImageFamily: "webapp", OwnerId: DefaultAccount,
	}))
	add(kindCustom, SeedRegion, 60*day, cloud.Image{
		ImageId: ImageWinsvcV1, ImageName: "winsvc-v1", Description: "windows service, release 1",
		Size: 60, OSType: "windows", OSName: "Windows Server 2022 Datacenter 64-bit", Platform: "Windows Server 2022",
		OwnerId: DefaultAccount,
	})
	add(kindCustom, SeedRegion, 45*day, linux(cloud.Image{
		ImageId: ImageOtherPrivate, ImageName: "other-private", Description: "another account's private image",
		Size: 40, OwnerId: SecondAccount,
	}))
	add(kindMarketplace, SeedRegion, 120*day, linux(cloud.Image{
		ImageId: ImageMarketplaceNginx, ImageName: "nginx-marketplace", Description: "NGINX on Alibaba Cloud Linux 3 (marketplace)",
		Size: 20, IsPublic: true,
	}))
	add(kindCustom, SeedRegion, 100*day, linux(cloud.Image{
		ImageId: ImageCommunityTools, ImageName: "community-tools", Description: "tools shared with the community",
		Size: 20, OwnerId: ThirdAccount, IsPublic: true,
	}))
	for _, r := range model.Regions {
		add(kindSystem, r.ID, 200*day, linux(cloud.Image{
			ImageId: ImageSystemAliyun, ImageName: ImageSystemAliyun, Description: "Alibaba Cloud Linux 3",
			Size: 20, ImageFamily: "acs:alibaba_cloud_linux_3_2104_lts_x64", IsPublic: true,
		}))
		add(kindSystem, r.ID, 400*day, cloud.Image{
			ImageId: ImageSystemUbuntu, ImageName: ImageSystemUbuntu, Description: "Ubuntu 22.04 64 bit",
			Size: 20, OSType: "linux", OSName: "Ubuntu 22.04 64 bit", Platform: "Ubuntu",
			ImageFamily: "acs:ubuntu_22_04_x64", IsPublic: true,
		})
	}
	seedScaling(st, now)
	st.SeededAt = now
}
