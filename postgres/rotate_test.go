package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// encThirdKey is a valid key that the tests' data core is never given.
const encThirdKey = "test-encryption-key-0123456789abcdef-unknown"

func encKeyring(t testing.TB, current string, previous ...string) *postgres.Keyring {
	t.Helper()
	keys, err := postgres.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func encKeyID(t testing.TB, secret string) string {
	t.Helper()
	return encKeyring(t, secret).Current().ID()
}

// encStored reads a game server's stored ciphertext.
func encStored(t testing.TB, db *pgtest.Database, s pgtest.SeededServer) []byte {
	t.Helper()
	var raw []byte
	db.InDomain(t, s.Domain, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT connection_info FROM gameservers WHERE domain = $1 AND id = $2", s.Domain, s.ID).Scan(&raw)
	})
	return raw
}

// encRequireLoadSucceeded fails on any failed operation of the load, or
// when it did not both read and write.
func encRequireLoadSucceeded(t testing.TB, res *pgtest.LoadResult) {
	t.Helper()
	if res.Failed > 0 {
		t.Fatalf("%d of %d API operations failed during the rotation, for example: %v", res.Failed, res.Reads+res.Writes, res.Errors)
	}
	if res.Reads == 0 || res.Writes == 0 {
		t.Fatalf("the load made %d reads and %d writes; want both", res.Reads, res.Writes)
	}
}

func TestRotateKeysUnderLoadInterruptedAndResumed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const domains, perDomain = 4, 500
	servers := db.SeedGameServers(t, pgtest.OtherKey, domains, perDomain)
	// A domain whose value is under the current key already: left alone.
	current := db.SeedGameServers(t, pgtest.Key, 1, 1)[0]
	before := encStored(t, db, current)

	core := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key, pgtest.OtherKey)})
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var load *pgtest.LoadResult
	var wg sync.WaitGroup
	wg.Go(func() { load = pgtest.RunLoad(loadCtx, core, servers, 4, time.Millisecond) })

	// Interrupt the first run part way, as Ctrl-C does.
	ctx, cancel := context.WithCancel(context.Background())
	var seen []postgres.Progress
	first, err := core.RotateKeys(ctx, postgres.RotateOptions{BatchSize: 50, Progress: func(p postgres.Progress) {
		seen = append(seen, p)
		if p.Done >= 600 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	// The load may have rewritten a few values before the run counted.
	if first.Total > domains*perDomain || first.Total < domains*perDomain-200 || first.Done < 600 || first.Done >= first.Total {
		t.Fatalf("interrupted run: %+v, want at least 600 of about %d done and not all", first, domains*perDomain)
	}
	if seen[0] != (postgres.Progress{Total: first.Total}) || seen[len(seen)-1] != first ||
		!slices.IsSortedFunc(seen, func(a, b postgres.Progress) int { return int(a.Done - b.Done) }) {
		t.Errorf("progress reports %v, want 0 first, rising to %+v", seen, first)
	}
	if total, readable := db.ReadableWith(t, pgtest.Key, pgtest.Domains(servers)); total != domains*perDomain || readable < int(first.Done) {
		t.Fatalf("after the interruption %d of %d values are under the new key, want at least %d", readable, total, first.Done)
	}

	// Running it again finishes the job.
	second, err := core.RotateKeys(context.Background(), postgres.RotateOptions{BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if second.Done == 0 || second.Done > second.Total || second.Total > first.Total-first.Done {
		t.Errorf("second run: %+v after %+v", second, first)
	}
	stopLoad()
	wg.Wait()
	encRequireLoadSucceeded(t, load)

	if total, readable := db.ReadableWith(t, pgtest.Key, pgtest.Domains(servers)); total != domains*perDomain || readable != total {
		t.Fatalf("%d of %d values read with the new key alone, want all %d", readable, total, domains*perDomain)
	}
	if !bytes.Equal(encStored(t, db, current), before) {
		t.Error("a value already under the current key was re-encrypted")
	}
	// Nothing is left to do.
	if third, err := core.RotateKeys(context.Background(), postgres.RotateOptions{}); err != nil || third != (postgres.Progress{}) {
		t.Errorf("third run: %+v, %v; want nothing to do", third, err)
	}
}

func TestRotateKeysStopsAtAKeyThatIsNotConfigured(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	old := db.SeedGameServers(t, pgtest.OtherKey, 2, 20)
	unknown := db.SeedGameServers(t, encThirdKey, 1, 3)
	core := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key, pgtest.OtherKey)})

	_, err := core.RotateKeys(context.Background(), postgres.RotateOptions{})
	missing, ok := errors.AsType[*postgres.KeyNotConfiguredError](err)
	if !ok {
		t.Fatalf("got %v, want a *KeyNotConfiguredError", err)
	}
	thirdID := encKeyID(t, encThirdKey)
	if !slices.Equal(missing.KeyIDs(), []string{thirdID}) {
		t.Errorf("missing keys %v, want [%s]", missing.KeyIDs(), thirdID)
	}
	encWantError(t, err, "key "+thirdID+" encrypts 3 value(s)", "domain "+unknown[0].Domain, "POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	if strings.Contains(err.Error(), encThirdKey) {
		t.Error("the error shows the key")
	}
	// It stopped before changing anything.
	if _, readable := db.ReadableWith(t, pgtest.Key, pgtest.Domains(old)); readable != 0 {
		t.Errorf("%d values were re-encrypted", readable)
	}
}

func TestKeyUsage(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	old := db.SeedGameServers(t, pgtest.OtherKey, 2, 3)
	cur := db.SeedGameServers(t, pgtest.Key, 1, 2)
	// A domain without game servers has no usage.
	if _, err := db.Pool(t).Exec(context.Background(), "INSERT INTO domains (id, name) VALUES ('empty-domain', 'empty')"); err != nil {
		t.Fatal(err)
	}
	usage, err := db.Open(t, postgres.Options{}).KeyUsage(context.Background()) // no key needed
	if err != nil {
		t.Fatal(err)
	}
	const resource = "connection info of game server"
	want := []postgres.KeyUsage{
		{Domain: old[0].Domain, Resource: resource, KeyID: encKeyID(t, pgtest.OtherKey), Values: 3},
		{Domain: old[3].Domain, Resource: resource, KeyID: encKeyID(t, pgtest.OtherKey), Values: 3},
		{Domain: cur[0].Domain, Resource: resource, KeyID: encKeyID(t, pgtest.Key), Values: 2},
	}
	slices.SortFunc(want, func(a, b postgres.KeyUsage) int { return strings.Compare(a.Domain, b.Domain) })
	if !slices.Equal(usage, want) {
		t.Errorf("usage %+v, want %+v", usage, want)
	}
}

// During a rotation the API reads values under a previous key, and names
// the key of a value whose key is not configured.
func TestRotateKeysPreviousAndMissingKeysOnRead(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s := db.SeedGameServers(t, pgtest.OtherKey, 1, 1)[0]
	ctx := takaro.NewContext(context.Background(), takaro.Principal{Domain: s.Domain})
	if _, err := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key, pgtest.OtherKey)}).FindGameServerByID(ctx, s.ID, true); err != nil {
		t.Errorf("read under the previous key: %v", err)
	}
	_, err := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key)}).FindGameServerByID(ctx, s.ID, true)
	decErr, ok := errors.AsType[*postgres.DecryptError](err)
	if !ok || !decErr.Missing || decErr.KeyID != encKeyID(t, pgtest.OtherKey) {
		t.Fatalf("read without the previous key: %v, want a DecryptError naming key %s as missing", err, encKeyID(t, pgtest.OtherKey))
	}
	encWantError(t, err, encKeyID(t, pgtest.OtherKey), "not configured")
}
