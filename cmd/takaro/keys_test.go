package main

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	core "github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// keysEnv is the environment of a takaro that uses db with Key current
// and the previous keys.
func keysEnv(t *testing.T, db *pgtest.Database, previous ...string) map[string]string {
	t.Helper()
	env := dbEnv(t, db)
	env["POSTGRES_ENCRYPTION_KEY"] = pgtest.Key
	if len(previous) > 0 {
		env["POSTGRES_ENCRYPTION_KEY_PREVIOUS"] = strings.Join(previous, ",")
	}
	return env
}

func keysID(t *testing.T, secret string) string {
	t.Helper()
	k, err := postgres.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID()
}

// keysUnder counts the values under each key.
func keysUnder(t *testing.T, core *postgres.DB) map[string]int64 {
	t.Helper()
	usage, err := core.KeyUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, u := range usage {
		counts[u.KeyID] += u.Values
	}
	return counts
}

// keysRequireNoSecret fails if o shows a key or a plaintext.
func keysRequireNoSecret(t *testing.T, o output) {
	t.Helper()
	for _, s := range []string{pgtest.Key, pgtest.OtherKey, keysThirdKey, "host-"} {
		if strings.Contains(o.stdout+o.stderr, s) {
			t.Errorf("the output shows %q:\n%s", s, o)
		}
	}
}

const keysThirdKey = "test-encryption-key-0123456789abcdef-unknown"

// TestRotateKeyKilledAndRunAgain rotates 10,000 values in 8 domains with a
// takaro process that is killed (SIGKILL) part way, then runs it again,
// while API reads and writes go on throughout.
func TestRotateKeyKilledAndRunAgain(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const domains, perDomain = 8, 1250
	servers := db.SeedGameServers(t, pgtest.OtherKey, domains, perDomain)
	keys, err := postgres.NewKeyring(pgtest.Key, pgtest.OtherKey)
	if err != nil {
		t.Fatal(err)
	}
	core := db.Open(t, postgres.Options{Keys: keys})
	newID, oldID := keysID(t, pgtest.Key), keysID(t, pgtest.OtherKey)
	env := keysEnv(t, db, pgtest.OtherKey)

	o := takaro(t, env, "db", "rotate-key", "-dry-run")
	requireExit(t, o, 0)
	requireContains(t, "dry run", o.stdout, newID+"  current   0       0", oldID+"  previous  10000   8",
		"a rotation would re-encrypt 10000 values", "nothing was changed")

	loadCtx, stopLoad := context.WithCancel(context.Background())
	var load *pgtest.LoadResult
	var wg sync.WaitGroup
	wg.Go(func() { load = pgtest.RunLoad(loadCtx, core, servers, 4, 2*time.Millisecond) })
	defer func() {
		stopLoad()
		wg.Wait()
	}()

	// The first run re-encrypts 100 values a batch and rests between
	// batches, so that it is surely still at work when it is killed.
	cmd, stdout, stderr := takaroProcess(t, env, "db", "rotate-key", "-batch-size", "100", "-pause", "10ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); keysUnder(t, core)[newID] < 2000; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rotation did not get going within a minute")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := waitOutput(t, cmd, stdout, stderr)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the first run was not killed; it ended:\n%s", killed)
	}
	// Without a terminal, progress goes to the log; the first line at once.
	requireContains(t, "the killed run's log", killed.stderr, "msg=progress", "what=re-encrypted", "done=0", "total=")
	after := keysUnder(t, core)
	if after[newID]+after[oldID] != domains*perDomain || after[oldID] == 0 {
		t.Fatalf("after the kill: %v; want %d values, some still under the old key %s", after, domains*perDomain, oldID)
	}

	// The second run reads the keys from files, as container secrets are
	// given; previous keys are one a line.
	dir := t.TempDir()
	files := maps.Clone(env)
	delete(files, "POSTGRES_ENCRYPTION_KEY")
	delete(files, "POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	for name, content := range map[string]string{"POSTGRES_ENCRYPTION_KEY": pgtest.Key + "\n", "POSTGRES_ENCRYPTION_KEY_PREVIOUS": "\n" + pgtest.OtherKey + "\n"} {
		files[name+"_FILE"] = filepath.Join(dir, name)
		if err := os.WriteFile(files[name+"_FILE"], []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o = takaroChild(t, files, "db", "rotate-key")
	requireExit(t, o, 0)
	requireContains(t, "second run", o.stdout, "values with the current key "+newID, "no value is left under a previous key")
	keysRequireNoSecret(t, o)
	stopLoad()
	wg.Wait()
	if load.Failed > 0 || load.Reads == 0 || load.Writes == 0 {
		t.Fatalf("API load during the rotation: %d reads, %d writes, %d failed: %v", load.Reads, load.Writes, load.Failed, load.Errors)
	}

	// Every value is there and reads with the new key alone.
	if total, readable := db.ReadableWith(t, pgtest.Key, pgtest.Domains(servers)); total != domains*perDomain || readable != total {
		t.Fatalf("%d of %d values read with the new key, want all %d", readable, total, domains*perDomain)
	}
	o = takaro(t, keysEnv(t, db), "db", "verify-encryption")
	requireExit(t, o, 0)
	requireContains(t, "verify-encryption", o.stdout, "checked 10000 encrypted values: every one decrypts")
}

// TestKeyCommandsReportKeysThatAreNotConfigured: a value under a key that
// is not configured makes the dry run, the rotation and the verification
// fail and name the key, and verify-encryption finds a corrupted value.
func TestKeyCommandsReportKeysThatAreNotConfigured(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	db.SeedGameServers(t, pgtest.OtherKey, 2, 5)
	current := db.SeedGameServers(t, pgtest.Key, 1, 3)
	unknown := db.SeedGameServers(t, keysThirdKey, 1, 2)
	corrupt := current[1]
	db.InDomain(t, corrupt.Domain, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE gameservers SET connection_info = set_byte(connection_info, 30,
			get_byte(connection_info, 30) # 255) WHERE domain = $1 AND id = $2`, corrupt.Domain, corrupt.ID)
		return err
	})
	env := keysEnv(t, db, pgtest.OtherKey)
	thirdID := keysID(t, keysThirdKey)
	core := db.Open(t, postgres.Options{})
	before := keysUnder(t, core)

	o := takaro(t, env, "db", "rotate-key", "-dry-run")
	requireExit(t, o, 1)
	requireContains(t, "dry run", o.stdout, thirdID+"  NOT CONFIGURED  2       1", "would re-encrypt 10 values")
	requireContains(t, "dry run", o.stderr, "key "+thirdID+" encrypts 2 value(s)", "domain "+unknown[0].Domain)

	o = takaro(t, env, "db", "rotate-key")
	requireExit(t, o, 1)
	requireContains(t, "rotate-key", o.stderr, "key "+thirdID+" encrypts 2 value(s)", "POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	if got := keysUnder(t, core); !maps.Equal(got, before) {
		t.Errorf("the refused rotation changed the keys of values: %v, was %v", got, before)
	}

	o = takaro(t, env, "db", "verify-encryption", "-batch-size", "2")
	requireExit(t, o, 1)
	requireContains(t, "verify-encryption", o.stdout,
		"domain "+unknown[0].Domain+": cannot decrypt the connection info of game server "+unknown[0].ID.String()+
			": it is encrypted with key "+thirdID+", which is not configured",
		"domain "+unknown[1].Domain+": cannot decrypt the connection info of game server "+unknown[1].ID.String(),
		"domain "+corrupt.Domain+": cannot decrypt the connection info of game server "+corrupt.ID.String()+
			" with key "+keysID(t, pgtest.Key)+": wrong key or corrupt data")
	requireContains(t, "verify-encryption", o.stderr, "3 of 15 encrypted values cannot be decrypted")
	keysRequireNoSecret(t, o)
}

func TestProgressMeter(t *testing.T) {
	t.Parallel()
	var term, log bytes.Buffer
	start := time.Now().Add(-2 * time.Second)
	onTerminal := &progressMeter{verb: "re-encrypted", terminal: &term, start: start}
	logged := &progressMeter{verb: "checked", log: slog.New(slog.NewTextHandler(&log, nil)), start: start}
	for _, m := range []*progressMeter{onTerminal, logged} {
		m.update(postgres.Progress{Done: 500, Total: 1000})
		m.update(postgres.Progress{Done: 600, Total: 1000}) // too soon after: not shown
		m.end()
	}
	// About 250 values/s after 2 s; the test may run a little later.
	want := "\r\x1b[Kre-encrypted 500 of 1000 values (50%), 2"
	if !strings.HasPrefix(term.String(), want) || !strings.Contains(term.String(), "\r\x1b[Kre-encrypted 600 of 1000 values (60%)") ||
		!strings.HasSuffix(term.String(), " left\n") || strings.Count(term.String(), "\r") != 2 {
		t.Errorf("terminal output %q, want two redraws of one line starting %q", term.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=progress what=checked done=500 total=1000 per_second=2") ||
		!strings.Contains(lines[1], "done=600") {
		t.Errorf("log output %q, want a line at the first update and one at the end", log.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "elapsed_ms=2") || !strings.Contains(l, "left_ms=") {
			t.Errorf("log line %q does not say the time taken and left", l)
		}
	}
}

// TestRotateKeyStopsOnInterrupt: Ctrl-C stops the rotation between
// batches, and the count it reports is exactly what was re-encrypted.
func TestRotateKeyStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	db.SeedGameServers(t, pgtest.OtherKey, 2, 1000)
	core := db.Open(t, postgres.Options{})
	newID := keysID(t, pgtest.Key)
	cmd, stdout, stderr := takaroProcess(t, keysEnv(t, db, pgtest.OtherKey), "db", "rotate-key", "-batch-size", "50", "-pause", "20ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); keysUnder(t, core)[newID] < 200; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rotation did not get going within a minute")
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	o := waitOutput(t, cmd, stdout, stderr)
	requireExit(t, o, 1)
	done := keysUnder(t, core)[newID]
	if done == 2000 {
		t.Fatalf("the rotation finished before the interrupt:\n%s", o)
	}
	requireContains(t, "interrupted run", o.stderr,
		"interrupted after re-encrypting "+strconv.FormatInt(done, 10)+" of 2000 values", "run takaro db rotate-key again to finish")
}

// TestRotateKeyOnTheEmbeddedDefault: values under the generated
// development key are rotated to a key given in the environment; the
// development key file then holds the new key and the old one, so that a
// plain takaro, with nothing configured, still reads every value.
func TestRotateKeyOnTheEmbeddedDefault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("creates a PostgreSQL cluster")
	}
	ctx := context.Background()
	dataDir := publicTempDir(t)
	plain := map[string]string{"TAKARO_DATA_DIR": dataDir}
	requireExit(t, takaro(t, plain, "db", "migrate"), 0)

	// A game server with connection info, under the generated key.
	data, err := testApp(t, plain).openDatabase(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	created, err := data.CreateDomain(ctx, core.DomainCreate{Name: "rotation"})
	if err != nil {
		t.Fatal(err)
	}
	asRoot := core.NewContext(ctx, core.Principal{Domain: created.CreatedDomain.ID, UserID: created.RootUser.ID})
	if _, err := data.CreateGameServer(asRoot, core.GameServerCreate{Name: "game server", Type: core.GameServerMock,
		ConnectionInfo: `{"host":"host-1","port":1}`}); err != nil {
		t.Fatal(err)
	}
	data.Close()
	keyFile := filepath.Join(dataDir, "secrets", "encryption-key")
	devKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	oldKey := strings.TrimSpace(string(devKey))

	rotating := maps.Clone(plain)
	rotating["POSTGRES_ENCRYPTION_KEY"] = pgtest.Key
	rotating["POSTGRES_ENCRYPTION_KEY_PREVIOUS"] = oldKey
	o := takaro(t, rotating, "db", "rotate-key")
	requireExit(t, o, 0)
	requireContains(t, "rotate-key", o.stdout, "re-encrypted 1 values")
	keysRequireNoSecret(t, o)
	if b, err := os.ReadFile(keyFile); err != nil || string(b) != pgtest.Key+"\n"+oldKey+"\n" {
		t.Fatalf("the development key file holds %d line(s) (%v); want the new key, then the old one", strings.Count(string(b), "\n"), err)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the development key file: %v, %v; want mode 0600", st.Mode(), err)
	}
	o = takaro(t, plain, "db", "verify-encryption")
	requireExit(t, o, 0)
	// The game server's connection info and the domain's registration token.
	requireContains(t, "verify-encryption with nothing configured", o.stdout, "checked 2 encrypted values: every one decrypts")
}
