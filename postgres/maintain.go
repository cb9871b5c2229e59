package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Maintenance removes what has outlived its use: events older than their
// domain's eventRetentionDays, expired variables and role assignments,
// sessions and API keys some time after they expired or were revoked, and
// game servers some time after they were soft-deleted, with everything
// that hangs off them.
//
// Every deletion is a short transaction bound to one domain that removes
// at most BatchSize rows picked by an index, followed by a pause, so the
// API's writes never wait long behind it and the WAL grows evenly. Its
// only state is the data: a run that is killed leaves whole batches done,
// and the next run carries on from what is left. Running it twice removes
// nothing more than running it once.

// Defaults of MaintainOptions.
const (
	DefaultMaintainBatchSize = 1000
	DefaultMaintainPause     = 10 * time.Millisecond
	// DefaultCredentialGrace keeps expired or revoked sessions and API keys
	// for a week, so a client that presents one gets the precise answer
	// (expired, revoked) and the audit trail can still name them.
	DefaultCredentialGrace = 7 * 24 * time.Hour
	// DefaultGameServerGrace keeps a soft-deleted game server for a week.
	DefaultGameServerGrace = 7 * 24 * time.Hour
)

// MaintainOptions tune a maintenance pass.
type MaintainOptions struct {
	// BatchSize is the most rows one transaction deletes; zero means
	// DefaultMaintainBatchSize.
	BatchSize int
	// Pause is the rest between two batches; zero means DefaultMaintainPause.
	Pause time.Duration
	// CredentialGrace and GameServerGrace: zero means the defaults.
	CredentialGrace, GameServerGrace time.Duration
	// DryRun counts what a pass would remove and removes nothing.
	DryRun bool
	// Removed, when set, is called after each batch (or, in a dry run,
	// once per table and domain with the count) with what went.
	Removed func(table, domain string, rows int64)
}

func (o *MaintainOptions) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultMaintainBatchSize
	}
	if o.Pause <= 0 {
		o.Pause = DefaultMaintainPause
	}
	if o.CredentialGrace <= 0 {
		o.CredentialGrace = DefaultCredentialGrace
	}
	if o.GameServerGrace <= 0 {
		o.GameServerGrace = DefaultGameServerGrace
	}
}

// Removal is how many rows of a table a pass removed in one domain (or, in
// a dry run, would remove). A dropped partition has no domain: it held the
// rows of every domain, and Rows is PostgreSQL's estimate of their number.
type Removal struct {
	Table     string
	Domain    string
	Rows      int64
	Partition string
}

// retentionRule selects, in one domain, rows that have outlived their use.
// Its condition reads the domain as $1 and the cut-off time as $2; an index
// leading with domain serves it.
type retentionRule struct {
	table     string
	condition string
	// cutoff is the time before which a row has expired, for one domain
	// at the start of the pass; ok false skips the domain.
	cutoff func(d maintainedDomain, now time.Time, o MaintainOptions) (t time.Time, ok bool)
}

var retentionRules = []retentionRule{
	{table: "events", condition: "created_at < $2", cutoff: afterEventRetention},
	// Location history follows the events' retention, as in the reference.
	{table: "player_location", condition: "created_at < $2", cutoff: afterEventRetention},
	{table: "variables", condition: "expires_at < $2", cutoff: atNow},
	{table: "role_on_user", condition: "expires_at < $2", cutoff: atNow},
	{table: "role_on_player", condition: "expires_at < $2", cutoff: atNow},
	{table: "sessions", condition: "(expires_at < $2 OR revoked_at < $2)", cutoff: afterCredentialGrace},
	{table: "api_keys", condition: "(expires_at < $2 OR revoked_at < $2)", cutoff: afterCredentialGrace},
}

// afterEventRetention is the domain's eventRetentionDays before now. 0 days
// means the domain keeps its history: a retention of nothing at all would
// delete each event as it is written.
func afterEventRetention(d maintainedDomain, now time.Time, _ MaintainOptions) (time.Time, bool) {
	return now.AddDate(0, 0, -d.eventRetentionDays), d.eventRetentionDays > 0
}

func atNow(_ maintainedDomain, now time.Time, _ MaintainOptions) (time.Time, bool) { return now, true }

func afterCredentialGrace(_ maintainedDomain, now time.Time, o MaintainOptions) (time.Time, bool) {
	return now.Add(-o.CredentialGrace), true
}

type maintainedDomain struct {
	id                 string
	eventRetentionDays int
}

// Maintain runs one maintenance pass over every domain and returns what it
// removed (in a dry run: what it would remove), by table and domain, in
// the order it went. Cancelling ctx stops it between batches.
func (db *DB) Maintain(ctx context.Context, opts MaintainOptions) ([]Removal, error) {
	opts.defaults()
	var domains []maintainedDomain
	var now time.Time
	err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
		b.Queue("SELECT now()").QueryRow(func(row pgx.Row) error { return row.Scan(&now) })
		b.Queue("SELECT id, event_retention_days FROM domains ORDER BY id").Query(func(rows pgx.Rows) error {
			var err error
			domains, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (maintainedDomain, error) {
				var d maintainedDomain
				err := row.Scan(&d.id, &d.eventRetentionDays)
				return d, err
			})
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("maintenance: list domains: %w", err)
	}
	m := &maintenance{db: db, opts: opts}
	if !opts.DryRun {
		if err := db.ensurePartitions(ctx, partitionsAhead); err != nil {
			return nil, fmt.Errorf("maintenance: %w", err)
		}
	}
	if cutoff, ok := historyKeptFrom(domains, now); ok {
		if err := m.dropPartitionsBefore(ctx, cutoff); err != nil {
			return m.removed, err
		}
	}
	for _, d := range domains {
		for _, rule := range retentionRules {
			cutoff, ok := rule.cutoff(d, now, opts)
			if !ok {
				continue
			}
			if err := m.remove(ctx, d.id, rule.table, rule.condition, cutoff); err != nil {
				return m.removed, err
			}
		}
		if err := m.purgeGameServers(ctx, d.id, now.Add(-opts.GameServerGrace)); err != nil {
			return m.removed, err
		}
	}
	return m.removed, nil
}

// maintenance is one pass of Maintain.
type maintenance struct {
	db      *DB
	opts    MaintainOptions
	removed []Removal
}

// remove deletes the rows of table in domain that match condition, batch
// by batch, until none is left. In a dry run it counts them instead.
func (m *maintenance) remove(ctx context.Context, domain, table, condition string, args ...any) error {
	args = append([]any{domain}, args...)
	from := fmt.Sprintf("%s WHERE domain = $1 AND %s", pgx.Identifier{table}.Sanitize(), condition)
	if m.opts.DryRun {
		var n int64
		err := m.db.inExplicitDomain(ctx, domain, func(tx *Tx) error {
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+from, args...).Scan(&n)
		})
		if err == nil && n > 0 {
			m.note(table, domain, n)
		}
		return err
	}
	// The batch is picked by ctid in the same statement, on the same
	// index that the condition uses, so each batch is one short index
	// range and the table needs no particular key. A ctid is unique only
	// within one partition, so the condition is repeated around it: a row
	// of another partition at the same ctid is deleted only if it is due.
	del := fmt.Sprintf("DELETE FROM %s AND ctid = ANY (ARRAY(SELECT ctid FROM %s LIMIT $%d))", from, from, len(args)+1)
	args = append(args, m.opts.BatchSize)
	for {
		var n int64
		err := m.db.inExplicitDomain(ctx, domain, func(tx *Tx) error {
			tag, err := tx.Exec(ctx, del, args...)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("maintenance: %s of domain %s: %w", table, domain, err)
		}
		if n > 0 {
			m.note(table, domain, n)
		}
		if n < int64(m.opts.BatchSize) {
			return nil
		}
		if err := sleep(ctx, m.opts.Pause); err != nil {
			return err
		}
	}
}

// purgeGameServers removes the game servers of domain that were
// soft-deleted before cutoff. The rows that refer to a server go first,
// table by table in batches, so that the final delete of the server row
// cascades to nothing large and holds its locks briefly however many rows
// the server had gathered.
func (m *maintenance) purgeGameServers(ctx context.Context, domain string, cutoff time.Time) error {
	var ids []uuid.UUID
	var refs []gameServerReference
	err := m.db.inExplicitDomain(ctx, domain, func(tx *Tx) error {
		rows, err := tx.Query(ctx, "SELECT id FROM gameservers WHERE domain = $1 AND deleted_at < $2 ORDER BY id", domain, cutoff)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil || len(ids) == 0 {
			return err
		}
		refs, err = gameServerReferences(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("maintenance: soft-deleted game servers of domain %s: %w", domain, err)
	}
	for _, id := range ids {
		for _, ref := range refs {
			if err := m.remove(ctx, domain, ref.table, pgx.Identifier{ref.column}.Sanitize()+" = $2", id); err != nil {
				return err
			}
		}
		if err := m.remove(ctx, domain, "gameservers", "id = $2 AND deleted_at IS NOT NULL", id); err != nil {
			return err
		}
	}
	return nil
}

// gameServerReference is a column of a tenant table that refers to a game
// server through a foreign key (domain, column) → gameservers (domain, id).
type gameServerReference struct{ table, column string }

// gameServerReferences reads the referring columns from the catalog, so a
// table that a later migration adds is purged without being listed here.
func gameServerReferences(ctx context.Context, tx pgx.Tx) ([]gameServerReference, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.conrelid::regclass::text, a.attname
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[2]
		WHERE c.contype = 'f' AND c.confrelid = 'gameservers'::regclass AND cardinality(c.conkey) = 2
		  AND c.conparentid = 0 -- a partition's copy of its parent's key: the parent covers it
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (gameServerReference, error) {
		var r gameServerReference
		err := row.Scan(&r.table, &r.column)
		return r, err
	})
	if err == nil && len(refs) == 0 {
		err = errors.New("no table refers to gameservers: the schema is not what this binary expects")
	}
	return refs, err
}

func (m *maintenance) note(table, domain string, n int64) {
	if k := len(m.removed) - 1; k >= 0 && m.removed[k].Table == table && m.removed[k].Domain == domain {
		m.removed[k].Rows += n
	} else {
		m.removed = append(m.removed, Removal{Table: table, Domain: domain, Rows: n})
	}
	if m.opts.Removed != nil {
		m.opts.Removed(table, domain, n)
	}
}

// maintenanceLockKey is the session-level advisory lock that makes one
// instance at a time the maintenance runner.
const maintenanceLockKey = "takaro maintenance"

// RunMaintenance runs a maintenance pass every interval, on one instance
// at a time, until ctx ends. Each instance tries to take a session-level
// advisory lock on a connection of its own, outside the pool; the one that
// holds it runs the passes, and the others try again every interval. When
// the holder dies its connection closes, PostgreSQL releases the lock, and
// another instance takes over at its next try. done, when set, is called
// after every pass this instance runs.
//
// The lock needs a real session: behind PgBouncer in transaction mode the
// dedicated connection must reach PostgreSQL directly (see README).
func (db *DB) RunMaintenance(ctx context.Context, interval time.Duration, opts MaintainOptions, done func([]Removal, error)) {
	for {
		db.maintainWhileLeader(ctx, interval, opts, done)
		if sleep(ctx, interval) != nil {
			return
		}
	}
}

// maintainWhileLeader runs passes for as long as this instance holds the
// maintenance lock; it returns at once when another instance holds it.
func (db *DB) maintainWhileLeader(ctx context.Context, interval time.Duration, opts MaintainOptions, done func([]Removal, error)) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		if done != nil && ctx.Err() == nil {
			done(nil, fmt.Errorf("maintenance: connect for the runner lock: %w", err))
		}
		return
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var leader bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", maintenanceLockKey).Scan(&leader); err != nil || !leader {
		return
	}
	for {
		removed, err := db.Maintain(ctx, opts)
		if ctx.Err() != nil {
			return
		}
		if done != nil {
			done(removed, err)
		}
		if sleep(ctx, interval) != nil {
			return
		}
		// The lock lives as long as this connection: check that it does.
		if err := conn.Ping(ctx); err != nil {
			return
		}
	}
}

// historyKeptFrom is the oldest moment whose history some domain still
// keeps: older partitions hold nothing any domain wants. ok is false when
// a domain keeps its history forever, or there is no domain.
func historyKeptFrom(domains []maintainedDomain, now time.Time) (cutoff time.Time, ok bool) {
	for i, d := range domains {
		c, keeps := afterEventRetention(d, now, MaintainOptions{})
		if !keeps {
			return time.Time{}, false
		}
		if i == 0 || c.Before(cutoff) {
			cutoff = c
		}
	}
	return cutoff, len(domains) > 0
}

// dropPartitionsBefore drops the day partitions that end at or before
// cutoff. Dropping a partition takes a brief exclusive lock on its parent;
// a lock timeout keeps the drop from queueing in front of the API's writes
// behind a long reader, and the next pass tries again.
func (m *maintenance) dropPartitionsBefore(ctx context.Context, cutoff time.Time) error {
	type partition struct {
		parent, name string
		day          time.Time
		estimate     int64
	}
	var old []partition
	err := m.db.inSystem(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT p.relname::text, c.relname::text, greatest(c.reltuples, 0)::bigint
			FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
			WHERE p.relname = ANY($1) AND c.relname ~ '_[0-9]{8}$'
			ORDER BY 2`, partitionedTables)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p partition
			if err := rows.Scan(&p.parent, &p.name, &p.estimate); err != nil {
				return err
			}
			if p.day, err = time.Parse("20060102", p.name[len(p.name)-8:]); err != nil {
				return err
			}
			if !p.day.AddDate(0, 0, 1).After(cutoff) {
				old = append(old, p)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("maintenance: list partitions: %w", err)
	}
	for _, p := range old {
		if !m.opts.DryRun {
			err := m.db.inSystem(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{p.name}.Sanitize())
				return err
			})
			if pgErr := asPgError(err); pgErr != nil && pgErr.Code == sqlstateLockNotAvailable {
				continue
			}
			if err != nil {
				return fmt.Errorf("maintenance: drop partition %s: %w", p.name, err)
			}
		}
		m.removed = append(m.removed, Removal{Table: p.parent, Partition: p.name, Rows: p.estimate})
		if m.opts.Removed != nil {
			m.opts.Removed(p.parent, "", p.estimate)
		}
	}
	return nil
}
