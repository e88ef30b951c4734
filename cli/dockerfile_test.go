package cli

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestDockerfile: the team-mode image is the static binary (CGO_ENABLED=0,
// built as the Dockerfile builds it: no ELF interpreter, nothing dynamic)
// on a minimal base with CA certificates, run as a non-root user, serving
// ppalm maker on the port it exposes.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	froms := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("expected a build stage and a final stage: %v", froms)
	}
	final := froms[len(froms)-1][1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final base %s: expected distroless static (or scratch with CA certificates)", final)
	}
	build := regexp.MustCompile(`(?m)^RUN .*go build (.*)$`).FindStringSubmatch(df)
	if build == nil || !strings.Contains(build[0], "CGO_ENABLED=0") || !strings.Contains(build[0], "./cmd/ppalm") {
		t.Fatalf("the build step: %v", build)
	}
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root") {
		t.Errorf("USER %v: expected a non-root user", user)
	}
	if !strings.Contains(df, `ENTRYPOINT ["/usr/local/bin/ppalm", "maker", "--listen", ":8080"]`) || !regexp.MustCompile(`(?m)^EXPOSE 8080$`).MatchString(df) {
		t.Error("expected the entry point to serve ppalm maker on the exposed port 8080")
	}

	if testing.Short() {
		t.Skip("building the binary is skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux")
	}
	out := filepath.Join(t.TempDir(), "ppalm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/ppalm")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is not static: it has a %v segment", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary links %v", libs)
	}
}
