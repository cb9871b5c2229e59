package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.RoleService = (*DB)(nil)

var permissionObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"permission", "code"},
	{"friendlyName", "friendly_name"}, {"description", "description"}, {"canHaveCount", "can_have_count"},
	{"moduleVersionId", "NULL"},
}

// roleObject embeds the role's permissions, sorted by code: permissions
// of the catalogue and of module versions alike.
var roleObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"system", "system"}, {"linkedDiscordRoleId", "linked_discord_role_id"},
	{"permissions", `(SELECT coalesce(json_agg(json_build_object('id', por.id, 'createdAt', por.created_at,
		'updatedAt', por.updated_at, 'roleId', por.role_id, 'permissionId', coalesce(por.permission_id, por.module_permission_id),
		'count', por.count, 'permission', CASE WHEN por.permission_id IS NOT NULL THEN ` + permissionObject.build("perm") + `
			ELSE ` + modulePermissionObject.build("mperm") + ` END) ORDER BY coalesce(perm.code, mperm.code), por.id), '[]'::json)
		FROM permission_on_role por LEFT JOIN permissions perm ON perm.id = por.permission_id
		LEFT JOIN module_permissions mperm ON mperm.domain = por.domain AND mperm.id = por.module_permission_id
		WHERE por.domain = $1 AND por.role_id = {t}.id)`},
}

var roleSearch = &searchSpec{
	table:  "roles",
	object: roleObject,
	fields: withCommonFields(map[string]field{
		"name":   {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"system": {column: "t.system", kind: kindBool, ops: opFilter},
	}),
	// Permissions are always embedded; the reference accepts the name.
	extend: map[string]string{"permissions": ""},
}

// implicitRole is the condition that role alias r (in the statement's
// domain, $1) is the system role name, which everyone of its kind holds
// without an assignment: User (every user) or Player (every player).
func implicitRole(r, name string) string {
	return r + ".domain = $1 AND " + r + ".system AND " + r + ".name = '" + name + "'"
}

// holdsImplicitRole is a search filter's condition that the role ids of
// its parameter (%[1]s) include a system role that everyone holds: as in
// the reference, filtering users or players by User or by Player finds
// everyone.
var holdsImplicitRole = `EXISTS (SELECT 1 FROM roles ir WHERE ir.domain = $1 AND ir.id = ANY(%[1]s)
	AND ir.system AND ir.name IN ('` + takaro.RoleUser + `', '` + takaro.RolePlayer + `'))`

// CreateRole creates a role with its permissions.
func (db *DB) CreateRole(ctx context.Context, in takaro.RoleCreate) (*takaro.Role, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var role *takaro.Role
	err := db.inDomain(ctx, func(tx *Tx) error {
		var err error
		role, err = insertRole(ctx, tx, in.Name, false, in.LinkedDiscordRoleID, in.Permissions)
		return err
	})
	return role, err
}

// FindRoleByID returns a role with its permissions.
func (db *DB) FindRoleByID(ctx context.Context, id uuid.UUID) (*takaro.Role, error) {
	return findByID[takaro.Role](ctx, db, "roles", roleObject, id, "Role", "")
}

// FindRoles searches roles.
func (db *DB) FindRoles(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Role], error) {
	return search[takaro.Role](ctx, db, roleSearch, q)
}

// UpdateRole changes a role. Every check runs before any change, so a
// refused update changes nothing.
func (db *DB) UpdateRole(ctx context.Context, id uuid.UUID, upd takaro.RoleUpdate) (*takaro.Role, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var role takaro.Role
	err := db.inDomain(ctx, func(tx *Tx) error {
		var name string
		var system bool
		err := tx.QueryRow(ctx, "SELECT name, system FROM roles WHERE domain = $1 AND id = $2 FOR UPDATE", tx.Domain, id).Scan(&name, &system)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Role", id)
		}
		if err != nil {
			return err
		}
		if name == takaro.RoleRoot && system {
			return takaro.Errorf(takaro.CodeBadRequest, "Cannot update root role")
		}
		if system && upd.Name != nil && *upd.Name != name {
			return takaro.Errorf(takaro.CodeBadRequest, "Cannot rename system roles")
		}
		_, err = tx.Exec(ctx, `UPDATE roles SET name = coalesce($3, name), linked_discord_role_id = coalesce($4, linked_discord_role_id)
			WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.LinkedDiscordRoleID)
		if err != nil {
			return translateError(err, "role")
		}
		if upd.Permissions != nil {
			if err := setRolePermissions(ctx, tx, id, *upd.Permissions); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, "SELECT "+roleObject.build("t")+" FROM roles t WHERE t.domain = $1 AND t.id = $2", tx.Domain, id).Scan(&role); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleUpdated, Meta: eventMeta("roleId", id)})
	})
	if err != nil {
		return nil, err
	}
	return &role, nil
}

// DeleteRole deletes a role that is not a system role.
func (db *DB) DeleteRole(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		var system bool
		err := tx.QueryRow(ctx, "DELETE FROM roles WHERE domain = $1 AND id = $2 RETURNING system", tx.Domain, id).Scan(&system)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Role", id)
		}
		if err != nil {
			return err
		}
		if system {
			return takaro.Errorf(takaro.CodeBadRequest, "Cannot delete system roles")
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleDeleted, Meta: eventMeta("roleId", id)})
	})
}

// ListPermissions returns the permission catalogue and the permissions
// of the domain's module versions, ordered by code. Without a domain (system
// work) it returns the catalogue alone.
func (db *DB) ListPermissions(ctx context.Context) ([]takaro.Permission, error) {
	var out []takaro.Permission
	collect := func(rows pgx.Rows) error {
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[takaro.Permission])
		return err
	}
	if _, err := takaro.PrincipalFrom(ctx); err != nil {
		err := db.readGlobal(ctx, func(b *pgx.Batch, _ string) {
			b.Queue("SELECT " + permissionObject.build("t") + " FROM permissions t ORDER BY t.code").Query(collect)
		})
		return out, err
	}
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT p FROM (SELECT "+permissionObject.build("t")+" AS p, t.code, t.id FROM permissions t UNION ALL SELECT "+
			modulePermissionObject.build("t")+", t.code, t.id FROM module_permissions t WHERE t.domain = $1) AS all_permissions ORDER BY code, id",
			domain).Query(collect)
	})
	return out, err
}

// insertRole creates a role with permissions and records role-created.
func insertRole(ctx context.Context, tx *Tx, name string, system bool, discordRoleID *string, perms []takaro.PermissionInput) (*takaro.Role, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, "INSERT INTO roles (domain, name, system, linked_discord_role_id) VALUES ($1, $2, $3, $4) RETURNING id",
		tx.Domain, name, system, discordRoleID).Scan(&id)
	if err != nil {
		return nil, translateError(err, "role")
	}
	if err := setRolePermissions(ctx, tx, id, perms); err != nil {
		return nil, err
	}
	var role takaro.Role
	if err := tx.QueryRow(ctx, "SELECT "+roleObject.build("t")+" FROM roles t WHERE t.domain = $1 AND t.id = $2", tx.Domain, id).Scan(&role); err != nil {
		return nil, err
	}
	return &role, recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleCreated, Meta: eventMeta("roleId", id)})
}

// setRolePermissions makes perms the role's exact set of permissions:
// missing ones are removed, new ones added, counts updated. A permission
// id names an entry of the catalogue or a permission of one of the
// domain's module versions.
func setRolePermissions(ctx context.Context, tx *Tx, roleID uuid.UUID, perms []takaro.PermissionInput) error {
	ids := make([]uuid.UUID, len(perms))
	counts := make([]int32, len(perms))
	for i, p := range perms {
		ids[i] = p.PermissionID
		if p.Count != nil {
			counts[i] = int32(*p.Count)
		}
	}
	var unknown int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM unnest($2::uuid[]) AS p(id)
		WHERE NOT EXISTS (SELECT 1 FROM permissions g WHERE g.id = p.id)
			AND NOT EXISTS (SELECT 1 FROM module_permissions m WHERE m.domain = $1 AND m.id = p.id)`, tx.Domain, ids).Scan(&unknown)
	if err != nil {
		return err
	}
	if unknown > 0 {
		return takaro.Invalid("permissionId", "refers to something that does not exist")
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM permission_on_role WHERE domain = $1 AND role_id = $2
		AND coalesce(permission_id, module_permission_id) <> ALL($3)`, tx.Domain, roleID, ids)
	b.Queue(`INSERT INTO permission_on_role (domain, role_id, permission_id, count)
		SELECT $1, $2, p.id, p.count FROM unnest($3::uuid[], $4::int[]) AS p(id, count) JOIN permissions g ON g.id = p.id
		ON CONFLICT (domain, role_id, permission_id) DO UPDATE SET count = excluded.count
		WHERE permission_on_role.count IS DISTINCT FROM excluded.count`, tx.Domain, roleID, ids, counts)
	b.Queue(`INSERT INTO permission_on_role (domain, role_id, module_permission_id, count)
		SELECT $1, $2, p.id, p.count FROM unnest($3::uuid[], $4::int[]) AS p(id, count)
			JOIN module_permissions m ON m.domain = $1 AND m.id = p.id
		ON CONFLICT (domain, role_id, module_permission_id) DO UPDATE SET count = excluded.count
		WHERE permission_on_role.count IS DISTINCT FROM excluded.count`, tx.Domain, roleID, ids, counts)
	return translateError(tx.SendBatch(ctx, b).Close(), "role")
}

// permissionsByCode looks up catalogue entries by code.
func permissionsByCode(ctx context.Context, tx *Tx, codes []string) ([]takaro.PermissionInput, error) {
	rows, err := tx.Query(ctx, "SELECT id FROM permissions WHERE code = ANY($1)", codes)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (takaro.PermissionInput, error) {
		var p takaro.PermissionInput
		return p, row.Scan(&p.PermissionID)
	})
}
