package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cbr "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"
)

// The simulator is started with this many `deleting` reads per vault deletion.
const deletingReads = 2

func httpConfig() *config.HttpConfig {
	return config.DefaultHttpConfig().WithTimeout(15 * time.Second)
}

// akskClient signs every call with the SDK's own AK/SK signer (basic credentials with a
// project id, so the SDK never asks IAM for one).
func akskClient(t *testing.T, sim *simulator) *cbr.CbrClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().
		WithAk(sim.AccessKey).
		WithSk(sim.SecretKey).
		WithProjectId(sim.ProjectID).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := cbr.CbrClientBuilder().
		WithEndpoints([]string{sim.URL}).
		WithCredential(cred).
		WithHttpConfig(httpConfig()).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return cbr.NewCbrClient(hc)
}

// tokenCredential authenticates with an IAM token in X-Auth-Token, as the document's token
// authentication describes (the SDK's core has only AK/SK credentials).
type tokenCredential struct {
	projectID string
	token     string
}

func (c *tokenCredential) ProcessAuthParams(*impl.DefaultHttpClient, string) (auth.ICredential, error) {
	return c, nil
}

func (c *tokenCredential) ProcessAuthRequest(_ *impl.DefaultHttpClient, req *request.DefaultHttpRequest) (*request.DefaultHttpRequest, error) {
	// Build fills the path parameters, {project_id} among them.
	return req.Builder().
		AddAutoFilledPathParam("project_id", c.projectID).
		AddHeaderParam("X-Auth-Token", c.token).
		Build(), nil
}

func tokenClient(t *testing.T, sim *simulator, token string) *cbr.CbrClient {
	t.Helper()
	hc, err := cbr.CbrClientBuilder().
		WithCredentialsType("conformance.tokenCredential").
		WithEndpoints([]string{sim.URL}).
		WithCredential(&tokenCredential{projectID: sim.ProjectID, token: token}).
		WithHttpConfig(httpConfig()).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return cbr.NewCbrClient(hc)
}

// result is an SDK call's answer and error, so a call and its check fit on one line.
type result[T any] struct {
	value T
	err   error
}

func got[T any](value T, err error) result[T] { return result[T]{value, err} }

// must fails the test when the call failed: every call of the journey must succeed.
func (r result[T]) must(t *testing.T, what string) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	return r.value
}

func ptr[T any](v T) *T { return &v }

// statusOf is the HTTP status of an SDK error answered by the server, 0 for anything else.
func statusOf(err error) (int, string) {
	var sr *sdkerr.ServiceResponseError
	if errors.As(err, &sr) {
		return sr.StatusCode, sr.ErrorCode
	}
	return 0, ""
}

func newVault(name, resourceID string) *model.CreateVaultRequest {
	return &model.CreateVaultRequest{Body: &model.VaultCreateReq{Vault: &model.VaultCreate{
		Name: name,
		Billing: &model.BillingCreate{
			ConsistentLevel: model.GetBillingCreateConsistentLevelEnum().CRASH_CONSISTENT,
			ObjectType:      model.GetBillingCreateObjectTypeEnum().SERVER,
			ProtectType:     model.GetBillingCreateProtectTypeEnum().BACKUP,
			Size:            100,
		},
		Resources: []model.ResourceCreate{{Id: resourceID, Type: "OS::Nova::Server", Name: ptr("ecs-" + name)}},
		Tags:      &[]model.Tag{{Key: "team", Value: "backup"}},
	}}}
}

// lifecycle is the whole journey of the issue, every call through the SDK: create a vault with
// a tag and a resource, get, list with limit/offset and filters, update name and size, create a
// policy with an RRULE pattern and retention, associate, dissociate, delete both, and see the
// vault pass through `deleting`.
func lifecycle(t *testing.T, c *cbr.CbrClient, prefix string) {
	name := prefix + "-vault"
	created := got(c.CreateVault(newVault(name, prefix+"-ecs-1"))).must(t, "CreateVault")
	v := created.Vault
	if v == nil || v.Id == "" || v.Name != name || v.Billing.Status.Value() != "available" {
		t.Fatalf("CreateVault answered %v", created)
	}
	if len(v.Resources) != 1 || v.Resources[0].Id != prefix+"-ecs-1" {
		t.Fatalf("the vault's resource: %v", v.Resources)
	}
	if v.Tags == nil || len(*v.Tags) != 1 || (*v.Tags)[0].Key != "team" || (*v.Tags)[0].Value != "backup" {
		t.Fatalf("the vault's tags: %v", v.Tags)
	}
	second := got(c.CreateVault(newVault(prefix+"-other", prefix+"-ecs-2"))).must(t, "CreateVault (second)").Vault

	shown := got(c.ShowVault(&model.ShowVaultRequest{VaultId: v.Id})).must(t, "ShowVault").Vault
	if shown.Id != v.Id || shown.Billing.Size != 100 {
		t.Fatalf("ShowVault answered %v", shown)
	}

	page := got(c.ListVault(&model.ListVaultRequest{
		Name: ptr(prefix), ObjectType: ptr("server"), Limit: ptr(int32(1)), Offset: ptr(int32(1)),
	})).must(t, "ListVault")
	if page.Count == nil || *page.Count != 2 || page.Vaults == nil || len(*page.Vaults) != 1 {
		t.Fatalf("ListVault name=%s limit=1 offset=1 answered %v", prefix, page)
	}
	if (*page.Vaults)[0].Id != second.Id {
		t.Fatalf("the second page holds %s, want the second vault %s", (*page.Vaults)[0].Id, second.Id)
	}
	if got := got(c.ListVault(&model.ListVaultRequest{Name: ptr(name), Status: ptr("available")})).must(t, "ListVault by status"); got.Count == nil || *got.Count != 1 {
		t.Fatalf("ListVault name=%s status=available answered %v", name, got)
	}

	renamed := name + "-renamed"
	updated := got(c.UpdateVault(&model.UpdateVaultRequest{VaultId: v.Id, Body: &model.VaultUpdateReq{
		Vault: &model.VaultUpdate{Name: ptr(renamed), Billing: &model.BillingUpdate{Size: ptr(int32(200))}},
	}})).must(t, "UpdateVault").Vault
	if updated.Name != renamed || updated.Billing.Size != 200 {
		t.Fatalf("UpdateVault answered %v", updated)
	}

	policy := got(c.CreatePolicy(&model.CreatePolicyRequest{Body: &model.PolicyCreateReq{Policy: &model.PolicyCreate{
		Name:          prefix + "-policy",
		Enabled:       ptr(true),
		OperationType: model.GetPolicyCreateOperationTypeEnum().BACKUP,
		OperationDefinition: &model.PolicyoOdCreate{
			RetentionDurationDays: ptr(int32(30)),
			Timezone:              ptr("UTC+03:00"),
		},
		Trigger: &model.PolicyTriggerReq{Properties: &model.PolicyTriggerPropertiesReq{
			Pattern: []string{"FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=02;BYMINUTE=30"},
		}},
	}}})).must(t, "CreatePolicy").Policy
	if policy == nil || policy.Id == "" || policy.OperationDefinition == nil ||
		policy.OperationDefinition.RetentionDurationDays == nil || *policy.OperationDefinition.RetentionDurationDays != 30 {
		t.Fatalf("CreatePolicy answered %v", policy)
	}

	bound := got(c.AssociateVaultPolicy(&model.AssociateVaultPolicyRequest{
		VaultId: v.Id, Body: &model.VaultAssociate{PolicyId: ptr(policy.Id)},
	})).must(t, "AssociateVaultPolicy")
	if bound.AssociatePolicy == nil || bound.AssociatePolicy.VaultId != v.Id || bound.AssociatePolicy.PolicyId != policy.Id {
		t.Fatalf("AssociateVaultPolicy answered %v", bound)
	}
	if got := got(c.ListVault(&model.ListVaultRequest{PolicyId: ptr(policy.Id)})).must(t, "ListVault by policy"); got.Count == nil || *got.Count != 1 {
		t.Fatalf("ListVault policy_id answered %v", got)
	}
	unbound := got(c.DisassociateVaultPolicy(&model.DisassociateVaultPolicyRequest{
		VaultId: v.Id, Body: &model.VaultDissociate{PolicyId: policy.Id},
	})).must(t, "DisassociateVaultPolicy")
	if unbound.DissociatePolicy == nil || unbound.DissociatePolicy.PolicyId != policy.Id {
		t.Fatalf("DisassociateVaultPolicy answered %v", unbound)
	}

	got(c.DeletePolicy(&model.DeletePolicyRequest{PolicyId: policy.Id})).must(t, "DeletePolicy")
	got(c.DeleteVault(&model.DeleteVaultRequest{VaultId: v.Id})).must(t, "DeleteVault")
	got(c.DeleteVault(&model.DeleteVaultRequest{VaultId: second.Id})).must(t, "DeleteVault (second)")
	if reads := awaitGone(t, c, v.Id); reads != deletingReads {
		t.Fatalf("the vault answered `deleting` %d times, want %d", reads, deletingReads)
	}
	awaitGone(t, c, second.Id)
}

// awaitGone reads a deleted vault until CBR answers 404 BackupService.6105; it returns how many
// reads showed it as `deleting`. Bounded: a vault that never goes fails the test.
func awaitGone(t *testing.T, c *cbr.CbrClient, id string) int {
	t.Helper()
	deleting := 0
	for range 10 {
		resp, err := c.ShowVault(&model.ShowVaultRequest{VaultId: id})
		if err != nil {
			if status, code := statusOf(err); status == 404 && code == "BackupService.6105" {
				return deleting
			}
			t.Fatalf("ShowVault of a deleted vault: %v", err)
		}
		if s := resp.Vault.Billing.Status.Value(); s != "deleting" {
			t.Fatalf("a deleted vault shows status %q, want deleting", s)
		}
		deleting++
	}
	t.Fatalf("vault %s still exists after 10 reads", id)
	return deleting
}

func startForSDK(t *testing.T) *simulator {
	return startSimulator(t, "--deleting-reads", fmt.Sprint(deletingReads))
}

func TestVaultAndPolicyLifecycleWithAkSkSigning(t *testing.T) {
	sim := startForSDK(t)
	lifecycle(t, akskClient(t, sim), "aksk")
}

func TestVaultAndPolicyLifecycleWithIamToken(t *testing.T) {
	sim := startForSDK(t)
	token := iamToken(t, sim, projectScopeByID(sim))
	lifecycle(t, tokenClient(t, sim, token), "token")
	// The token the simulator announced works the same way.
	got(tokenClient(t, sim, sim.Token).ListVault(&model.ListVaultRequest{})).must(t, "ListVault with the announced token")
}
