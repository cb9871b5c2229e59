package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Test-only access to the tenancy primitives, so tests can prove what a
// query that forgot its domain filter would see.

func (db *DB) InDomainForTest(ctx context.Context, fn func(*Tx) error) error { return db.inDomain(ctx, fn) }

func (db *DB) InSystemForTest(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.inSystem(ctx, fn)
}

func (db *DB) EnsureExtensionForTest(ctx context.Context, name string) error {
	return db.ensureExtension(ctx, name)
}
