package activities_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
)

// expiringACR issues a credential that the registry then refuses as expired,
// as when the credential expires between the two calls.
type expiringACR struct {
	cloud.ACR // not called
}

func (expiringACR) GetAuthorizationToken(context.Context, *cloud.GetAuthorizationTokenRequest) (*cloud.GetAuthorizationTokenResponse, error) {
	return &cloud.GetAuthorizationTokenResponse{AuthorizationToken: "crt.secret"}, nil
}

func (expiringACR) GetRepoTag(context.Context, *cloud.GetRepoTagRequest) (*cloud.GetRepoTagResponse, error) {
	return nil, &cloud.APIError{HTTPStatus: http.StatusUnauthorized, Code: cloud.CodeTokenExpired, Message: "the authorization token expired"}
}

// The activity fetches its own credential on every attempt, so a credential
// refused as expired is worth a retry, not a region failure for the operator.
func TestLocateRegistryTagRetriesAnExpiredCredential(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.PackageContent{ACR: expiringACR{}})
	var a *activities.PackageContent
	_, err := env.ExecuteActivity(a.LocateRegistryTag, activities.RegistryTagInput{Region: "eu-west-1", Namespace: "computenest-1", RepoName: "web", Tag: "1.0"})
	appErr := appError(t, err)
	require.Equal(t, cloud.CodeTokenExpired, appErr.Type())
	require.False(t, appErr.NonRetryable(), "a retry fetches a new credential")
	noCredential(t, err.Error())
}
