package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// Migrations returns the schema migrations compiled into the binary.
func Migrations() fs.FS {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// versionTable is goose's bookkeeping table, one of the global tables.
const versionTable = "goose_db_version"

// Migrator applies and rolls back versioned migrations with goose. Every
// migration runs in its own transaction, so a failing one leaves the schema
// as it was before it. Runs hold goose's PostgreSQL advisory lock: when
// several instances boot at once, one applies each migration and the others
// wait for it, then find nothing left to do.
type Migrator struct {
	provider *goose.Provider
	sqlDB    *sql.DB
	known    map[int64]bool
	// runLock serialises whole runs of Up and UpTo (see upExclusively).
	runLock lock.SessionLocker
}

// runLockID is the advisory lock of a whole Up or UpTo run. It must differ
// from goose's own lock, which the run takes inside it.
const runLockID = 0x74616b61726f // "takaro"

// MigrationResult is one migration applied or rolled back.
type MigrationResult struct {
	Version  int64
	Name     string
	Duration time.Duration
}

// MigrationStatus is the state of one known migration.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationError says which migration failed and why; the migrations before
// it in the same run were applied.
type MigrationError struct {
	Applied []MigrationResult
	Failed  string
	Err     error
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("migration %s failed and was rolled back, so the schema is as it was before it: %v", e.Failed, e.Err)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// NewMigrator prepares the migrations in fsys (Migrations() in production)
// for db. Close releases it.
func NewMigrator(db *DB, fsys fs.FS) (*Migrator, error) {
	// Poll for the lock every second for up to ten minutes: the migrations
	// of another instance may legitimately take that long.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, err
	}
	// The migrator has its own connections, in UTC: goose records when a
	// migration was applied in a timestamp without time zone that defaults
	// to now(), i.e. in the session's time zone, and reads it back as UTC.
	connConfig := db.pool.Config().ConnConfig // a copy
	if connConfig.RuntimeParams == nil {
		connConfig.RuntimeParams = map[string]string{}
	}
	connConfig.RuntimeParams["timezone"] = "UTC"
	sqlDB := stdlib.OpenDB(*connConfig)
	sqlDB.SetMaxOpenConns(4)
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	known := make(map[int64]bool)
	for _, s := range provider.ListSources() {
		known[s.Version] = true
	}
	runLock, err := lock.NewPostgresSessionLocker(lock.WithLockID(runLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return &Migrator{provider: provider, sqlDB: sqlDB, known: known, runLock: runLock}, nil
}

// Close closes the migrator's own connections (not the data core's pool).
func (m *Migrator) Close() error { return m.sqlDB.Close() }

// Up applies every pending migration in order and returns them; none means
// the schema was already up to date.
func (m *Migrator) Up(ctx context.Context) ([]MigrationResult, error) {
	return m.upExclusively(ctx, m.provider.Up)
}

// UpTo applies the pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]MigrationResult, error) {
	return m.upExclusively(ctx, func(ctx context.Context) ([]*goose.MigrationResult, error) {
		return m.provider.UpTo(ctx, version)
	})
}

// upExclusively runs up under runLock. goose's Up and UpTo first ask
// whether anything is pending without taking goose's lock, and on a fresh
// database that step creates goose's version table: instances booting at
// once would race to create it (the losers fail and retry, and the winner
// may find its identity sequence's name taken and get a different one).
// runLock makes the whole run, that step included, one instance at a time;
// goose's lock, taken inside, still guards the migrations themselves. Like
// goose's, it is polled, so that a waiting instance blocks no migration
// (CREATE INDEX CONCURRENTLY waits for every open transaction).
func (m *Migrator) upExclusively(ctx context.Context, up func(context.Context) ([]*goose.MigrationResult, error)) ([]MigrationResult, error) {
	conn, err := m.sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if err := m.runLock.SessionLock(ctx, conn); err != nil {
		return nil, fmt.Errorf("migrate: wait for other instances: %w", err)
	}
	defer func() { _ = m.runLock.SessionUnlock(context.WithoutCancel(ctx), conn) }()
	if err := m.checkUnknown(ctx); err != nil {
		return nil, err
	}
	return upResults(up(ctx))
}

// upResults converts what goose's Up and UpTo return. A migration that
// failed is reported as a *MigrationError naming its file, with the ones
// applied before it.
func upResults(results []*goose.MigrationResult, err error) ([]MigrationResult, error) {
	if partial, ok := errors.AsType[*goose.PartialError](err); ok {
		return nil, &MigrationError{Applied: convertResults(partial.Applied), Failed: filepath.Base(partial.Failed.Source.Path), Err: partial.Err}
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return convertResults(results), nil
}

// Rollback rolls back the latest applied migration and returns it, or nil
// when none is applied.
func (m *Migrator) Rollback(ctx context.Context) (*MigrationResult, error) {
	if err := m.checkUnknown(ctx); err != nil {
		return nil, err
	}
	result, err := m.provider.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return nil, nil
	}
	if partial, ok := errors.AsType[*goose.PartialError](err); ok {
		return nil, &MigrationError{Failed: filepath.Base(partial.Failed.Source.Path), Err: partial.Err}
	}
	if err != nil {
		return nil, fmt.Errorf("roll back: %w", err)
	}
	r := convertResults([]*goose.MigrationResult{result})[0]
	return &r, nil
}

// Status lists every known migration with whether (and when) it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := m.checkUnknown(ctx); err != nil {
		return nil, err
	}
	states, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(states))
	for _, s := range states {
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Name:      filepath.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// CheckCurrent returns an error unless every known migration is applied and
// the database records none that this binary does not know.
func (m *Migrator) CheckCurrent(ctx context.Context) error {
	states, err := m.Status(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, s := range states {
		if !s.Applied {
			pending = append(pending, s.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is not up to date: %d migration(s) pending (%s); run `takaro db migrate`",
			len(pending), strings.Join(pending, ", "))
	}
	return nil
}

// checkUnknown refuses to work on a database that records a migration this
// binary does not have, typically one applied by a newer release: running
// older code against a newer schema, or rolling back without the newer
// migration's down step, would be guesswork.
func (m *Migrator) checkUnknown(ctx context.Context) error {
	var exists bool
	if err := m.sqlDB.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", versionTable).Scan(&exists); err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	if !exists {
		return nil
	}
	rows, err := m.sqlDB.QueryContext(ctx, "SELECT DISTINCT version_id FROM "+versionTable+" WHERE version_id > 0 AND is_applied ORDER BY 1")
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var unknown []string
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if !m.known[v] {
			unknown = append(unknown, strconv.FormatInt(v, 10))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the database records migration version(s) %s, which this binary does not know; "+
			"it was migrated by a newer release of takaro: use that release (or a newer one)", strings.Join(unknown, ", "))
	}
	return nil
}

func convertResults(in []*goose.MigrationResult) []MigrationResult {
	out := make([]MigrationResult, 0, len(in))
	for _, r := range in {
		out = append(out, MigrationResult{Version: r.Source.Version, Name: filepath.Base(r.Source.Path), Duration: r.Duration})
	}
	return out
}

var (
	// migrationFileName matches every file goose takes for a SQL migration:
	// a version number, an underscore, anything, ".sql".
	migrationFileName = regexp.MustCompile(`^(\d+)_.*\.sql$`)
	migrationSlug     = regexp.MustCompile(`[^a-z0-9]+`)
	migrationLetter   = regexp.MustCompile(`[a-z]`)
)

// maxMigrationSlug keeps file names well below file systems' limits.
const maxMigrationSlug = 80

// ErrInvalidMigrationName is returned by CreateMigration for a name it
// cannot make a file name of.
var ErrInvalidMigrationName = errors.New("the migration name must contain a letter (a-z), for example add_bans")

// migrationTemplate is the skeleton of a new migration.
const migrationTemplate = `-- %s

-- Rules for tenant tables (see README "Schema rules" and "Citus"): a
-- domain column (text NOT NULL) first in every key and in every reference
-- to another tenant table. Create the table WITHOUT inline REFERENCES,
-- then isolate it (row-level security; in a distributed database it is
-- also distributed by domain), then add every foreign key:
--   CREATE TABLE <table> (domain text NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), ...,
--       PRIMARY KEY (domain, id));
--   SELECT takaro_isolate_tenant_table('<table>');
--   ALTER TABLE <table> ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
--   ALTER TABLE <table> ADD FOREIGN KEY (domain, x_id) REFERENCES x (domain, id) ON DELETE CASCADE;
-- No ON DELETE SET NULL on a key that includes domain (Citus refuses it).
--
-- Migrations run as the tables' owner, and FORCE ROW LEVEL SECURITY hides
-- every tenant row from it: an UPDATE or INSERT ... SELECT on a tenant
-- table changes nothing, and a foreign key added to one is not checked
-- against its rows. Around such statements, lift it for the owner:
--   ALTER TABLE <table> NO FORCE ROW LEVEL SECURITY;
--   ...
--   ALTER TABLE <table> FORCE ROW LEVEL SECURITY;

-- +goose Up

-- +goose Down
`

// CreateMigration writes a new, empty migration named after name into dir,
// numbered one above the highest existing one, and returns its path.
func CreateMigration(dir, name string) (string, error) {
	slug := strings.Trim(migrationSlug.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(slug) > maxMigrationSlug {
		slug = strings.TrimRight(slug[:maxMigrationSlug], "_")
	}
	if !migrationLetter.MatchString(slug) {
		return "", ErrInvalidMigrationName
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read the migrations directory: %w", err)
	}
	var versions []int64
	for _, e := range entries {
		if m := migrationFileName.FindStringSubmatch(e.Name()); m != nil && !e.IsDir() {
			v, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				return "", fmt.Errorf("migration %s: version out of range", e.Name())
			}
			versions = append(versions, v)
		}
	}
	next := int64(1)
	if len(versions) > 0 {
		next = slices.Max(versions) + 1
	}
	path := filepath.Join(dir, fmt.Sprintf("%05d_%s.sql", next, slug))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := fmt.Fprintf(f, migrationTemplate, strings.Join(strings.Fields(name), " ")); err != nil {
		_ = f.Close()
		return "", err
	}
	return path, f.Close()
}
