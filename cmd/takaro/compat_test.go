package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// requireTool returns the path of an external program a test needs. In CI
// (CI=true) a missing program fails the test, so the suite cannot pass by
// skipping; elsewhere the test is skipped.
func requireTool(t *testing.T, name string, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (%s); CI must run this test", name, hint)
	}
	t.Skipf("%s is not installed (%s)", name, hint)
	return ""
}

// compatDir is the compatibility suite: a Node program that drives the API
// through the reference platform's published client (@takaro/apiclient,
// pinned in its package-lock.json).
var compatDir = filepath.Join("..", "..", "compat")

// installCompat runs npm ci in the suite's directory unless node_modules
// already holds exactly what package-lock.json pins (a stamp with the
// lockfile's hash, written after a successful install).
func installCompat(t *testing.T, npm string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(compatDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(compatDir, "node_modules", ".takaro-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = compatDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in compat/: %v\n%s", err, out)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nodeSummary reads the counts at the end of node --test's spec report.
var nodeSummary = regexp.MustCompile(`(?m)^ℹ (tests|pass|fail) (\d+)$`)

// TestCompatSuite starts takaro serve on a fresh database and runs the
// compatibility suite against it with node --test: every file of
// compat/test, each creating its own domain. Any failing test fails this
// one; the counts are logged as "N passed, M failed".
func TestCompatSuite(t *testing.T) {
	t.Parallel()
	node := requireTool(t, "node", "Node.js 20 or later, for the compatibility suite")
	npm := requireTool(t, "npm", "npm, to install the suite's pinned client")
	installCompat(t, npm)

	sv := startServe(t, serveEnv(t, pgtest.New(t), freePort(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
	cmd.Dir = compatDir
	cmd.Env = append(os.Environ(), "TAKARO_URL=http://"+sv.addr, "TAKARO_ADMIN_SECRET="+serveAdminSecret, "NO_COLOR=1", "FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()

	counts := map[string]int{}
	for _, m := range nodeSummary.FindAllStringSubmatch(out.String(), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	t.Logf("compat suite: %d passed, %d failed", counts["pass"], counts["fail"])
	if runErr != nil || counts["fail"] > 0 || counts["pass"] == 0 {
		sv.signal(syscall.SIGTERM)
		t.Fatalf("compat suite failed (%v):\n%s\n--- takaro serve:\n%s", runErr, out.String(), sv.wait(30*time.Second))
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
}
