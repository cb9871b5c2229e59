package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Key rotation re-encrypts, with the current key, every value that a
// previous key encrypted, while the API keeps reading and writing.
//
// Its state lives in the data alone: each value names its key, so a value
// is either still under a previous key or done. A run that dies (crash,
// SIGKILL, Ctrl-C) leaves committed batches done and the rest untouched;
// the next run counts what is left and carries on. Nothing is written
// anywhere else, so there is nothing to clean up or resume from.
//
// The work goes domain by domain (row-level security shows a transaction
// only the rows of the domain it is bound to) in batches, each one short
// transaction and one statement that picks, decrypts and re-encrypts its
// rows inside PostgreSQL: keys travel as bind parameters, plaintext never
// leaves the server.

// DefaultBatchSize is how many values a batch re-encrypts or checks. A
// decryption plus an encryption with this package's S2K settings costs
// about 0.1 ms of database CPU (see crypto.go), so a batch holds its
// row locks for some 50 ms: API writes to those rows wait at most that
// long, and a rotation of a million values takes about a hundred seconds
// of CPU split into 2,000 transactions.
const DefaultBatchSize = 500

// lockedRetryDelay is how long rotation waits before retrying rows that it
// skipped because API transactions held them; those commit in milliseconds.
const lockedRetryDelay = 20 * time.Millisecond

// RotateOptions tune a key rotation.
type RotateOptions struct {
	// BatchSize is the number of values per transaction; zero means
	// DefaultBatchSize.
	BatchSize int
	// Pause is a rest between batches, to leave room for other load.
	Pause time.Duration
	// Progress, when set, is called before the first batch and after every
	// batch.
	Progress func(Progress)
}

// RotateKeys re-encrypts with the current key every value that a previous
// key encrypted, in every domain, and returns how far it got. It stops
// before changing anything, with a *KeyNotConfiguredError, when a value's
// key is not configured: such a value can be neither read nor rotated, and
// skipping it would hide it.
//
// Cancelling ctx stops the run between batches (the batch under way
// commits) and returns ctx's error; running it again finishes the job.
func (db *DB) RotateKeys(ctx context.Context, opts RotateOptions) (Progress, error) {
	keys, usage, err := db.startRun(ctx, &opts.BatchSize)
	if err != nil {
		return Progress{}, err
	}
	if missing := notConfigured(usage, keys.IDs()); len(missing) > 0 {
		return Progress{}, &KeyNotConfiguredError{Usage: missing}
	}
	var old []KeyUsage
	var p Progress
	for _, u := range usage {
		if u.KeyID != keys.Current().ID() {
			old = append(old, u)
			p.Total += u.Values
		}
	}
	r := &rotation{db: db, keys: keys, opts: opts, progress: p}
	r.report()
	for _, d := range domainsOf(old) {
		if err := r.domain(ctx, d); err != nil {
			return r.progress, err
		}
	}
	return r.progress, nil
}

// rotation is one run of RotateKeys.
type rotation struct {
	db       *DB
	keys     *Keyring
	opts     RotateOptions
	progress Progress
}

func (r *rotation) report() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.progress)
	}
}

// domain re-encrypts the values of one domain until none is left under a
// previous key. Each pass walks the domain in id order, a batch at a time;
// a batch starts after the last row the previous one picked, so a pass
// reads each row once however large the domain. Rows that a pass skipped
// because API transactions held them are taken by the next pass.
func (r *rotation) domain(ctx context.Context, domain string) error {
	for _, c := range encryptedColumns {
		for {
			if err := r.pass(ctx, domain, c); err != nil {
				return err
			}
			left, err := r.left(ctx, domain, c)
			if err != nil || !left {
				return err
			}
			if err := sleep(ctx, max(r.opts.Pause, lockedRetryDelay)); err != nil {
				return err
			}
		}
	}
	return nil
}

// pass makes one pass over the values of c in domain.
func (r *rotation) pass(ctx context.Context, domain string, c encryptedColumn) error {
	for from := uuid.Nil; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A batch already sent finishes and commits even when ctx is
		// cancelled meanwhile: it is short, and stopping between batches
		// keeps the progress report exact.
		b, err := r.batch(context.WithoutCancel(ctx), domain, c, from)
		if err != nil {
			return fmt.Errorf("re-encrypt the %s values of domain %s: %w", c.resource, domain, err)
		}
		r.progress.Done += b.rotated
		r.report()
		if b.picked < int64(r.opts.BatchSize) || b.last == nil {
			return nil // the end of the domain
		}
		var more bool
		if from, more = nextUUID(*b.last); !more {
			return nil
		}
		if err := sleep(ctx, r.opts.Pause); err != nil {
			return err
		}
	}
}

// batchResult is what one batch did: the rows it picked, the last of them
// in id order (nil for none), and how many of them it re-encrypted (fewer
// when the API rewrote some meanwhile).
type batchResult struct {
	picked, rotated int64
	last            *uuid.UUID
}

// batch re-encrypts up to BatchSize values of column c in domain, from id
// from on, in one transaction bound to the domain.
func (r *rotation) batch(ctx context.Context, domain string, c encryptedColumn, from uuid.UUID) (batchResult, error) {
	ids, secrets := r.keys.decryptParams()
	current := r.keys.Current()
	var b batchResult
	err := r.db.inExplicitDomain(ctx, domain, func(tx *Tx) error {
		// Re-encrypting is no change a client can see: updated_at stays.
		if _, err := tx.Exec(ctx, "SELECT takaro_set_local('takaro.reencrypting', 'on')"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, c.rotateSQL(), tx.Domain, r.opts.BatchSize, ids, secrets, current.secret, current.id, ids[1:], from).
			Scan(&b.rotated, &b.picked, &b.last)
	})
	return b, err
}

// rotateSQL re-encrypts a batch of values of c. Its parameters: $1 the
// domain, $2 the batch size, $3 and $4 every key's identifier and secret
// (decryptExpr picks each row's key by its identifier), $5 and $6 the
// current key's secret and identifier, $7 the previous keys' identifiers,
// $8 the lowest id to consider.
//
//   - Only values under a configured previous key are picked; RotateKeys
//     refuses to start when others exist, so decryptExpr never yields NULL
//     here (and if it did, the NOT NULL column would fail the batch rather
//     than lose the value).
//   - The batch follows the primary key (domain, id) from $8, so it reads
//     about as many rows as it picks, and FOR NO KEY UPDATE SKIP LOCKED
//     takes rows that no API transaction holds, without waiting: rotation
//     never waits on a row lock and cannot deadlock. NO KEY UPDATE, unlike
//     FOR UPDATE, does not block inserts elsewhere whose foreign keys
//     point at these rows.
//   - id = ANY(ARRAY(...)) makes the UPDATE fetch the picked rows by the
//     primary key, instead of a join the planner may turn into a scan of
//     the whole domain.
//   - The UPDATE's key identifier condition is checked again on the newest
//     version of each row (READ COMMITTED re-evaluates a row updated
//     concurrently): a value the API rewrote meanwhile already carries the
//     current key and is left alone.
func (c encryptedColumn) rotateSQL() string {
	return "WITH batch AS (SELECT s.id FROM " + c.table + " s " +
		"WHERE s.domain = $1 AND s.id >= $8 AND s." + c.keyID + " = ANY($7::text[]) " +
		"ORDER BY s.id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED), " +
		"rotated AS (UPDATE " + c.table + " AS t SET " +
		c.column + " = " + encryptExpr(decryptExpr("t."+c.column, "t."+c.keyID, "$3", "$4"), "$5") + ", " +
		c.keyID + " = $6 " +
		"WHERE t.domain = $1 AND t.id = ANY(ARRAY(SELECT id FROM batch)) AND t." + c.keyID + " = ANY($7::text[]) RETURNING 1) " +
		"SELECT (SELECT count(*) FROM rotated), (SELECT count(*) FROM batch), (SELECT id FROM batch ORDER BY id DESC LIMIT 1)"
}

// left reports whether values of c in domain are still under a previous
// key, and fails when some are under a key that is not configured (written
// since the run started by a process with other keys).
func (r *rotation) left(ctx context.Context, domain string, c encryptedColumn) (bool, error) {
	usage, err := r.db.keyUsageIn(ctx, domain)
	if err != nil {
		return false, err
	}
	var old []KeyUsage
	for _, u := range usage {
		if u.Resource == c.resource && u.KeyID != r.keys.Current().ID() {
			old = append(old, u)
		}
	}
	if missing := notConfigured(old, r.keys.IDs()); len(missing) > 0 {
		return false, &KeyNotConfiguredError{Usage: missing}
	}
	return len(old) > 0, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
