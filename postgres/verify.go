package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Verification decrypts every encrypted value with the configured keys and
// reports each that fails, without stopping at the first. pgp_sym_decrypt
// raises an error for a value it cannot decrypt, which would abort the
// whole statement; takaro_pgp_sym_decrypts (migration 00006) catches that
// error for one value and answers false instead, so a batch stays one
// statement. It answers only true or false: no plaintext leaves the
// server, and no ciphertext is read by this package.

// sqlstateUndefinedFunction is raised when migration 00006 is missing.
const sqlstateUndefinedFunction = "42883"

// VerifyOptions tune a verification.
type VerifyOptions struct {
	// BatchSize is the number of values checked per statement; zero means
	// DefaultBatchSize.
	BatchSize int
	// Progress, when set, is called before the first batch and after every
	// batch.
	Progress func(Progress)
	// Failure, when set, is called for every value that cannot be
	// decrypted, as it is found.
	Failure func(*EncryptionFailure)
}

// EncryptionFailure is an encrypted value that cannot be decrypted: its
// key is not configured, or the key does not fit (wrong key or corrupt
// data). It names the domain, the row and the key identifier only.
type EncryptionFailure struct {
	Domain string
	DecryptError
}

func (f *EncryptionFailure) Error() string {
	return "domain " + f.Domain + ": " + f.DecryptError.Error()
}

// VerifyResult counts the values a verification checked and those that
// failed.
type VerifyResult struct {
	Checked, Failed int64
}

// VerifyEncryption tries to decrypt every encrypted value of every domain
// with the configured keys, reporting each failure through
// opts.Failure. Reads only: it changes nothing and takes no row locks.
func (db *DB) VerifyEncryption(ctx context.Context, opts VerifyOptions) (VerifyResult, error) {
	keys, usage, err := db.startRun(ctx, &opts.BatchSize)
	if err != nil {
		return VerifyResult{}, err
	}
	var p Progress
	for _, u := range usage {
		p.Total += u.Values
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	report()
	var res VerifyResult
	for _, d := range domainsOf(usage) {
		for _, c := range encryptedColumns {
			for after := uuid.Nil; ; {
				if err := ctx.Err(); err != nil {
					return res, err
				}
				failures, n, last, err := db.verifyBatch(ctx, keys, d, c, after, opts.BatchSize)
				if pgErr := asPgError(err); pgErr != nil && pgErr.Code == sqlstateUndefinedFunction {
					return res, fmt.Errorf("the database lacks takaro_pgp_sym_decrypts: run takaro db migrate (%w)", err)
				}
				if err != nil {
					return res, fmt.Errorf("check the %s values of domain %s: %w", c.resource, d, err)
				}
				for _, f := range failures {
					res.Failed++
					if opts.Failure != nil {
						opts.Failure(f)
					}
				}
				res.Checked += n
				p.Done += n
				report()
				var more bool
				if after, more = nextUUID(last); n < int64(opts.BatchSize) || !more {
					break
				}
			}
		}
	}
	return res, nil
}

// domainsOf lists the domains of usage, in their order there.
func domainsOf(usage []KeyUsage) []string {
	var domains []string
	for _, u := range usage {
		if len(domains) == 0 || domains[len(domains)-1] != u.Domain {
			domains = append(domains, u.Domain)
		}
	}
	return domains
}

// verifyBatch checks the values of c in domain whose id is at least from,
// in id order, up to limit of them. It returns the failures, how many
// values it checked and the last id it saw.
func (db *DB) verifyBatch(ctx context.Context, keys *Keyring, domain string, c encryptedColumn,
	from uuid.UUID, limit int) (failures []*EncryptionFailure, n int64, last uuid.UUID, err error) {
	ids, secrets := keys.decryptParams()
	err = db.readInExplicitDomain(ctx, domain, func(b *pgx.Batch, domain string) {
		b.Queue(c.verifySQL(), domain, ids, secrets, from, limit).Query(func(rows pgx.Rows) error {
			var keyID string
			var ok *bool
			_, err := pgx.ForEachRow(rows, []any{&last, &keyID, &ok}, func() error {
				n++
				if ok == nil || !*ok {
					failures = append(failures, &EncryptionFailure{Domain: domain, DecryptError: DecryptError{
						Resource: c.resource, ID: last.String(), KeyID: keyID, Missing: ok == nil,
					}})
				}
				return nil
			})
			return err
		})
	})
	return failures, n, last, err
}

// verifySQL checks a page of values of c: $1 the domain, $2 and $3 every
// key's identifier and secret, $4 the lowest id, $5 the page size. Its
// third column is true when the value decrypts, false when the key does
// not fit, and NULL when the value's key is not configured (keyExpr
// yields NULL and the function is strict). Pages follow the primary key
// (domain, id), so each is an index range scan.
func (c encryptedColumn) verifySQL() string {
	return "SELECT t.id, t." + c.keyID + ", takaro_pgp_sym_decrypts(t." + c.column + ", " + keyExpr("t."+c.keyID, "$2", "$3") + ") " +
		"FROM " + c.table + " t WHERE t.domain = $1 AND t.id >= $4 ORDER BY t.id LIMIT $5"
}
