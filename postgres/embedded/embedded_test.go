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
