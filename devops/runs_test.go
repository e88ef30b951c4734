package devops_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/devops/devopstest"
)

func TestQueueRunDispatchesAndRefusesWhatGitHubRefuses(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.Workflows = []string{"export.yml"}
	c := newGitHubClient(t, s)
	ctx := context.Background()

	run, err := c.QueueRun(ctx, "export.yml", "refs/heads/main", map[string]string{"solution-name": "Contoso"})
	if err != nil {
		t.Fatal(err)
	}
	if ds := s.Dispatches(); len(ds) != 1 || ds[0].Ref != "main" || ds[0].Inputs["solution-name"] != "Contoso" {
		t.Fatalf("dispatches: %+v", ds)
	}
	if !strings.HasSuffix(run.Link, "/contoso/alm-repo/actions/workflows/export.yml") {
		t.Fatalf("link %q", run.Link)
	}
	if _, err := c.QueueRun(ctx, "missing.yml", "main", nil); err == nil || !strings.Contains(err.Error(), "missing.yml does not exist") {
		t.Fatalf("missing workflow: %v", err)
	}
	sent := len(s.Requests())
	eleven := map[string]string{}
	for i := range 11 {
		eleven[fmt.Sprint("p", i)] = "x"
	}
	if _, err := c.QueueRun(ctx, "export.yml", "main", eleven); err == nil || !strings.Contains(err.Error(), "at most 10") {
		t.Fatalf("eleven inputs: %v", err)
	}
	if _, err := c.QueueRun(ctx, "", "main", nil); err == nil {
		t.Fatal("no pipeline accepted")
	}
	if len(s.Requests()) != sent {
		t.Fatal("a refused run was sent")
	}
}
