package conformance

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
)

func projectScopeByID(sim *simulator) *iammodel.AuthScope {
	return &iammodel.AuthScope{Project: &iammodel.AuthScopeProject{Id: ptr(sim.ProjectID)}}
}

// iamClient is the SDK's IAM client pointed at the simulator (which serves IAM on the same
// address). Obtaining a token needs no authentication (L206); the SDK signs the call anyway.
func iamClient(t *testing.T, sim *simulator) *iam.IamClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().
		WithAk(sim.AccessKey).
		WithSk(sim.SecretKey).
		WithProjectId(sim.ProjectID).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := iam.IamClientBuilder().
		WithEndpoints([]string{sim.URL}).
		WithCredential(cred).
		WithHttpConfig(httpConfig()).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return iam.NewIamClient(hc)
}

// iamLogin is a password login with this scope, through the SDK.
func iamLogin(t *testing.T, sim *simulator, scope *iammodel.AuthScope) *iammodel.KeystoneCreateUserTokenByPasswordResponse {
	t.Helper()
	body := &iammodel.KeystoneCreateUserTokenByPasswordRequestBody{Auth: &iammodel.PwdAuth{
		Identity: &iammodel.PwdIdentity{
			Methods: []iammodel.PwdIdentityMethods{iammodel.GetPwdIdentityMethodsEnum().PASSWORD},
			Password: &iammodel.PwdPassword{User: &iammodel.PwdPasswordUser{
				Name:     sim.Username,
				Password: sim.Password,
				Domain:   &iammodel.PwdPasswordUserDomain{Name: sim.DomainName},
			}},
		},
		Scope: scope,
	}}
	resp := got(iamClient(t, sim).KeystoneCreateUserTokenByPassword(
		&iammodel.KeystoneCreateUserTokenByPasswordRequest{Nocatalog: ptr("true"), Body: body},
	)).must(t, "KeystoneCreateUserTokenByPassword")
	if resp.XSubjectToken == nil || *resp.XSubjectToken == "" || resp.Token == nil {
		t.Fatalf("the token response has no X-Subject-Token or token: %v", resp)
	}
	return resp
}

// iamToken is the X-Subject-Token of a password login with this scope.
func iamToken(t *testing.T, sim *simulator, scope *iammodel.AuthScope) string {
	t.Helper()
	return *iamLogin(t, sim, scope).XSubjectToken
}

// TestIamTokenScopes: L231 lets a token be scoped to a project (by id or by name) or to the
// account itself.
func TestIamTokenScopes(t *testing.T) {
	sim := startSimulator(t)
	projectScopes := map[string]*iammodel.AuthScopeProject{
		"project id":   {Id: ptr(sim.ProjectID)},
		"project name": {Name: ptr(sim.ProjectName)},
	}
	for what, project := range projectScopes {
		token := iamLogin(t, sim, &iammodel.AuthScope{Project: project}).Token
		if token.Project == nil || token.Project.Id != sim.ProjectID || token.Project.Name != sim.ProjectName {
			t.Fatalf("a token scoped by %s names the project %v", what, token.Project)
		}
	}
	for what, domain := range map[string]*iammodel.AuthScopeDomain{
		"account id":   {Id: ptr(sim.DomainID)},
		"account name": {Name: ptr(sim.DomainName)},
	} {
		token := iamLogin(t, sim, &iammodel.AuthScope{Domain: domain}).Token
		if token.Domain == nil || token.Domain.Id != sim.DomainID || token.Project != nil {
			t.Fatalf("a token scoped by %s names domain %v, project %v", what, token.Domain, token.Project)
		}
	}
}
