package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNotCitus is returned by Distribute on a database without Citus.
var ErrNotCitus = errors.New("the database has no citus extension: distribute runs on a Citus coordinator " +
	"(CREATE EXTENSION citus in this database, and register the workers with citus_add_node)")

// DistributeResult says what Distribute changed; all empty when the
// database was already distributed.
type DistributeResult struct {
	// ReferenceTables are the global tables made Citus reference tables
	// (a copy on every node).
	ReferenceTables []string
	// DistributedTables are the tenant tables distributed by domain, in
	// the order they were distributed, all colocated.
	DistributedTables []string
}

// undistributedTablesSQL lists the tenant tables (those with a domain
// column, outside extensions, as the doctor defines them) of the current
// schema that Citus does not distribute yet, in name order. Partitions are
// left out: Citus distributes them with their parent.
const undistributedTablesSQL = `SELECT c.relname FROM pg_class c
	WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'domain' AND NOT a.attisdropped)
		AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid AND p.partmethod = 'h')
	ORDER BY c.relname COLLATE "C"`

// Distribute turns a migrated database on a Citus coordinator into the
// distributed layout: domains and permissions become reference tables, and
// every tenant table is distributed by domain, all colocated, so that one
// domain's rows of every table live together on one node and a request of
// one domain is routed to one shard. Citus distributes a table only before
// foreign keys to other tenant tables exist, so the keys of the tables it
// distributes are dropped first and added back afterwards. Tables already
// distributed are left alone: running it again changes nothing, and after
// it, takaro_isolate_tenant_table distributes the tables of later
// migrations by itself. Everything happens in one transaction.
func (db *DB) Distribute(ctx context.Context) (*DistributeResult, error) {
	res := &DistributeResult{}
	err := db.inSystem(ctx, func(tx pgx.Tx) error {
		var citus bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&citus); err != nil {
			return err
		}
		if !citus {
			return ErrNotCitus
		}
		// The updated_at triggers of domains and permissions run on the
		// nodes holding the rows; Citus asks for this setting to allow
		// triggers on its tables.
		if _, err := tx.Exec(ctx, "SET LOCAL citus.enable_unsafe_triggers = on"); err != nil {
			return err
		}
		// Keys to reference tables can be added in the transaction that
		// distributed their tables only over one connection per node.
		if _, err := tx.Exec(ctx, "SET LOCAL citus.multi_shard_modify_mode = 'sequential'"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, undistributedTablesSQL)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		// Citus copies the existing rows into the shards, reading them as
		// the owning role, and checks the keys added back against them:
		// forced row-level security would hide them all until the end.
		if err := forceRowLevelSecurity(ctx, tx, tables, "NO FORCE"); err != nil {
			return err
		}
		// Making domains a reference table would turn every table with a
		// key to it into a Citus local table: the keys go first.
		keys, err := dropForeignKeys(ctx, tx, tables)
		if err != nil {
			return err
		}
		for _, table := range []string{"domains", "permissions"} {
			var done bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)", table).Scan(&done); err != nil {
				return err
			}
			if done {
				continue
			}
			if _, err := tx.Exec(ctx, "SELECT create_reference_table($1)", table); err != nil {
				return fmt.Errorf("make %s a reference table: %w", table, err)
			}
			res.ReferenceTables = append(res.ReferenceTables, table)
		}
		if err := distributeTenantTables(ctx, tx, tables, res); err != nil {
			return err
		}
		if err := addForeignKeys(ctx, tx, keys); err != nil {
			return err
		}
		return forceRowLevelSecurity(ctx, tx, tables, "FORCE")
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// foreignKey is a foreign key of a table about to be distributed.
type foreignKey struct{ table, name, definition string }

// dropForeignKeys drops the foreign keys of tables and returns them.
func dropForeignKeys(ctx context.Context, tx pgx.Tx, tables []string) ([]foreignKey, error) {
	rows, err := tx.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND conrelid = ANY($1::regclass[]) ORDER BY conrelid::regclass::text, conname`, tables)
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (foreignKey, error) {
		var k foreignKey
		return k, row.Scan(&k.table, &k.name, &k.definition)
	})
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", k.table, pgx.Identifier{k.name}.Sanitize())); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// addForeignKeys adds back the keys that dropForeignKeys dropped.
func addForeignKeys(ctx context.Context, tx pgx.Tx, keys []foreignKey) error {
	for _, k := range keys {
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", k.table, pgx.Identifier{k.name}.Sanitize(), k.definition)); err != nil {
			return fmt.Errorf("add back foreign key %s of %s: %w", k.name, k.table, err)
		}
	}
	return nil
}

// forceRowLevelSecurity runs ALTER TABLE … FORCE (or NO FORCE) ROW LEVEL
// SECURITY on tables.
func forceRowLevelSecurity(ctx context.Context, tx pgx.Tx, tables []string, force string) error {
	for _, table := range tables {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" "+force+" ROW LEVEL SECURITY"); err != nil {
			return err
		}
	}
	return nil
}

// distributeTenantTables distributes tables by domain, colocated with the
// tenant tables already distributed, if any. Their foreign keys must
// have been dropped.
func distributeTenantTables(ctx context.Context, tx pgx.Tx, tables []string, res *DistributeResult) error {
	var colocate string
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT logicalrelid::text FROM pg_dist_partition WHERE partmethod = 'h'
		ORDER BY colocationid, logicalrelid::oid LIMIT 1), 'default')`).Scan(&colocate); err != nil {
		return err
	}
	for _, table := range tables {
		if _, err := tx.Exec(ctx, "SELECT create_distributed_table($1, 'domain', colocate_with => $2)", table, colocate); err != nil {
			return fmt.Errorf("distribute %s: %w", table, err)
		}
		if colocate == "default" {
			colocate = table
		}
		res.DistributedTables = append(res.DistributedTables, table)
	}
	return nil
}
