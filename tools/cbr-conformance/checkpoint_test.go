package conformance

import (
	"fmt"
	"net/http"
	"testing"

	cbr "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"
)

// The simulator is started with this many reads per restore point and restore in progress.
const progressReads = 2

// awaitCheckpoint reads a restore point until it is no longer `protecting`; it returns its
// final status and how many reads showed it protecting. Bounded: one that never finishes fails.
func awaitCheckpoint(t *testing.T, c *cbr.CbrClient, id string) (string, int) {
	t.Helper()
	protecting := 0
	for range 10 {
		cp := got(c.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: id})).must(t, "ShowCheckpoint").Checkpoint
		if s := cp.Status.Value(); s != "protecting" {
			return s, protecting
		}
		protecting++
	}
	t.Fatalf("restore point %s still protecting after 10 reads", id)
	return "", protecting
}

// awaitRestored reads a backup until it is no longer `restoring`; it returns how many reads
// showed it restoring.
func awaitRestored(t *testing.T, c *cbr.CbrClient, id string) int {
	t.Helper()
	restoring := 0
	for range 10 {
		b := got(c.ShowBackup(&model.ShowBackupRequest{BackupId: id})).must(t, "ShowBackup").Backup
		switch s := b.Status.Value(); s {
		case "restoring":
			restoring++
		case "available":
			return restoring
		default:
			t.Fatalf("a restored backup shows status %q", s)
		}
	}
	t.Fatalf("backup %s still restoring after 10 reads", id)
	return restoring
}

// manualBackup is the journey of a Kubernetes Backup and Restore through Huawei's SDK: a restore
// point of one server, polled until available; its backup restored to the server, polled until
// available again; then deleted, which takes the restore point with it.
func manualBackup(t *testing.T, c *cbr.CbrClient, prefix string) {
	server := prefix + "-ecs-1"
	vault := got(c.CreateVault(newVault(prefix+"-vault", server))).must(t, "CreateVault").Vault
	created := got(c.CreateCheckpoint(&model.CreateCheckpointRequest{Body: &model.VaultBackupReq{
		Checkpoint: &model.VaultBackup{VaultId: vault.Id, Parameters: &model.CheckpointParam{
			Name: ptr(prefix + "_backup"), Description: ptr("made by the SDK"),
			Incremental: ptr(true), AutoTrigger: ptr(false), Resources: &[]string{server},
		}},
	}})).must(t, "CreateCheckpoint").Checkpoint
	if created == nil || created.Id == "" || created.Status.Value() != "protecting" || created.Vault == nil ||
		created.Vault.Resources == nil || len(*created.Vault.Resources) != 1 || (*created.Vault.Resources)[0].Id != server {
		t.Fatalf("CreateCheckpoint answered %v", created)
	}
	if created.ExtraInfo == nil || created.ExtraInfo.Name == nil || *created.ExtraInfo.Name != prefix+"_backup" {
		t.Fatalf("CreateCheckpoint's extra_info: %v", created.ExtraInfo)
	}
	if status, reads := awaitCheckpoint(t, c, created.Id); status != "available" || reads != progressReads {
		t.Fatalf("the restore point ended %q after %d protecting reads, want available after %d", status, reads, progressReads)
	}

	list := got(c.ListBackups(&model.ListBackupsRequest{CheckpointId: ptr(created.Id)})).must(t, "ListBackups")
	if list.Backups == nil || len(*list.Backups) != 1 || (*list.Backups)[0].ResourceId != server {
		t.Fatalf("ListBackups checkpoint_id=%s answered %v", created.Id, list)
	}
	backup := (*list.Backups)[0]

	restored := got(c.RestoreBackup(&model.RestoreBackupRequest{BackupId: backup.Id, Body: &model.BackupRestoreReq{
		Restore: &model.BackupRestore{
			Mappings: &[]model.BackupRestoreServerMapping{{BackupId: backup.Id, VolumeId: prefix + "-disk-1"}},
			PowerOn:  ptr(true), ServerId: ptr(server),
		},
	}})).must(t, "RestoreBackup")
	if restored.HttpStatusCode != http.StatusAccepted {
		t.Fatalf("RestoreBackup answered %d, want 202", restored.HttpStatusCode)
	}
	if reads := awaitRestored(t, c, backup.Id); reads != progressReads {
		t.Fatalf("the backup was restoring for %d reads, want %d", reads, progressReads)
	}
	logs := got(c.ListOpLogs(&model.ListOpLogsRequest{OperationType: ptr(model.GetListOpLogsRequestOperationTypeEnum().RESTORE)})).must(t, "ListOpLogs")
	if logs.OperationLogs == nil || len(*logs.OperationLogs) != 1 || (*logs.OperationLogs)[0].Status.Value() != "success" {
		t.Fatalf("the restore task: %v", logs)
	}

	deleted := got(c.DeleteBackup(&model.DeleteBackupRequest{BackupId: backup.Id})).must(t, "DeleteBackup")
	if deleted.HttpStatusCode != http.StatusNoContent {
		t.Fatalf("DeleteBackup answered %d, want 204", deleted.HttpStatusCode)
	}
	_, err := c.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: created.Id})
	if status, code := statusOf(err); status != 404 || code != "BackupService.6217" {
		t.Fatalf("ShowCheckpoint of a restore point without backups: %v", err)
	}
	_, err = c.RestoreBackup(&model.RestoreBackupRequest{BackupId: backup.Id, Body: &model.BackupRestoreReq{
		Restore: &model.BackupRestore{ServerId: ptr(server)},
	}})
	if status, code := statusOf(err); status != 404 || code != "BackupService.6200" {
		t.Fatalf("RestoreBackup of a deleted backup: %v", err)
	}
}

func TestManualBackupRestoreAndDeletionWithAkSkSigning(t *testing.T) {
	sim := startSimulator(t, "--progress-reads", fmt.Sprint(progressReads))
	manualBackup(t, akskClient(t, sim), "aksk")
}

func TestManualBackupRestoreAndDeletionWithIamToken(t *testing.T) {
	sim := startSimulator(t, "--progress-reads", fmt.Sprint(progressReads))
	manualBackup(t, tokenClient(t, sim, sim.Token), "token")
}
