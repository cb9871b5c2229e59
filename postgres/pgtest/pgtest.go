// Package pgtest gives every test its own PostgreSQL database, cloned from
// a template database that has every migration applied, so tests can run
// in parallel against a real server and never see each other's rows.
//
// The server is the one TEST_DATABASE_URL points at (its role must be able
// to create roles and databases), or else a private cluster started with
// the same embedded mechanism the takaro binary uses, in
// $TAKARO_TEST_DATA_DIR or <takaro data dir>/test-postgres, so
// `go test ./...` needs nothing started by hand. Tests connect as the role takaro_test,
// which is neither a superuser nor exempt from row-level security, exactly
// like the application's own role.
//
// A test's database is dropped when the test passes and kept, with its
// connection string logged, when it fails.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestRole is the role tests connect as. It owns every test database.
const TestRole = "takaro_test"

// testRolePassword only matters on a TCP server given by TEST_DATABASE_URL.
const testRolePassword = "takaro_test"

// Test encryption keys: Key is current, OtherKey is a second valid key.
const (
	Key      = "test-encryption-key-0123456789abcdef-current"
	OtherKey = "test-encryption-key-0123456789abcdef-previous"
)

// Database is one test's private database.
type Database struct {
	Name string
	// ConnString connects as TestRole.
	ConnString string
}

type server struct {
	admin      *pgxpool.Pool
	citus      *citusNodes // nil on plain PostgreSQL
	connString func(role, password, database string) string
	embedded   bool
	template   string
}

var (
	setupOnce sync.Once
	srv       *server
	setupErr  error
	counter   atomic.Int64
)

// New returns a new database with every migration applied, for t only.
func New(t testing.TB) *Database {
	t.Helper()
	s := get(t)
	return s.create(t, fmt.Sprintf("TEMPLATE %s OWNER %s", s.template, TestRole))
}

// NewEmpty returns a new database with no schema and no pgcrypto. When
// ownedByTestRole is false it belongs to the server's admin role, so that
// TestRole may connect to it but may not create anything in it.
func NewEmpty(t testing.TB, ownedByTestRole bool) *Database {
	t.Helper()
	s := get(t)
	owner := TestRole
	if !ownedByTestRole {
		if err := s.admin.QueryRow(context.Background(), "SELECT current_user").Scan(&owner); err != nil {
			t.Fatal(err)
		}
	}
	return s.create(t, "TEMPLATE template0 OWNER "+pgx.Identifier{owner}.Sanitize())
}

// Admin returns a pool connected as the server's admin role, for tests
// that must change what only a superuser can (server settings, roles).
func Admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return get(t).admin
}

// ConnStringAs returns a connection string for db as another role.
func (db *Database) ConnStringAs(t testing.TB, role, password string) string {
	t.Helper()
	return get(t).connString(role, password, db.Name)
}

// Config returns a pool configuration for the database, made as the
// command makes its own (so with the same query exec mode).
func (db *Database) Config(t testing.TB) *pgxpool.Config {
	t.Helper()
	cfg, err := postgres.ConnConfig{URL: db.ConnString}.PoolConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Pool returns a raw pool on the database as TestRole, closed when t ends.
func (db *Database) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), db.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Open returns the data core on the database with opts, closed when t ends.
// Unless opts say otherwise it uses Key and the lowest bcrypt cost, which
// keeps hashing tests fast.
func (db *Database) Open(t testing.TB, opts postgres.Options) *postgres.DB {
	t.Helper()
	if opts.Keys == nil {
		keys, err := postgres.NewKeyring(Key)
		if err != nil {
			t.Fatal(err)
		}
		opts.Keys = keys
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = 4
	}
	d, err := postgres.Open(context.Background(), db.Config(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func get(t testing.TB) *server {
	t.Helper()
	setupOnce.Do(func() { srv, setupErr = setup(context.Background()) })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return srv
}

func (s *server) create(t testing.TB, clause string) *Database {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("takaro_t_%d_%d", os.Getpid(), counter.Add(1))
	create := s.admin.Exec
	if strings.HasPrefix(clause, "TEMPLATE "+s.template+" ") {
		// A copy of the template exists on every node of a Citus cluster.
		create = func(ctx context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
			return pgconn.CommandTag{}, s.onEveryNode(ctx, sql)
		}
	}
	if _, err := create(ctx, "CREATE DATABASE "+name+" "+clause); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	db := &Database{Name: name, ConnString: s.connString(TestRole, testRolePassword, name)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: kept the database of this failed test: %s", db.ConnString)
			return
		}
		if err := s.onEveryNode(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return db
}

func setup(ctx context.Context) (*server, error) {
	s, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// testDataDir is where the harness keeps the clusters it starts.
func testDataDir() (string, error) {
	if dir := os.Getenv("TAKARO_TEST_DATA_DIR"); dir != "" {
		return dir, nil
	}
	base, err := embedded.DefaultBaseDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "test-postgres"), nil
}

// connect reaches the server the environment names (see the package
// comment and citus.go), starting it when it is the harness's own.
func connect(ctx context.Context) (*server, error) {
	if url := os.Getenv("TEST_CITUS_URL"); url != "" {
		return citusFromURL(ctx, url)
	}
	if citusRequested() {
		dir, err := testDataDir()
		if err != nil {
			return nil, err
		}
		return startCitus(ctx, dir)
	}
	s := &server{}
	adminURL := os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		dir, err := testDataDir()
		if err != nil {
			return nil, err
		}
		// A throwaway cluster: durability buys nothing and costs seconds.
		cluster, err := embedded.Ensure(ctx, embedded.Options{Dir: dir, Settings: map[string]string{
			"fsync":              "off",
			"synchronous_commit": "off",
			"full_page_writes":   "off",
			"max_connections":    "300",
		}})
		if err != nil {
			return nil, err
		}
		adminURL = cluster.ConnString(embedded.Superuser, "postgres")
		s.embedded = true
		s.connString = func(role, _, database string) string { return cluster.ConnString(role, database) }
	} else {
		cfg, err := pgconn.ParseConfig(adminURL)
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		s.connString = func(role, password, database string) string {
			return fmt.Sprintf("host='%s' port=%d user='%s' password='%s' dbname='%s'", cfg.Host, cfg.Port, role, password, database)
		}
	}
	admin, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	s.admin = admin
	return s, nil
}

// prepare creates the test role and the template database unless they
// exist. Test binaries of several packages run at once, so it holds an
// advisory lock while it checks and creates.
func (s *server) prepare(ctx context.Context) error {
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('takaro pgtest setup'))"); err != nil {
		return err
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('takaro pgtest setup'))")
	}()

	if err := s.ensureRole(ctx); err != nil {
		return err
	}
	hash, err := migrationsHash()
	if err != nil {
		return err
	}
	s.template = "takaro_tpl_" + hash
	if s.embedded {
		for _, p := range s.pools() {
			dropAbandoned(ctx, p)
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Build under a temporary name and rename when complete, so a run that
	// dies half-way never leaves a template that looks finished.
	building := s.template + "_building"
	if err := s.onEveryNode(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return err
	}
	if err := s.onEveryNode(ctx, "CREATE DATABASE "+building+" TEMPLATE template0 OWNER "+TestRole); err != nil {
		return err
	}
	if s.citus != nil {
		if err := s.installCitus(ctx, building); err != nil {
			return err
		}
	}
	if err := migrate(ctx, s.connString(TestRole, testRolePassword, building), s.citus != nil); err != nil {
		return fmt.Errorf("migrate the template database: %w", err)
	}
	if s.citus != nil {
		return s.sealTemplate(ctx, building, s.template)
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+s.template)
	return err
}

// migrate prepares a database the way the binary's boot does, and on
// Citus distributes it the way `takaro db distribute` does.
func migrate(ctx context.Context, connString string, distribute bool) error {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg, postgres.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.EnsurePgcrypto(ctx); err != nil {
		return err
	}
	m, err := postgres.NewMigrator(db, postgres.Migrations())
	if err != nil {
		return err
	}
	defer func() { _ = m.Close() }()
	if _, err = m.Up(ctx); err != nil || !distribute {
		return err
	}
	_, err = db.Distribute(ctx)
	return err
}

// dropAbandoned drops the databases of test processes that no longer run
// (kept because a test failed, or left by a killed run). Templates of
// older migration sets are left alone: a test binary built from other
// sources may still be cloning them.
func dropAbandoned(ctx context.Context, conn *pgxpool.Pool) {
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'takaro\\_t\\_%'")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, "takaro_t_"), "%d_", &pid); err != nil {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		}
	}
}

// migrationsHash identifies the migration set, so a changed migration gets
// a new template rather than a stale one.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(postgres.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(postgres.Migrations(), path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}
