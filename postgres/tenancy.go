package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

// setDomainSQL binds the current transaction to a domain with
// takaro_set_local (migration 00110), which sets takaro.domain with SET
// LOCAL: the setting ends with the transaction, so nothing stays on a
// pooled connection and it is safe behind PgBouncer in transaction mode.
// The row-level security policy of every tenant table compares its domain
// column with this setting and fails closed when it is unset or empty.
// On Citus, a SET LOCAL reaches the shards only inside an explicit
// transaction block (set_config never does), so every binding is sent
// after a BEGIN, in the same round trip.
const setDomainSQL = "SELECT takaro_set_local('takaro.domain', $1)"

// limitSQL puts the statements of the current transaction under the
// statement timeout (Options.StatementTimeout). It is set per transaction,
// pipelined with its first statements, rather than as a connection
// parameter (statement_timeout in the startup packet): PgBouncer refuses
// startup parameters it does not track, and in transaction mode a
// session-level SET would stay on a server connection that other clients
// then share. A transaction-local setting ends with its transaction on
// any pooler, and costs no round trip.
const limitSQL = "SELECT set_config('statement_timeout', $1, true)"

// bindSQL is setDomainSQL and limitSQL in one statement, for the units of
// work of a domain.
const bindSQL = "SELECT takaro_set_local('takaro.domain', $1), set_config('statement_timeout', $2, true)"

// Tx is a transaction bound to one domain. PostgreSQL shows it only that
// domain's rows and refuses writes of any other domain's rows; the queries
// run in it must still filter by Domain themselves.
type Tx struct {
	pgx.Tx
	// Domain is the id of the domain the transaction is bound to.
	Domain string
}

// inDomain runs fn in a transaction bound to the domain of the principal
// in ctx: the path of every request.
func (db *DB) inDomain(ctx context.Context, fn func(*Tx) error) error {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return err
	}
	return db.inExplicitDomain(ctx, p.Domain, fn)
}

// inExplicitDomain runs fn in a transaction bound to domain. It commits
// when fn returns nil and rolls back otherwise; BEGIN and the binding
// travel together in one round trip. It is inDomain for work that is not
// a request (key rotation visiting the domains in turn): the caller names
// the domain instead of pretending to be a user of it.
func (db *DB) inExplicitDomain(ctx context.Context, domain string, fn func(*Tx) error) error {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(bindSQL, domain, db.statementTimeout)
	br := db.pool.SendBatch(ctx, b)
	if err := br.Close(); err != nil {
		if tx := br.Tx(); tx != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		return db.unavailable(fmt.Errorf("begin transaction: %w", err))
	}
	return db.unavailable(db.runTx(ctx, br.Tx(), func(tx pgx.Tx) error { return fn(&Tx{Tx: tx, Domain: domain}) }))
}

// readInDomain sends the statements that queue adds to b, in a
// transaction block bound to the principal's domain, in one round trip:
// the read path of every request.
func (db *DB) readInDomain(ctx context.Context, queue func(b *pgx.Batch, domain string)) error {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return err
	}
	return db.readInExplicitDomain(ctx, p.Domain, queue)
}

// readInExplicitDomain sends the statements that queue adds to b between
// a BEGIN with the binding to domain and a COMMIT, in one round trip: the
// binding ends with them (and, on Citus, reaches the shards, which it
// does only in an explicit transaction block). queue receives the domain for the statements' own filters; results are
// read through the queued queries' callbacks. Like inExplicitDomain, it is
// for work that is not a request.
func (db *DB) readInExplicitDomain(ctx context.Context, domain string, queue func(b *pgx.Batch, domain string)) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(bindSQL, domain, db.statementTimeout)
	queue(b, domain)
	b.Queue("COMMIT")
	return db.unavailable(db.sendInBlock(ctx, b))
}

// sendInBlock sends b, which opens a transaction block and closes it, in
// one round trip. When a statement fails the block is left aborted; it is
// rolled back here, so the connection returns to the pool clean.
func (db *DB) sendInBlock(ctx context.Context, b *pgx.Batch) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	err = conn.SendBatch(ctx, b).Close()
	if conn.Conn().PgConn().TxStatus() != 'I' {
		if _, rbErr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			return errors.Join(err, rbErr)
		}
	}
	return err
}

// readGlobal is readInDomain for the global tables: the statements run in
// one round trip, bound to no domain (tenant tables look empty to them).
func (db *DB) readGlobal(ctx context.Context, queue func(b *pgx.Batch, domain string)) error {
	b := &pgx.Batch{}
	b.Queue(limitSQL, db.statementTimeout)
	queue(b, "")
	return db.unavailable(db.pool.SendBatch(ctx, b).Close())
}

// inSystem runs fn in a transaction bound to no domain: the explicit path
// for system-wide work on the global tables (domains, the permission
// catalogue). Tenant tables look empty to it and refuse its writes;
// work on a domain's rows goes through bindDomain.
func (db *DB) inSystem(ctx context.Context, fn func(pgx.Tx) error) error {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(limitSQL, db.statementTimeout)
	br := db.pool.SendBatch(ctx, b)
	if err := br.Close(); err != nil {
		if tx := br.Tx(); tx != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		return db.unavailable(fmt.Errorf("begin transaction: %w", err))
	}
	return db.unavailable(db.runTx(ctx, br.Tx(), fn))
}

// bindDomain binds a system transaction to domain from now on, for work
// that creates a domain and its first rows atomically. The caller must
// have established that acting on domain is allowed.
func bindDomain(ctx context.Context, tx pgx.Tx, domain string) (*Tx, error) {
	if !takaro.ValidDomainID(domain) {
		return nil, fmt.Errorf("bind transaction: invalid domain id %q", domain)
	}
	if _, err := tx.Exec(ctx, setDomainSQL, domain); err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, Domain: domain}, nil
}

// runTx runs fn and commits, or rolls back when fn fails. The rollback
// uses a context that survives the caller's cancellation. Before the
// commit it announces the identity changes that Citus shards relayed.
func (db *DB) runTx(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	db.identities.takeRelayed(tx.Conn().PgConn()) // left by an earlier use of the connection
	err := fn(tx)
	if err == nil {
		err = db.relayIdentityChanges(ctx, tx)
	}
	if err != nil {
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return tx.Commit(ctx)
}
