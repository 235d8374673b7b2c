package conformance

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// simulator is a running `rampart simulate huawei-cbr` and what it announced.
type simulator struct {
	URL         string
	ProjectID   string
	ProjectName string
	DomainName  string
	DomainID    string
	Username    string
	Password    string
	AccessKey   string
	SecretKey   string
	Token       string
}

// startSimulator runs the CBR simulator on a free loopback port until the test ends.
func startSimulator(t *testing.T, args ...string) *simulator {
	t.Helper()
	bin := os.Getenv("RAMPART_BIN")
	if bin == "" {
		t.Fatal("RAMPART_BIN must name the rampart binary (cargo build --bin rampart; scripts/test sets it)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	args = append([]string{"simulate", "huawei-cbr", "--listen", "127.0.0.1:0"}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	announced := make(chan map[string]string, 1)
	go func() {
		values := map[string]string{}
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			line := lines.Text()
			if line == "ready" {
				announced <- values
				break
			}
			if k, v, ok := strings.Cut(line, "="); ok {
				values[k] = v
			}
		}
		close(announced)
		// Keep reading so the simulator never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var values map[string]string
	select {
	case v, ok := <-announced:
		if !ok {
			t.Fatal("the simulator exited before announcing `ready`")
		}
		values = v
	case <-time.After(30 * time.Second):
		t.Fatal("the simulator did not announce `ready` within 30 s")
	}

	sim := &simulator{
		URL:         values["url"],
		ProjectID:   values["project_id"],
		ProjectName: values["project_name"],
		DomainName:  values["domain_name"],
		DomainID:    values["domain_id"],
		Username:    values["username"],
		Password:    values["password"],
		AccessKey:   values["access_key"],
		SecretKey:   values["secret_key"],
		Token:       values["token"],
	}
	u, err := url.Parse(sim.URL)
	if err != nil || !strings.HasPrefix(u.Host, "127.0.0.1:") {
		t.Fatalf("the simulator must serve on loopback, announced url=%q", sim.URL)
	}
	for k, v := range map[string]string{"project_id": sim.ProjectID, "access_key": sim.AccessKey, "secret_key": sim.SecretKey, "token": sim.Token, "password": sim.Password} {
		if v == "" {
			t.Fatalf("the simulator did not announce %s", k)
		}
	}
	return sim
}
