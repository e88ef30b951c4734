package steps

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/unpack"
)

// unpackedDemo unpacks the demo solution into a fresh folder.
func unpackedDemo(t *testing.T) string {
	t.Helper()
	zip := filepath.Join(t.TempDir(), "FollowSites.zip")
	if err := os.WriteFile(zip, fixtures.DemoSolution, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "src")
	if _, err := unpack.Unpack(context.Background(), unpack.UnpackOptions{ZipFile: zip, Folder: dir, PackageType: unpack.Unmanaged}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareSourcesComponentByComponent(t *testing.T) {
	ctx := context.Background()
	baseDir, headDir := unpackedDemo(t), unpackedDemo(t)
	base, err := ReadSolution(ctx, "", baseDir)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing on the target branch yet: every component is added.
	all := CompareSources(nil, base, "", baseDir)
	if len(all.Added) != len(base.Flows)+len(base.CanvasApps)+len(base.ConnectionReferences)+len(base.EnvironmentVariables) || len(all.Changed)+len(all.Removed) != 0 {
		t.Fatalf("against nothing: %+v", all)
	}
	if !slices.Contains(all.Added, "cloud flow Find sites") || !slices.Contains(all.Added, "environment variable alexmsft_FollowSitesSPOSite") {
		t.Fatalf("added: %v", all.Added)
	}
	if same := CompareSources(base, base, baseDir, baseDir); !same.Empty() {
		t.Fatalf("a tree against itself: %+v", same)
	}

	// Edit one flow's definition and one canvas app's document.
	flows, _ := filepath.Glob(filepath.Join(headDir, "Workflows", "Findsites-*.json"))
	if len(flows) != 1 {
		t.Fatalf("flow files %v", flows)
	}
	var def map[string]any
	data, _ := os.ReadFile(flows[0])
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}
	def["ppalmEdited"] = true
	data, _ = json.Marshal(def)
	if err := os.WriteFile(flows[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	apps, _ := filepath.Glob(filepath.Join(headDir, "CanvasApps", "*.msapp"))
	if len(apps) != 1 {
		t.Fatalf("apps %v", apps)
	}
	app, _ := os.ReadFile(apps[0])
	if err := os.WriteFile(apps[0], append(app, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	head, err := ReadSolution(ctx, "", headDir)
	if err != nil {
		t.Fatal(err)
	}
	got := CompareSources(base, head, baseDir, headDir)
	if !slices.Equal(got.Changed, []string{"canvas app " + base.CanvasApps[0].Name, "cloud flow Find sites"}) || len(got.Added)+len(got.Removed) != 0 {
		t.Fatalf("changes: %+v", got)
	}
	// And the other way round nothing is added or removed either.
	if back := CompareSources(head, base, headDir, baseDir); len(back.Changed) != 2 || strings.Join(back.Added, "") != "" {
		t.Fatalf("back: %+v", back)
	}
}
