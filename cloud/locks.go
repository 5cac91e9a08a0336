package cloud

import "context"

// Error codes of the locks the services hold on what another operation owns.
const (
	// CodeImageManagedByService: the image was delivered by a deployment
	// package version, which manages it; it cannot be deleted or re-shared
	// while the version exists (delete the version instead).
	CodeImageManagedByService = "OperationDenied.ImageManagedByService"
	// CodeArtifactReleasing: the version is being published by another
	// publication (another release token). StartArtifactRelease,
	// ReleaseArtifact, CancelArtifactRelease and DeleteArtifact answer it
	// (HTTP 409) for a version held by a publication whose token the call
	// does not carry; the refusal is atomic, so a client needs no check of
	// its own before the call.
	CodeArtifactReleasing = "Artifact.VersionReleasing"
	// CodeDeploymentInProgress: the container service has a deployment
	// under way (an ACTIVE task set: not primary, not draining); one runs at
	// a time. A new task set is refused whatever its external ID, the
	// running deployment's included (anyone can read it); the deployment's
	// own retry is answered from its client token.
	CodeDeploymentInProgress = "ServiceDeploymentInProgressException"
)

// StartArtifactReleaseRequest begins the publication of a draft version:
// the version becomes Delivering and only the publication holding
// ReleaseToken may release it (ReleaseArtifact with the same token) or give
// it up (CancelArtifactRelease). Another token is refused with
// CodeArtifactReleasing, a published version with CodeArtifactLocked. The
// same token again is a no-op, so a retried or resumed publication goes on.
type StartArtifactReleaseRequest struct {
	ArtifactId   string
	VersionName  string
	ReleaseToken string
}

type StartArtifactReleaseResponse struct {
	RequestId string
	Status    string
}

// CancelArtifactReleaseRequest gives a Delivering version back to Draft
// (a failed or aborted publication). A version that is already a draft is
// fine.
type CancelArtifactReleaseRequest struct {
	ArtifactId   string
	VersionName  string
	ReleaseToken string
}

type CancelArtifactReleaseResponse struct{ RequestId string }

func (c *Client) StartArtifactRelease(ctx context.Context, req *StartArtifactReleaseRequest) (*StartArtifactReleaseResponse, error) {
	return call[StartArtifactReleaseResponse](ctx, c, "StartArtifactRelease", req)
}

func (c *Client) CancelArtifactRelease(ctx context.Context, req *CancelArtifactReleaseRequest) (*CancelArtifactReleaseResponse, error) {
	return call[CancelArtifactReleaseResponse](ctx, c, "CancelArtifactRelease", req)
}
