package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// This file holds what key rotation (rotate.go), verification (verify.go)
// and the doctor (doctor.go) share: the list of encrypted columns, the
// walk over the domains, and the count of values per key.

// encryptedColumn is a column of a tenant table holding pgcrypto
// ciphertext, next to the column naming the key that encrypted each value.
// Rotation, verification and the doctor cover exactly these columns, so a
// new encrypted column must be added here.
type encryptedColumn struct {
	table    string // a tenant table keyed by (domain, id)
	column   string // the ciphertext
	keyID    string // the identifier of the key that encrypted it
	resource string // how reports name a row's value, as DecryptError does
}

var encryptedColumns = []encryptedColumn{
	{table: "gameservers", column: "connection_info", keyID: "connection_info_key_id", resource: "connection info of game server"},
	{table: "registration_tokens", column: "token", keyID: "token_key_id", resource: "server-registration token"},
}

// domainIDs lists every domain, in a stable order.
func (db *DB) domainIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
		b.Queue("SELECT id FROM domains ORDER BY id").Query(func(rows pgx.Rows) error {
			var err error
			ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
	})
	return ids, err
}

// KeyUsage is how many values of one kind in one domain are encrypted with
// one key.
type KeyUsage struct {
	Domain   string
	Resource string // for example "connection info of game server"
	KeyID    string
	Values   int64
}

// KeyUsage counts the encrypted values of every domain by resource and
// key identifier. It reads identifiers only: no key is needed or sent.
func (db *DB) KeyUsage(ctx context.Context) ([]KeyUsage, error) {
	domains, err := db.domainIDs(ctx)
	if err != nil {
		return nil, err
	}
	var usage []KeyUsage
	for _, d := range domains {
		u, err := db.keyUsageIn(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("domain %s: %w", d, err)
		}
		usage = append(usage, u...)
	}
	return usage, nil
}

// keyUsageIn counts the encrypted values of one domain, in one round trip.
func (db *DB) keyUsageIn(ctx context.Context, domain string) ([]KeyUsage, error) {
	var usage []KeyUsage
	err := db.readInExplicitDomain(ctx, domain, func(b *pgx.Batch, domain string) {
		for _, c := range encryptedColumns {
			b.Queue("SELECT "+c.keyID+", count(*) FROM "+c.table+" WHERE domain = $1 GROUP BY 1 ORDER BY 1", domain).
				Query(func(rows pgx.Rows) error {
					u, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (KeyUsage, error) {
						k := KeyUsage{Domain: domain, Resource: c.resource}
						return k, row.Scan(&k.KeyID, &k.Values)
					})
					usage = append(usage, u...)
					return err
				})
		}
	})
	return usage, err
}

// notConfigured returns the usages whose key is not among ids.
func notConfigured(usage []KeyUsage, ids []string) []KeyUsage {
	var out []KeyUsage
	for _, u := range usage {
		if !slices.Contains(ids, u.KeyID) {
			out = append(out, u)
		}
	}
	return out
}

// KeyNotConfiguredError says that values are encrypted with keys that are
// not configured, so they cannot be read, re-encrypted or verified. It
// names the key identifiers and where the values are.
type KeyNotConfiguredError struct {
	Usage []KeyUsage // the values under each missing key
}

func (e *KeyNotConfiguredError) Error() string {
	var b strings.Builder
	b.WriteString("encrypted values use keys that are not configured:")
	for _, id := range e.KeyIDs() {
		var values int64
		var where []string
		for _, u := range e.Usage {
			if u.KeyID == id {
				values += u.Values
				where = append(where, fmt.Sprintf("%d %s in domain %s", u.Values, u.Resource, u.Domain))
			}
		}
		if len(where) > 3 {
			where = append(where[:3], fmt.Sprintf("and %d more domains", len(where)-3))
		}
		fmt.Fprintf(&b, " key %s encrypts %d value(s) (%s);", id, values, strings.Join(where, ", "))
	}
	b.WriteString(" add each of these keys to POSTGRES_ENCRYPTION_KEY_PREVIOUS")
	return b.String()
}

// KeyIDs returns the identifiers of the missing keys, sorted.
func (e *KeyNotConfiguredError) KeyIDs() []string {
	var ids []string
	for _, u := range e.Usage {
		ids = append(ids, u.KeyID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// startRun prepares a run over every encrypted value: it returns the
// keyring and the values counted now, and sets a batch size left at zero
// to DefaultBatchSize.
func (db *DB) startRun(ctx context.Context, batchSize *int) (*Keyring, []KeyUsage, error) {
	keys, err := db.keyring()
	if err != nil {
		return nil, nil, err
	}
	if *batchSize <= 0 {
		*batchSize = DefaultBatchSize
	}
	usage, err := db.KeyUsage(ctx)
	return keys, usage, err
}

// Progress is how far a run over every encrypted value has come.
type Progress struct {
	Done  int64 // values processed so far
	Total int64 // values to process, counted when the run started
}

// nextUUID returns the UUID that follows u in PostgreSQL's order (which
// compares the 16 bytes as an unsigned big-endian number), and false when
// u is the last one. Starting each page at the successor of the previous
// page's last id visits every row once, the nil UUID included.
func nextUUID(u uuid.UUID) (uuid.UUID, bool) {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]++
		if u[i] != 0 {
			return u, true
		}
	}
	return u, false
}
