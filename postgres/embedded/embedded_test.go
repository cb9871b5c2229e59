package embedded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBinDir creates dir with empty executable initdb, pg_ctl and postgres.
func fakeBinDir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinDirWithoutServerBinaries(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	// A directory with only some of the programs does not count.
	partial := filepath.Join(empty, "partial")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "initdb"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := findBinDir(empty+string(os.PathListSeparator)+partial, filepath.Join(empty, "*", "bin"))
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("got %q, %v; want ErrNoBinaries", dir, err)
	}
	for _, want := range []string{"apt-get install postgresql", "POSTGRES_CONNECTION_STRING", "POSTGRES_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

func TestFindBinDirSearchOrder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	glob := filepath.Join(root, "lib", "*", "bin")
	for _, v := range []string{"9", "16", "15"} {
		fakeBinDir(t, filepath.Join(root, "lib", v, "bin"))
	}
	// The newest version wins among versioned directories, by number.
	if dir, err := findBinDir("", glob); err != nil || dir != filepath.Join(root, "lib", "16", "bin") {
		t.Fatalf("got %q, %v; want version 16", dir, err)
	}
	// initdb in PATH wins over the versioned directories, through symlinks
	// to where the other programs are.
	real := fakeBinDir(t, filepath.Join(root, "real"))
	path := filepath.Join(root, "path")
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "initdb"), filepath.Join(path, "initdb")); err != nil {
		t.Fatal(err)
	}
	if dir, err := findBinDir("relative/dir"+string(os.PathListSeparator)+path, glob); err != nil || dir != real {
		t.Fatalf("got %q, %v; want %q", dir, err, real)
	}
	// pg_config --bindir comes next.
	pgConfigDir := filepath.Join(root, "pgconfig")
	fakeBinDir(t, filepath.Join(root, "fromconfig"))
	if err := os.MkdirAll(pgConfigDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho " + filepath.Join(root, "fromconfig") + "\n"
	if err := os.WriteFile(filepath.Join(pgConfigDir, "pg_config"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if dir, err := findBinDir(pgConfigDir, glob); err != nil || dir != filepath.Join(root, "fromconfig") {
		t.Fatalf("got %q, %v; want the pg_config directory", dir, err)
	}
}

// TestCheckReachable: when the server runs as another user, a directory
// above the cluster that it cannot enter is named, with the fix, before
// initdb fails with a bare "permission denied".
func TestCheckReachable(t *testing.T) {
	t.Parallel()
	// t.TempDir()'s parent is private to this user: start from /tmp.
	root, err := os.MkdirTemp("", "takaro-reachable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	private := filepath.Join(root, "private")
	cluster := filepath.Join(private, "takaro", "postgres")
	if err := os.MkdirAll(cluster, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	// Another account, in none of the directories' groups: only the
	// "other" permission bits apply to it.
	stranger := &owner{name: "stranger", uid: uint32(os.Getuid()) + 4242, gid: 4242, groups: []uint32{4242}}
	err = checkReachable(cluster, stranger)
	if err == nil {
		t.Fatalf("a directory with mode 0700 on the way to %s was not reported", cluster)
	}
	for _, want := range []string{`"stranger"`, "cannot enter " + private + " (mode 0700)", "chmod o+x " + private, "TAKARO_DATA_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if err := os.Chmod(private, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := checkReachable(cluster, stranger); err != nil {
		t.Fatalf("every directory can be entered now: %v", err)
	}
	// The directory's owner and group are judged by their own bits.
	if err := os.Chmod(private, 0o710); err != nil {
		t.Fatal(err)
	}
	member := &owner{name: "member", uid: stranger.uid, gid: 4242, groups: []uint32{4242, uint32(os.Getgid())}}
	if err := checkReachable(cluster, member); err != nil {
		t.Fatalf("a member of the directory's group may enter it: %v", err)
	}
	if err := checkReachable(cluster, stranger); err == nil {
		t.Fatal("mode 0710 lets others in")
	}
	if err := checkReachable(cluster, nil); err != nil {
		t.Fatalf("the process's own account needs no check: %v", err)
	}
}
