package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.ModuleService = (*DB)(nil)

var modulePermissionObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"permission", "code"},
	{"friendlyName", "friendly_name"}, {"description", "description"}, {"canHaveCount", "can_have_count"},
	{"moduleVersionId", "version_id"},
}

// listOf embeds, as a json array ordered by name, the rows of table (alias
// a) whose column key is {t}.id.
func listOf(object jsonFields, table, a, key, order string) string {
	return `(SELECT coalesce(json_agg(` + object.build(a) + ` ORDER BY ` + a + `.` + order + `, ` + a + `.id), '[]'::json)
		FROM ` + table + ` ` + a + ` WHERE ` + a + `.domain = $1 AND ` + a + `.` + key + ` = {t}.id)`
}

var versionObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"moduleId", "module_id"}, {"tag", "tag"},
	{"description", "description"}, {"configSchema", "config_schema"}, {"uiSchema", "ui_schema"},
	{"defaultSystemConfig", "default_system_config"},
	{"commands", listOf(commandObject, "commands", "c", "version_id", "name")},
	{"hooks", listOf(hookObject, "hooks", "h", "version_id", "name")},
	{"cronJobs", listOf(cronJobObject, "cron_jobs", "cj", "version_id", "name")},
	{"functions", listOf(functionObject, "functions", "f", "version_id", "name")},
	{"permissions", listOf(modulePermissionObject, "module_permissions", "mp", "version_id", "code")},
}

var smallVersionObject = jsonFields{{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"tag", "tag"}}

var moduleSummaryObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"}, {"builtin", "builtin"},
	{"author", "author"}, {"supportedGames", "supported_games"},
}

// partModule embeds, as extend "module" of a search of commands, hooks or
// cron jobs, the module of the version t.version_id.
var partModule = `(SELECT ` + moduleSummaryObject.build("pm") + ` FROM module_versions pv
	JOIN modules pm ON pm.domain = pv.domain AND pm.id = pv.module_id
	WHERE pv.domain = $1 AND pv.id = t.version_id)`

var moduleObject = append(moduleSummaryObject[:len(moduleSummaryObject):len(moduleSummaryObject)], jsonFields{
	{"latestVersion", `(SELECT ` + versionObject.build("lv") + ` FROM module_versions lv
		WHERE lv.domain = $1 AND lv.module_id = {t}.id AND lv.tag = '` + takaro.TagLatest + `')`},
	{"versions", listOf(smallVersionObject, "module_versions", "sv", "module_id", "created_at")},
}...)

var installationObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"gameserverId", "gameserver_id"},
	{"moduleId", "module_id"}, {"versionId", "version_id"}, {"userConfig", "user_config"}, {"systemConfig", "system_config"},
	{"version", `(SELECT ` + versionObject.build("iv") + ` FROM module_versions iv WHERE iv.domain = $1 AND iv.id = {t}.version_id)`},
	{"module", `(SELECT ` + moduleObject.build("im") + ` FROM modules im WHERE im.domain = $1 AND im.id = {t}.module_id)`},
}

var moduleSearch = &searchSpec{
	table:  "modules",
	object: moduleObject,
	fields: withCommonFields(map[string]field{
		"name":    {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"builtin": {column: "t.builtin", kind: kindText, ops: opFilter},
		"author":  {column: "t.author", kind: kindText, ops: opFilter | opSearch | opSort},
		// A module matches a game when it lists it among its games.
		"supportedGames": {column: "t.supported_games", kind: kindText, ops: opFilter, filterSQL: "t.supported_games && %s::text[]"},
	}),
	// The latest version and the list of versions are always embedded.
	extend: map[string]string{},
}

var versionSearch = &searchSpec{
	table:  "module_versions",
	object: versionObject,
	fields: withCommonFields(map[string]field{
		"tag":      {column: "t.tag", kind: kindText, ops: opFilter | opSearch | opSort},
		"moduleId": {column: "t.module_id", kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{},
}

var installationSearch = &searchSpec{
	table:  "module_installations",
	object: installationObject,
	fields: withCommonFields(map[string]field{
		"versionId":    {column: "t.version_id", kind: kindUUID, ops: opFilter},
		"moduleId":     {column: "t.module_id", kind: kindUUID, ops: opFilter},
		"gameserverId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{},
}

// Editing modules. Only the latest version of a module that is not builtin
// can change. Every change of a version's parts first locks the version's
// row, which serialises the changes of one version: the count behind
// maxFunctionsInModule cannot be raced, and tagging (which locks it too)
// copies a consistent state.

var (
	errBuiltinModule = takaro.Errorf(takaro.CodeBadRequest, "Cannot modify builtin modules")
	errTaggedVersion = takaro.Errorf(takaro.CodeBadRequest, `Cannot modify a tagged version of a module, edit the "latest" version instead`)
)

// lockEditableVersion locks version for a change and checks that it may
// change. An unknown version is an invalid field when field names the
// input it came from, else not found.
func lockEditableVersion(ctx context.Context, tx *Tx, version uuid.UUID, field string) error {
	var tag string
	var builtin *string
	err := tx.QueryRow(ctx, `SELECT v.tag, m.builtin FROM module_versions v JOIN modules m ON m.domain = v.domain AND m.id = v.module_id
		WHERE v.domain = $1 AND v.id = $2 FOR NO KEY UPDATE OF v`, tx.Domain, version).Scan(&tag, &builtin)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && field != "":
		return takaro.Invalid(field, "refers to something that does not exist")
	case errors.Is(err, pgx.ErrNoRows):
		return takaro.NotFound("Module version", version)
	case err != nil:
		return err
	case builtin != nil:
		return errBuiltinModule
	case tag != takaro.TagLatest:
		return errTaggedVersion
	}
	return nil
}

// lockPartVersion checks that the row id of table (commands, hooks,
// cron_jobs) exists and may change, and locks its version; notFound is
// the answer when it does not exist.
func lockPartVersion(ctx context.Context, tx *Tx, table string, id uuid.UUID, notFound error) error {
	var version uuid.UUID
	err := tx.QueryRow(ctx, "SELECT version_id FROM "+table+" WHERE domain = $1 AND id = $2", tx.Domain, id).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return err
	}
	return lockEditableVersion(ctx, tx, version, "")
}

// checkFunctionLimit refuses adding n functions (commands, hooks, cron jobs
// and the version's own functions each count as one) to a version that
// would then hold more than the domain's maxFunctionsInModule.
func checkFunctionLimit(ctx context.Context, tx *Tx, version uuid.UUID, n int) error {
	var limit, count int
	err := tx.QueryRow(ctx, `SELECT (SELECT max_functions_in_module FROM domains WHERE id = $1),
		(SELECT count(*) FROM functions WHERE domain = $1 AND (version_id = $2 OR owner_version_id = $2))`,
		tx.Domain, version).Scan(&limit, &count)
	if err != nil {
		return err
	}
	if count+n > limit {
		return takaro.Errorf(takaro.CodeBadRequest, "This module has reached the limit of %d functions", limit)
	}
	return nil
}

// writeRow runs write in a transaction of the caller's domain and returns
// the row whose id it gives, as object reads it from table.
func writeRow[T any](ctx context.Context, db *DB, table string, object jsonFields, write func(tx *Tx) (uuid.UUID, error)) (*T, error) {
	var out T
	err := db.inDomain(ctx, func(tx *Tx) error {
		id, err := write(tx)
		if err != nil {
			return err
		}
		return readRow(ctx, tx, table, object, id, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// createPart creates a command, hook or cron job in a latest version with
// insert, and returns it as object reads it from table.
func createPart[T any](ctx context.Context, db *DB, table string, object jsonFields, version uuid.UUID, insert func(tx *Tx) (uuid.UUID, error)) (*T, error) {
	return writeRow[T](ctx, db, table, object, func(tx *Tx) (uuid.UUID, error) {
		if err := lockEditableVersion(ctx, tx, version, "versionId"); err != nil {
			return uuid.Nil, err
		}
		if err := checkFunctionLimit(ctx, tx, version, 1); err != nil {
			return uuid.Nil, err
		}
		return insert(tx)
	})
}

// updatePart changes the row id of table with update, once its version is
// locked and known to be editable, and returns it as object reads it.
func updatePart[T any](ctx context.Context, db *DB, table string, object jsonFields, id uuid.UUID, notFound error, update func(tx *Tx) error) (*T, error) {
	return writeRow[T](ctx, db, table, object, func(tx *Tx) (uuid.UUID, error) {
		if err := lockPartVersion(ctx, tx, table, id, notFound); err != nil {
			return uuid.Nil, err
		}
		return id, update(tx)
	})
}

// updatePartCode replaces the code of the row id of table, when code is
// given.
func updatePartCode(ctx context.Context, tx *Tx, table string, id uuid.UUID, code *string) error {
	if code == nil {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE functions f SET code = $3 FROM `+table+` p
		WHERE p.domain = $1 AND p.id = $2 AND f.domain = p.domain AND f.id = p.function_id`, tx.Domain, id, *code)
	return translateError(err, "function")
}

// deletePart deletes the row id of table by deleting its code, which the
// row's foreign key follows.
func deletePart(ctx context.Context, db *DB, table string, id uuid.UUID, notFound error) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := lockPartVersion(ctx, tx, table, id, notFound); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM functions f USING `+table+` p
			WHERE p.domain = $1 AND p.id = $2 AND f.domain = p.domain AND f.id = p.function_id`, tx.Domain, id)
		return err
	})
}

// Modules.

// CreateModule creates a module and its latest version.
func (db *DB) CreateModule(ctx context.Context, in takaro.ModuleCreate) (*takaro.Module, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var m *takaro.Module
	err := db.inDomain(ctx, func(tx *Tx) error {
		id, _, err := insertModule(ctx, tx, in)
		if err != nil {
			return err
		}
		m, err = readModule(ctx, tx, id)
		return err
	})
	return m, err
}

// insertModule creates a module with its latest version, counting towards
// maxModules (the domain row is locked while counting), and records
// module-created.
func insertModule(ctx context.Context, tx *Tx, in takaro.ModuleCreate) (module, latest uuid.UUID, err error) {
	if err := checkLimit(ctx, tx, "max_modules", "SELECT count(*) FROM modules WHERE domain = $1 AND builtin IS NULL",
		"Maximum number of modules reached"); err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	author := "Unknown"
	if in.Author != nil {
		author = *in.Author
	}
	games := in.SupportedGames
	if len(games) == 0 {
		games = []string{"all"}
	}
	err = tx.QueryRow(ctx, "INSERT INTO modules (domain, name, author, supported_games) VALUES ($1, $2, $3, $4) RETURNING id",
		tx.Domain, in.Name, author, games).Scan(&module)
	if err != nil {
		return uuid.Nil, uuid.Nil, translateError(err, "module")
	}
	err = tx.QueryRow(ctx, "INSERT INTO module_versions (domain, module_id, tag, config_schema) VALUES ($1, $2, $3, $4) RETURNING id",
		tx.Domain, module, takaro.TagLatest, takaro.DefaultConfigSchema).Scan(&latest)
	if err != nil {
		return uuid.Nil, uuid.Nil, translateError(err, "module version")
	}
	if in.LatestVersion != nil {
		if err := setVersion(ctx, tx, latest, *in.LatestVersion); err != nil {
			return uuid.Nil, uuid.Nil, err
		}
	}
	return module, latest, recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleCreated, ModuleID: &module})
}

// setVersion changes the fields and permissions of a version; a default
// system config must follow the version's system config schema.
func setVersion(ctx context.Context, tx *Tx, version uuid.UUID, in takaro.ModuleVersionInput) error {
	_, err := tx.Exec(ctx, `UPDATE module_versions SET description = coalesce($3, description),
		config_schema = coalesce($4, config_schema), ui_schema = coalesce($5, ui_schema),
		default_system_config = coalesce($6::jsonb, default_system_config) WHERE domain = $1 AND id = $2`,
		tx.Domain, version, in.Description, in.ConfigSchema, in.UISchema, in.DefaultSystemConfig)
	if err != nil {
		return translateError(err, "module version")
	}
	if in.Permissions != nil {
		if err := setModulePermissions(ctx, tx, version, *in.Permissions); err != nil {
			return err
		}
	}
	if in.DefaultSystemConfig == nil {
		return nil
	}
	var v takaro.ModuleVersion
	if err := readRow(ctx, tx, "module_versions", versionObject, version, &v); err != nil {
		return err
	}
	v.Complete()
	var config map[string]any
	if err := json.Unmarshal([]byte(*in.DefaultSystemConfig), &config); err != nil {
		return takaro.Invalid("latestVersion.defaultSystemConfig", "must be a JSON object encoded as a string")
	}
	_, err = takaro.ValidateConfig("latestVersion.defaultSystemConfig", v.SystemConfigSchema, config)
	return err
}

// setModulePermissions makes perms the version's exact permissions, by
// code: missing codes are deleted (and so taken from every role that held
// them), the others updated or added.
func setModulePermissions(ctx context.Context, tx *Tx, version uuid.UUID, perms []takaro.ModulePermissionInput) error {
	codes, names, descriptions := make([]string, len(perms)), make([]string, len(perms)), make([]string, len(perms))
	counts := make([]bool, len(perms))
	for i, p := range perms {
		codes[i], names[i], descriptions[i] = p.Permission, p.FriendlyName, p.Description
		counts[i] = p.CanHaveCount != nil && *p.CanHaveCount
	}
	if _, err := tx.Exec(ctx, "DELETE FROM module_permissions WHERE domain = $1 AND version_id = $2 AND code <> ALL($3)",
		tx.Domain, version, codes); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO module_permissions AS t (domain, version_id, code, friendly_name, description, can_have_count)
		SELECT $1, $2, p.code, p.name, p.description, p.count
		FROM unnest($3::text[], $4::text[], $5::text[], $6::bool[]) AS p(code, name, description, count)
		ON CONFLICT (domain, version_id, code) DO UPDATE SET friendly_name = excluded.friendly_name,
			description = excluded.description, can_have_count = excluded.can_have_count
		WHERE (t.friendly_name, t.description, t.can_have_count) IS DISTINCT FROM (excluded.friendly_name, excluded.description, excluded.can_have_count)`,
		tx.Domain, version, codes, names, descriptions, counts)
	return translateError(err, "permission")
}

// readModule reads a module inside tx.
func readModule(ctx context.Context, tx *Tx, id uuid.UUID) (*takaro.Module, error) {
	var m takaro.Module
	if err := readRow(ctx, tx, "modules", moduleObject, id, &m); err != nil {
		return nil, err
	}
	m.Complete()
	return &m, nil
}

// FindModuleByID returns a module with its latest version and versions.
func (db *DB) FindModuleByID(ctx context.Context, id uuid.UUID) (*takaro.Module, error) {
	m, err := findByID[takaro.Module](ctx, db, "modules", moduleObject, id, "Module", "")
	if err != nil {
		return nil, err
	}
	m.Complete()
	return m, nil
}

// FindModules searches modules.
func (db *DB) FindModules(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Module], error) {
	page, err := search[takaro.Module](ctx, db, moduleSearch, q)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		page.Items[i].Complete()
	}
	return page, nil
}

// lockModule locks a module for a change and checks that it is not
// builtin; it returns the id of its latest version.
func lockModule(ctx context.Context, tx *Tx, id uuid.UUID) (uuid.UUID, error) {
	var builtin *string
	var latest uuid.UUID
	err := tx.QueryRow(ctx, `SELECT m.builtin, v.id FROM modules m JOIN module_versions v ON v.domain = m.domain AND v.module_id = m.id
		WHERE m.domain = $1 AND m.id = $2 AND v.tag = $3 FOR NO KEY UPDATE OF m, v`, tx.Domain, id, takaro.TagLatest).Scan(&builtin, &latest)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, takaro.NotFound("Module", id)
	case err != nil:
		return uuid.Nil, err
	case builtin != nil:
		return uuid.Nil, errBuiltinModule
	}
	return latest, nil
}

// UpdateModule changes a module and its latest version.
func (db *DB) UpdateModule(ctx context.Context, id uuid.UUID, upd takaro.ModuleUpdate) (*takaro.Module, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var m *takaro.Module
	err := db.inDomain(ctx, func(tx *Tx) error {
		latest, err := lockModule(ctx, tx, id)
		if err != nil {
			return err
		}
		var games []string
		if upd.SupportedGames != nil {
			games = *upd.SupportedGames
			if len(games) == 0 {
				games = []string{"all"}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE modules SET name = coalesce($3, name), author = coalesce($4, author),
			supported_games = coalesce($5, supported_games) WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.Author, games)
		if err != nil {
			return translateError(err, "module")
		}
		if upd.LatestVersion != nil {
			if err := setVersion(ctx, tx, latest, *upd.LatestVersion); err != nil {
				return err
			}
		}
		if err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleUpdated, ModuleID: &id}); err != nil {
			return err
		}
		m, err = readModule(ctx, tx, id)
		return err
	})
	return m, err
}

// DeleteModule deletes a module with everything it holds and its
// installations.
func (db *DB) DeleteModule(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if _, err := lockModule(ctx, tx, id); err != nil {
			return err
		}
		if err := uninstallAll(ctx, tx, "module_id", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM modules WHERE domain = $1 AND id = $2", tx.Domain, id); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleDeleted, ModuleID: &id})
	})
}

// uninstallAll removes every installation whose column (module_id or
// gameserver_id) is id, recording module-uninstalled for each.
func uninstallAll(ctx context.Context, tx *Tx, column string, id uuid.UUID) error {
	rows, err := tx.Query(ctx, "DELETE FROM module_installations WHERE domain = $1 AND "+column+" = $2 RETURNING module_id, gameserver_id",
		tx.Domain, id)
	if err != nil {
		return err
	}
	type installed struct{ module, gameServer uuid.UUID }
	removed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (installed, error) {
		var i installed
		return i, row.Scan(&i.module, &i.gameServer)
	})
	if err != nil {
		return err
	}
	for _, i := range removed {
		err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleUninstalled, ModuleID: &i.module, GameserverID: &i.gameServer})
		if err != nil {
			return err
		}
	}
	return nil
}

// Versions.

// FindModuleVersionByID returns a version with everything it holds.
func (db *DB) FindModuleVersionByID(ctx context.Context, id uuid.UUID) (*takaro.ModuleVersion, error) {
	v, err := findByID[takaro.ModuleVersion](ctx, db, "module_versions", versionObject, id, "ModuleVersion", "")
	if err != nil {
		return nil, err
	}
	v.Complete()
	return v, nil
}

// FindModuleVersions searches versions.
func (db *DB) FindModuleVersions(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.ModuleVersion], error) {
	page, err := search[takaro.ModuleVersion](ctx, db, versionSearch, q)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		page.Items[i].Complete()
	}
	return page, nil
}

// TagModuleVersion copies the latest version into a new tagged version.
func (db *DB) TagModuleVersion(ctx context.Context, in takaro.ModuleVersionTag) (*takaro.ModuleVersion, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var v takaro.ModuleVersion
	err := db.inDomain(ctx, func(tx *Tx) error {
		var latest uuid.UUID
		err := tx.QueryRow(ctx, "SELECT id FROM module_versions WHERE domain = $1 AND module_id = $2 AND tag = $3 FOR SHARE",
			tx.Domain, in.ModuleID, takaro.TagLatest).Scan(&latest)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Module", in.ModuleID)
		}
		if err != nil {
			return err
		}
		id := latest
		if in.Tag != takaro.TagLatest {
			if id, err = tagVersion(ctx, tx, latest, in.Tag); err != nil {
				return err
			}
		}
		return readRow(ctx, tx, "module_versions", versionObject, id, &v)
	})
	if err != nil {
		return nil, err
	}
	v.Complete()
	return &v, nil
}

// tagVersion copies the version from, with all its parts (new rows with
// new ids), into a new version of the same module with the tag.
func tagVersion(ctx context.Context, tx *Tx, from uuid.UUID, tag string) (uuid.UUID, error) {
	var to uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO module_versions (domain, module_id, tag, description, config_schema, ui_schema, default_system_config)
		SELECT domain, module_id, $3, description, config_schema, ui_schema, default_system_config
		FROM module_versions WHERE domain = $1 AND id = $2 RETURNING id`, tx.Domain, from, tag).Scan(&to)
	if err != nil {
		return uuid.Nil, translateError(err, "module version")
	}
	// The copies get their ids here, so that the copied commands, hooks
	// and cron jobs can point at the copies of their code and the
	// arguments at the copies of their commands.
	rows, err := tx.Query(ctx, "SELECT id FROM functions WHERE domain = $1 AND (version_id = $2 OR owner_version_id = $2)", tx.Domain, from)
	if err != nil {
		return uuid.Nil, err
	}
	oldFunctions, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return uuid.Nil, err
	}
	if rows, err = tx.Query(ctx, "SELECT id FROM commands WHERE domain = $1 AND version_id = $2", tx.Domain, from); err != nil {
		return uuid.Nil, err
	}
	oldCommands, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return uuid.Nil, err
	}
	newFunctions, newCommands := freshIDs(len(oldFunctions)), freshIDs(len(oldCommands))
	b := &pgx.Batch{}
	args := []any{tx.Domain, from, to, oldFunctions, newFunctions, oldCommands, newCommands}
	b.Queue(`INSERT INTO functions (domain, id, version_id, owner_version_id, name, description, code)
		SELECT f.domain, m.new, CASE WHEN f.version_id IS NOT NULL THEN $3::uuid END,
			CASE WHEN f.owner_version_id IS NOT NULL THEN $3::uuid END, f.name, f.description, f.code
		FROM functions f JOIN unnest($4::uuid[], $5::uuid[]) AS m(old, new) ON m.old = f.id
		WHERE f.domain = $1 AND (f.version_id = $2 OR f.owner_version_id = $2)`, args[:5]...)
	b.Queue(`INSERT INTO commands (domain, id, version_id, function_id, name, trigger, help_text, description, required_permissions)
		SELECT c.domain, cm.new, $3, fm.new, c.name, c.trigger, c.help_text, c.description, c.required_permissions
		FROM commands c JOIN unnest($4::uuid[], $5::uuid[]) AS fm(old, new) ON fm.old = c.function_id
			JOIN unnest($6::uuid[], $7::uuid[]) AS cm(old, new) ON cm.old = c.id
		WHERE c.domain = $1 AND c.version_id = $2`, args...)
	b.Queue(`INSERT INTO command_arguments (domain, command_id, name, type, help_text, default_value, position)
		SELECT a.domain, cm.new, a.name, a.type, a.help_text, a.default_value, a.position
		FROM command_arguments a JOIN unnest($2::uuid[], $3::uuid[]) AS cm(old, new) ON cm.old = a.command_id
		WHERE a.domain = $1`, tx.Domain, oldCommands, newCommands)
	b.Queue(`INSERT INTO hooks (domain, version_id, function_id, name, event_type, regex, description)
		SELECT h.domain, $3, fm.new, h.name, h.event_type, h.regex, h.description
		FROM hooks h JOIN unnest($4::uuid[], $5::uuid[]) AS fm(old, new) ON fm.old = h.function_id
		WHERE h.domain = $1 AND h.version_id = $2`, args[:5]...)
	b.Queue(`INSERT INTO cron_jobs (domain, version_id, function_id, name, temporal_value, description)
		SELECT c.domain, $3, fm.new, c.name, c.temporal_value, c.description
		FROM cron_jobs c JOIN unnest($4::uuid[], $5::uuid[]) AS fm(old, new) ON fm.old = c.function_id
		WHERE c.domain = $1 AND c.version_id = $2`, args[:5]...)
	b.Queue(`INSERT INTO module_permissions (domain, version_id, code, friendly_name, description, can_have_count)
		SELECT domain, $3, code, friendly_name, description, can_have_count FROM module_permissions
		WHERE domain = $1 AND version_id = $2`, args[:3]...)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return uuid.Nil, err
	}
	return to, nil
}

func freshIDs(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	return ids
}

// Installations.

// errNoInstallation is the answer for a module that is not installed on a
// game server (or either does not exist).
var errNoInstallation = takaro.Errorf(takaro.CodeNotFound, "Installation not found")

// InstallModule installs a version on a game server with configs checked
// against the version's schemas, replacing the module's installation there.
func (db *DB) InstallModule(ctx context.Context, in takaro.InstallationCreate) (*takaro.Installation, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *takaro.Installation
	err := db.inDomain(ctx, func(tx *Tx) error {
		// The version cannot change while its configs are checked against
		// it, nor the game server be deleted meanwhile; installations on
		// one game server are serialised.
		var v takaro.ModuleVersion
		err := tx.QueryRow(ctx, "SELECT "+versionObject.build("t")+" FROM module_versions t WHERE t.domain = $1 AND t.id = $2 FOR SHARE",
			tx.Domain, in.VersionID).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("ModuleVersion", in.VersionID)
		}
		if err != nil {
			return err
		}
		v.Complete()
		var found bool
		err = tx.QueryRow(ctx, "SELECT true FROM gameservers WHERE domain = $1 AND id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE",
			tx.Domain, in.GameServerID).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.Invalid("gameServerId", "refers to something that does not exist")
		}
		if err != nil {
			return err
		}
		userConfig, systemConfig, err := installationConfigs(&v, in)
		if err != nil {
			return err
		}
		var old uuid.UUID
		err = tx.QueryRow(ctx, "DELETE FROM module_installations WHERE domain = $1 AND module_id = $2 AND gameserver_id = $3 RETURNING id",
			tx.Domain, v.ModuleID, in.GameServerID).Scan(&old)
		switch {
		case err == nil:
			if err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleUninstalled, ModuleID: &v.ModuleID,
				GameserverID: &in.GameServerID}); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var id uuid.UUID
		err = tx.QueryRow(ctx, `INSERT INTO module_installations (domain, gameserver_id, module_id, version_id, user_config, system_config)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			tx.Domain, in.GameServerID, v.ModuleID, v.ID, string(userConfig), string(systemConfig)).Scan(&id)
		if err != nil {
			return translateError(err, "installation")
		}
		err = recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleInstalled, ModuleID: &v.ModuleID,
			GameserverID: &in.GameServerID, Meta: eventMeta("userConfig", string(userConfig), "systemConfig", string(systemConfig))})
		if err != nil {
			return err
		}
		out = &takaro.Installation{}
		if err := readRow(ctx, tx, "module_installations", installationObject, id, out); err != nil {
			return err
		}
		out.Complete()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// installationConfigs checks an installation's configs against the
// version's schemas and returns them with the defaults filled in. The
// version's default system config lies under the given one (a key given
// replaces the default's whole value).
func installationConfigs(v *takaro.ModuleVersion, in takaro.InstallationCreate) (user, system json.RawMessage, err error) {
	parse := func(field string, text *string, base map[string]any) (map[string]any, error) {
		out := base
		if text == nil {
			return out, nil
		}
		var given map[string]any
		if err := json.Unmarshal([]byte(*text), &given); err != nil {
			return nil, takaro.Invalid(field, "must be a JSON object encoded as a string")
		}
		for k, val := range given {
			out[k] = val
		}
		return out, nil
	}
	userIn, err := parse("userConfig", in.UserConfig, map[string]any{})
	if err != nil {
		return nil, nil, err
	}
	base := map[string]any{}
	if v.DefaultSystemConfig != nil {
		maps.Copy(base, *v.DefaultSystemConfig)
	}
	systemIn, err := parse("systemConfig", in.SystemConfig, base)
	if err != nil {
		return nil, nil, err
	}
	if system, err = takaro.ValidateConfig("systemConfig", v.SystemConfigSchema, systemIn); err != nil {
		return nil, nil, err
	}
	if user, err = takaro.ValidateConfig("userConfig", v.ConfigSchema, userIn); err != nil {
		return nil, nil, err
	}
	return user, system, nil
}

// UninstallModule removes a module's installation from a game server.
func (db *DB) UninstallModule(ctx context.Context, moduleID, gameServerID uuid.UUID) (*takaro.Installation, error) {
	var out takaro.Installation
	err := db.inDomain(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, "SELECT "+installationObject.build("t")+` FROM module_installations t
			WHERE t.domain = $1 AND t.module_id = $2 AND t.gameserver_id = $3 FOR UPDATE`, tx.Domain, moduleID, gameServerID).Scan(&out)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoInstallation
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM module_installations WHERE domain = $1 AND id = $2", tx.Domain, out.ID); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventModuleUninstalled, ModuleID: &moduleID, GameserverID: &gameServerID})
	})
	if err != nil {
		return nil, err
	}
	out.Complete()
	return &out, nil
}

// FindInstallation returns a module's installation on a game server.
func (db *DB) FindInstallation(ctx context.Context, moduleID, gameServerID uuid.UUID) (*takaro.Installation, error) {
	var out *takaro.Installation
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+installationObject.build("t")+` FROM module_installations t
			WHERE t.domain = $1 AND t.module_id = $2 AND t.gameserver_id = $3`, domain, moduleID, gameServerID).
			Query(func(rows pgx.Rows) error {
				var err error
				out, err = collectOptional[takaro.Installation](rows)
				return err
			})
	})
	switch {
	case err != nil:
		return nil, err
	case out == nil:
		return nil, errNoInstallation
	}
	out.Complete()
	return out, nil
}

// FindInstallations searches installations.
func (db *DB) FindInstallations(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Installation], error) {
	page, err := search[takaro.Installation](ctx, db, installationSearch, q)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		page.Items[i].Complete()
	}
	return page, nil
}

// Executions.

// executionEvents are the events that record runs, by what ran; the key is
// also the key of the meta object that names it.
var executionEvents = map[takaro.ExecutionKind]takaro.EventName{
	takaro.ExecutionCommand: takaro.EventCommandExecuted,
	takaro.ExecutionHook:    takaro.EventHookExecuted,
	takaro.ExecutionCronJob: takaro.EventCronJobExecuted,
}

// FindExecutions searches the events that recorded runs of a command, hook
// or cron job with the given outcome.
func (db *DB) FindExecutions(ctx context.Context, kind takaro.ExecutionKind, id uuid.UUID, success bool, q takaro.Query) (*takaro.Page[takaro.Event], error) {
	name, ok := executionEvents[kind]
	if !ok {
		return nil, takaro.Invalid("kind", "must be command, hook or cronjob")
	}
	spec := *eventSearch
	spec.where = "t.event_name = $2 AND t.meta -> $3 ->> 'id' = $4 AND (t.meta -> 'result' ->> 'success') = $5"
	successText := "false"
	if success {
		successText = "true"
	}
	spec.whereArgs = []any{string(name), string(kind), id.String(), successText}
	return search[takaro.Event](ctx, db, &spec, q)
}

// Export and import.

// ExportModule returns a module with the chosen versions, oldest first
// and latest last, in the transfer format.
func (db *DB) ExportModule(ctx context.Context, id uuid.UUID, opts takaro.ModuleExportOptions) (*takaro.ModuleTransfer, error) {
	m, err := db.FindModuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var versions []takaro.ModuleVersion
	err = db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+versionObject.build("t")+" FROM module_versions t WHERE t.domain = $1 AND t.module_id = $2", domain, id).
			Query(func(rows pgx.Rows) error {
				var err error
				versions, err = pgx.CollectRows(rows, pgx.RowTo[takaro.ModuleVersion])
				return err
			})
	})
	if err != nil {
		return nil, err
	}
	for _, want := range opts.VersionIDs {
		if !slices.ContainsFunc(versions, func(v takaro.ModuleVersion) bool { return v.ID == want }) {
			return nil, takaro.Invalid("versionIds", "names %s, which is no version of this module", want)
		}
	}
	out := &takaro.ModuleTransfer{Name: m.Name, Author: &m.Author, SupportedGames: m.SupportedGames, Versions: []takaro.ModuleTransferVersion{}}
	for _, v := range versions {
		if len(opts.VersionIDs) > 0 && !slices.Contains(opts.VersionIDs, v.ID) {
			continue
		}
		out.Versions = append(out.Versions, transferVersion(v))
	}
	slices.SortStableFunc(out.Versions, func(a, b takaro.ModuleTransferVersion) int { return takaro.CompareTags(a.Tag, b.Tag) })
	return out, nil
}

// transferVersion is a version in the transfer format.
func transferVersion(v takaro.ModuleVersion) takaro.ModuleTransferVersion {
	t := takaro.ModuleTransferVersion{Tag: v.Tag, Description: v.Description, ConfigSchema: v.ConfigSchema, UISchema: v.UISchema,
		Commands: []takaro.TransferCommand{}, Hooks: []takaro.TransferHook{}, CronJobs: []takaro.TransferCronJob{},
		Functions: []takaro.TransferFunction{}, Permissions: []takaro.ModulePermissionInput{}}
	for _, c := range v.Commands {
		tc := takaro.TransferCommand{Name: c.Name, Trigger: c.Trigger, HelpText: &c.HelpText, Description: c.Description,
			Function: c.Function.Code, RequiredPermissions: c.RequiredPermissions}
		for _, a := range c.Arguments {
			tc.Arguments = append(tc.Arguments, takaro.TransferArgument{Name: a.Name, Type: a.Type, HelpText: &a.HelpText,
				DefaultValue: a.DefaultValue, Position: &a.Position})
		}
		t.Commands = append(t.Commands, tc)
	}
	for _, h := range v.Hooks {
		t.Hooks = append(t.Hooks, takaro.TransferHook{Name: h.Name, EventType: h.EventType, Regex: h.Regex,
			Description: h.Description, Function: h.Function.Code})
	}
	for _, c := range v.CronJobs {
		t.CronJobs = append(t.CronJobs, takaro.TransferCronJob{Name: c.Name, TemporalValue: c.TemporalValue,
			Description: c.Description, Function: c.Function.Code})
	}
	for _, f := range v.Functions {
		tf := takaro.TransferFunction{Description: f.Description, Function: f.Code}
		if f.Name != nil {
			tf.Name = *f.Name
		}
		t.Functions = append(t.Functions, tf)
	}
	for _, p := range v.Permissions {
		t.Permissions = append(t.Permissions, takaro.ModulePermissionInput{Permission: p.Permission, FriendlyName: p.FriendlyName,
			Description: p.Description, CanHaveCount: &p.CanHaveCount})
	}
	return t
}

// ImportModule creates a module from the transfer format in one
// transaction: each tagged version in order of precedence, by filling the
// latest version with its contents and tagging it, and then the latest
// version (the newest tag's contents when the import has none).
func (db *DB) ImportModule(ctx context.Context, in takaro.ModuleTransfer) (*takaro.Module, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	versions := slices.Clone(in.VersionsToImport())
	slices.SortStableFunc(versions, func(a, b takaro.ModuleTransferVersion) int { return takaro.CompareTags(a.Tag, b.Tag) })
	var m *takaro.Module
	err := db.inDomain(ctx, func(tx *Tx) error {
		name := in.Name
		var taken bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM modules WHERE domain = $1 AND name = $2)", tx.Domain, name).Scan(&taken); err != nil {
			return err
		}
		if taken {
			name += "-imported"
		}
		id, latest, err := insertModule(ctx, tx, takaro.ModuleCreate{Name: name, Author: in.Author, SupportedGames: in.SupportedGames})
		if err != nil {
			return err
		}
		for _, v := range versions {
			if err := fillVersion(ctx, tx, latest, v); err != nil {
				return err
			}
			if v.Tag != takaro.TagLatest {
				if _, err := tagVersion(ctx, tx, latest, v.Tag); err != nil {
					return err
				}
			}
		}
		m, err = readModule(ctx, tx, id)
		return err
	})
	return m, err
}

// fillVersion replaces everything an (unshared, new) version holds with
// the contents of a transferred version.
func fillVersion(ctx context.Context, tx *Tx, version uuid.UUID, v takaro.ModuleTransferVersion) error {
	if err := checkImportLimit(ctx, tx, v); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM functions WHERE domain = $1 AND (version_id = $2 OR owner_version_id = $2)", tx.Domain, version); err != nil {
		return err
	}
	in := takaro.ModuleVersionInput{Description: &v.Description, Permissions: &v.Permissions}
	configSchema, uiSchema := takaro.DefaultConfigSchema, "{}"
	if v.ConfigSchema != "" {
		configSchema = v.ConfigSchema
	}
	if v.UISchema != "" {
		uiSchema = v.UISchema
	}
	in.ConfigSchema, in.UISchema = &configSchema, &uiSchema
	if err := setVersion(ctx, tx, version, in); err != nil {
		return err
	}
	for _, c := range v.Commands {
		if _, err := insertCommand(ctx, tx, c.Create(version)); err != nil {
			return err
		}
	}
	for _, h := range v.Hooks {
		if _, err := insertHook(ctx, tx, h.Create(version)); err != nil {
			return err
		}
	}
	for _, c := range v.CronJobs {
		if _, err := insertCronJob(ctx, tx, c.Create(version)); err != nil {
			return err
		}
	}
	for _, f := range v.Functions {
		in := f.Create(version)
		if _, err := insertFunction(ctx, tx, in.VersionID, nil, in.Name, in.Description, in.Code); err != nil {
			return err
		}
	}
	return nil
}

// checkImportLimit applies maxFunctionsInModule to a transferred version.
func checkImportLimit(ctx context.Context, tx *Tx, v takaro.ModuleTransferVersion) error {
	n := len(v.Commands) + len(v.Hooks) + len(v.CronJobs) + len(v.Functions)
	var limit int
	if err := tx.QueryRow(ctx, "SELECT max_functions_in_module FROM domains WHERE id = $1", tx.Domain).Scan(&limit); err != nil {
		return err
	}
	if n > limit {
		return takaro.Errorf(takaro.CodeBadRequest, "This module has reached the limit of %d functions", limit)
	}
	return nil
}
