package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gotakaro/takaro"
)

// Test-only access to the tenancy primitives, so tests can prove what a
// query that forgot its domain filter would see.

func (db *DB) InDomainForTest(ctx context.Context, fn func(*Tx) error) error {
	return db.inDomain(ctx, fn)
}

func (db *DB) EnsureExtensionForTest(ctx context.Context, name string) error {
	return db.ensureExtension(ctx, name)
}

// ConstraintFieldNamesForTest returns the constraint names that
// translateError knows, so a test can check that each one exists.
func ConstraintFieldNamesForTest() []string {
	return sortedKeys(constraintFields)
}

// HashForTest runs hashExpr on secret with the configured bcrypt cost.
func (db *DB) HashForTest(ctx context.Context, secret string) (string, error) {
	var hash string
	err := db.pool.QueryRow(ctx, "SELECT "+hashExpr("$1", "$2"), secret, db.bcryptCost).Scan(&hash)
	return hash, err
}

// VerifyForTest runs verifyExpr on secret against hash; NULL reads as false.
func (db *DB) VerifyForTest(ctx context.Context, secret, hash string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, "SELECT coalesce("+verifyExpr("$1", "$2::text")+", false)", secret, hash).Scan(&ok)
	return ok, err
}

// SearchRawForTest runs the search of a resource (by table name) and
// returns each row's json object as it leaves PostgreSQL, extensions
// included.
func (db *DB) SearchRawForTest(ctx context.Context, table string, q takaro.Query) (*takaro.Page[json.RawMessage], error) {
	for _, spec := range searchSpecs {
		if spec.table == table {
			return search[json.RawMessage](ctx, db, spec, q)
		}
	}
	return nil, fmt.Errorf("no search spec for table %q", table)
}

// RelationSQLForTest returns, by "table.extend.name" and
// "table.filters.name", the SQL of every embeddable relation and of every
// filter on a related table, so a test can check that each joins on the
// row's domain.
func RelationSQLForTest() map[string]string {
	out := map[string]string{}
	for _, spec := range searchSpecs {
		for name, sql := range spec.extend {
			if sql != "" {
				out[spec.table+".extend."+name] = sql
			}
		}
		for name, f := range spec.fields {
			// A filter that reads only the row's own columns joins nothing.
			if strings.Contains(f.filterSQL, "SELECT") {
				out[spec.table+".filters."+name] = f.filterSQL
			}
		}
	}
	return out
}
