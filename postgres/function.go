package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.FunctionService = (*DB)(nil)

var functionObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"code", "code"},
	{"name", "name"}, {"description", "description"}, {"versionId", "version_id"},
}

// functionOf embeds the function whose id is {t}.function_id.
var functionOf = `(SELECT ` + functionObject.build("fn") + ` FROM functions fn WHERE fn.domain = $1 AND fn.id = {t}.function_id)`

// functionVersion is the version a function belongs to: as one of the
// version's functions or as the code of one of its parts.
const functionVersion = "coalesce(t.version_id, t.owner_version_id)"

var functionSearch = &searchSpec{
	table:  "functions",
	object: functionObject,
	fields: withCommonFields(map[string]field{
		"name":      {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort, nullable: true},
		"versionId": {column: "t.version_id", kind: kindUUID, ops: opFilter},
		"moduleId":  {column: moduleOfVersion(functionVersion), kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{
		"version": `(SELECT ` + smallVersionObject.build("v") + ` FROM module_versions v
			WHERE v.domain = $1 AND v.id = ` + functionVersion + `)`,
		"command": `(SELECT ` + commandObject.build("c") + ` FROM commands c WHERE c.domain = $1 AND c.function_id = t.id)`,
		"hook":    `(SELECT ` + hookObject.build("h") + ` FROM hooks h WHERE h.domain = $1 AND h.function_id = t.id)`,
		"cronJob": `(SELECT ` + cronJobObject.build("cj") + ` FROM cron_jobs cj WHERE cj.domain = $1 AND cj.function_id = t.id)`,
	},
}

// moduleOfVersion is the module of the version whose id is the SQL
// expression version (over t).
func moduleOfVersion(version string) string {
	return "(SELECT mv.module_id FROM module_versions mv WHERE mv.domain = $1 AND mv.id = " + version + ")"
}

// CreateFunction creates a standalone function, or one of a latest
// version's functions.
func (db *DB) CreateFunction(ctx context.Context, in takaro.FunctionCreate) (*takaro.Function, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return writeRow[takaro.Function](ctx, db, "functions", functionObject, func(tx *Tx) (uuid.UUID, error) {
		if in.VersionID != nil {
			if err := lockEditableVersion(ctx, tx, *in.VersionID, "versionId"); err != nil {
				return uuid.Nil, err
			}
			if err := checkFunctionLimit(ctx, tx, *in.VersionID, 1); err != nil {
				return uuid.Nil, err
			}
		}
		return insertFunction(ctx, tx, in.VersionID, nil, in.Name, in.Description, in.Code)
	})
}

// FindFunctionByID returns a function.
func (db *DB) FindFunctionByID(ctx context.Context, id uuid.UUID) (*takaro.Function, error) {
	return findByID[takaro.Function](ctx, db, "functions", functionObject, id, "Function", "")
}

// FindFunctions searches functions.
func (db *DB) FindFunctions(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Function], error) {
	return search[takaro.Function](ctx, db, functionSearch, q)
}

// UpdateFunction changes a function of a latest version, or a standalone
// one.
func (db *DB) UpdateFunction(ctx context.Context, id uuid.UUID, upd takaro.FunctionUpdate) (*takaro.Function, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	return writeRow[takaro.Function](ctx, db, "functions", functionObject, func(tx *Tx) (uuid.UUID, error) {
		if err := lockFunctionVersion(ctx, tx, id); err != nil {
			return uuid.Nil, err
		}
		_, err := tx.Exec(ctx, `UPDATE functions SET code = coalesce($3, code), name = coalesce($4, name),
			description = coalesce($5, description) WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Code, upd.Name, upd.Description)
		return id, translateError(err, "function")
	})
}

// DeleteFunction deletes a function; the command, hook or cron job whose
// code it is goes with it.
func (db *DB) DeleteFunction(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := lockFunctionVersion(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM functions WHERE domain = $1 AND id = $2", tx.Domain, id)
		return err
	})
}

// lockFunctionVersion checks that function id exists and may change, and
// locks its version (if it has one) for the change.
func lockFunctionVersion(ctx context.Context, tx *Tx, id uuid.UUID) error {
	var version *uuid.UUID
	err := tx.QueryRow(ctx, "SELECT "+functionVersion+" FROM functions t WHERE t.domain = $1 AND t.id = $2", tx.Domain, id).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.NotFound("Function", id)
	}
	if err != nil || version == nil {
		return err
	}
	return lockEditableVersion(ctx, tx, *version, "")
}

// insertFunction stores code: one of a version's functions (version),
// the code of a part of a version (owner), or a standalone function.
func insertFunction(ctx context.Context, tx *Tx, version, owner *uuid.UUID, name, description, code *string) (uuid.UUID, error) {
	text := takaro.DefaultFunctionCode
	if code != nil {
		text = *code
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO functions (domain, version_id, owner_version_id, name, description, code)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, tx.Domain, version, owner, name, description, text).Scan(&id)
	return id, translateError(err, "function")
}

// readRow reads one row of table as object into out, inside tx.
func readRow(ctx context.Context, tx *Tx, table string, object jsonFields, id uuid.UUID, out any) error {
	return tx.QueryRow(ctx, "SELECT "+object.build("t")+" FROM "+table+" t WHERE t.domain = $1 AND t.id = $2", tx.Domain, id).Scan(out)
}
