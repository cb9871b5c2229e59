package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.UserService = (*DB)(nil)

// userObject embeds the user's role assignments. Expired assignments stay
// in the table but grant nothing and are not shown.
var userObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"email", "email"}, {"discordId", "discord_id"}, {"lastSeen", "last_seen"}, {"playerId", "player_id"},
	{"isDashboardUser", "is_dashboard_user"},
	{"roles", `(SELECT coalesce(json_agg(a.o ORDER BY a.implicit, a.name` + textOrder + `, a.id), '[]'::json) FROM (
		SELECT json_build_object('id', rou.id, 'createdAt', rou.created_at, 'updatedAt', rou.updated_at,
			'userId', rou.user_id, 'roleId', rou.role_id, 'expiresAt', rou.expires_at, 'role', ` + roleObject.build("r") + `) AS o,
			false AS implicit, r.name, rou.id
		FROM role_on_user rou JOIN roles r ON r.domain = rou.domain AND r.id = rou.role_id
		WHERE rou.domain = $1 AND rou.user_id = {t}.id AND (rou.expires_at IS NULL OR rou.expires_at > now())
		UNION ALL
		SELECT json_build_object('userId', {t}.id, 'roleId', r.id, 'role', ` + roleObject.build("r") + `), true, r.name, r.id
		FROM roles r WHERE ` + implicitRole("r", takaro.RoleUser) + `) a)`},
}

var userSearch = &searchSpec{
	table:  "users",
	object: userObject,
	fields: withCommonFields(map[string]field{
		"name":            {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"email":           {column: "t.email", kind: kindText, ops: opFilter | opSearch | opSort},
		"discordId":       {column: "t.discord_id", kind: kindText, ops: opFilter | opSearch},
		"playerId":        {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"isDashboardUser": {column: "t.is_dashboard_user", kind: kindBool, ops: opFilter},
		"lastSeen":        {column: "t.last_seen", kind: kindTime, ops: opRange | opSort},
		"roleId": {kind: kindUUID, ops: opFilter, filterSQL: `(EXISTS (SELECT 1 FROM role_on_user x
			WHERE x.domain = $1 AND x.user_id = t.id AND x.role_id = ANY(%[1]s)
			AND (x.expires_at IS NULL OR x.expires_at > now())) OR ` + holdsImplicitRole + `)`},
	}),
	extend: map[string]string{
		"roles":  "",
		"player": playerRelation,
	},
}

// CreateUser creates a user. Only dashboard users count towards maxUsers.
func (db *DB) CreateUser(ctx context.Context, in takaro.UserCreate) (*takaro.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var user *takaro.User
	err := db.inDomain(ctx, func(tx *Tx) error {
		if in.IsDashboardUser {
			if err := checkDashboardUserLimit(ctx, tx); err != nil {
				return err
			}
		}
		id, err := insertUser(ctx, tx, db.bcryptCost, in)
		if err != nil {
			return err
		}
		if user, err = findUserTx(ctx, tx, id); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventUserCreated, UserID: &id})
	})
	return user, err
}

// InviteUser returns the domain's user with the e-mail address, or creates
// a dashboard user named after it, without a password.
func (db *DB) InviteUser(ctx context.Context, email string) (*takaro.User, error) {
	email, err := takaro.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	var user *takaro.User
	err = db.inDomain(ctx, func(tx *Tx) error {
		// The limit check locks the domain's row, so a concurrent invitation
		// of the same address waits here and then finds the user.
		var id uuid.UUID
		existing := func() error {
			return tx.QueryRow(ctx, "SELECT id FROM users WHERE domain = $1 AND email = $2", tx.Domain, email).Scan(&id)
		}
		err := existing()
		if errors.Is(err, pgx.ErrNoRows) {
			if err := checkDashboardUserLimit(ctx, tx); err != nil {
				return err
			}
			if err = existing(); errors.Is(err, pgx.ErrNoRows) {
				err = tx.QueryRow(ctx, `INSERT INTO users (domain, name, email, is_dashboard_user) VALUES ($1, $2, $2, true)
					RETURNING id`, tx.Domain, email).Scan(&id)
				if err == nil {
					err = recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventUserCreated, UserID: &id})
				}
			}
		}
		if err != nil {
			return translateError(err, "user")
		}
		user, err = findUserTx(ctx, tx, id)
		return err
	})
	return user, err
}

// FindUserByID returns a user with their current role assignments.
func (db *DB) FindUserByID(ctx context.Context, id uuid.UUID) (*takaro.User, error) {
	return findByID[takaro.User](ctx, db, "users", userObject, id, "User", "")
}

// FindUsers searches users.
func (db *DB) FindUsers(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.User], error) {
	return search[takaro.User](ctx, db, userSearch, q)
}

// UpdateUser changes a user. Making a user a dashboard user counts towards
// maxUsers, like creating one.
func (db *DB) UpdateUser(ctx context.Context, id uuid.UUID, upd takaro.UserUpdate) (*takaro.User, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var user *takaro.User
	err := db.inDomain(ctx, func(tx *Tx) error {
		var dashboard bool
		err := tx.QueryRow(ctx, "SELECT is_dashboard_user FROM users WHERE domain = $1 AND id = $2 FOR UPDATE", tx.Domain, id).Scan(&dashboard)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("User", id)
		}
		if err != nil {
			return err
		}
		if upd.IsDashboardUser != nil && *upd.IsDashboardUser && !dashboard {
			if err := checkDashboardUserLimit(ctx, tx); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE users SET name = coalesce($3, name), is_dashboard_user = coalesce($4, is_dashboard_user)
			WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.IsDashboardUser)
		if err != nil {
			return translateError(err, "user")
		}
		if user, err = findUserTx(ctx, tx, id); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventUserUpdated, UserID: &id})
	})
	return user, err
}

// DeleteUser deletes a user, their role assignments, API keys and sessions.
func (db *DB) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM users WHERE domain = $1 AND id = $2", tx.Domain, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.NotFound("User", id)
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventUserDeleted, UserID: &id})
	})
}

// AssignUserRole gives a user of the domain a role of the domain.
func (db *DB) AssignUserRole(ctx context.Context, userID, roleID uuid.UUID, expiresAt *time.Time) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := checkAssignable(ctx, tx, "users", "User", userID, roleID); err != nil {
			return err
		}
		if err := assignUserRole(ctx, tx, userID, roleID, expiresAt); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleAssigned, UserID: &userID, Meta: eventMeta("roleId", roleID)})
	})
}

// RemoveUserRole takes a role from a user.
func (db *DB) RemoveUserRole(ctx context.Context, userID, roleID uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM role_on_user WHERE domain = $1 AND user_id = $2 AND role_id = $3", tx.Domain, userID, roleID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.Errorf(takaro.CodeNotFound, "User %s does not have role %s", userID, roleID)
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleRemoved, UserID: &userID, Meta: eventMeta("roleId", roleID)})
	})
}

// checkAssignable checks, inside the domain's transaction, that the user or
// player (table, resource) and the role both exist in the domain and that
// the role is not one everybody holds implicitly.
func checkAssignable(ctx context.Context, tx *Tx, table, resource string, id, roleID uuid.UUID) error {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE domain = $1 AND id = $2)", tx.Domain, id).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return takaro.NotFound(resource, id)
	}
	var name string
	var system bool
	err := tx.QueryRow(ctx, "SELECT name, system FROM roles WHERE domain = $1 AND id = $2", tx.Domain, roleID).Scan(&name, &system)
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.NotFound("Role", roleID)
	}
	if err != nil {
		return err
	}
	if system && (name == takaro.RoleUser || name == takaro.RolePlayer) {
		return takaro.Errorf(takaro.CodeBadRequest, "Cannot assign Player or User role, everyone has these by default")
	}
	return nil
}

func checkDashboardUserLimit(ctx context.Context, tx *Tx) error {
	return checkLimit(ctx, tx, "max_users", "SELECT count(*) FROM users WHERE domain = $1 AND is_dashboard_user",
		"Max users ({limit}) limit reached")
}

// insertUser creates a user, hashing the password with crypt() in the
// INSERT itself, and returns the new id.
func insertUser(ctx context.Context, tx *Tx, cost int, in takaro.UserCreate) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO users (domain, name, email, is_dashboard_user, password_hash)
		VALUES ($1, $2, $3, $4, `+hashExpr("$5", "$6")+`) RETURNING id`,
		tx.Domain, in.Name, in.Email, in.IsDashboardUser, in.Password, cost).Scan(&id)
	return id, translateError(err, "user")
}

func assignUserRole(ctx context.Context, tx *Tx, userID, roleID uuid.UUID, expiresAt *time.Time) error {
	_, err := tx.Exec(ctx, "INSERT INTO role_on_user (domain, user_id, role_id, expires_at) VALUES ($1, $2, $3, $4)",
		tx.Domain, userID, roleID, expiresAt)
	if pgErr := asPgError(err); pgErr != nil && pgErr.Code == sqlstateUniqueViolation {
		return &takaro.Error{Code: takaro.CodeConflict, Message: "The user already has this role", Err: err}
	}
	return translateError(err, "role assignment")
}

func findUserTx(ctx context.Context, tx *Tx, id uuid.UUID) (*takaro.User, error) {
	var user takaro.User
	err := tx.QueryRow(ctx, "SELECT "+userObject.build("t")+" FROM users t WHERE t.domain = $1 AND t.id = $2", tx.Domain, id).Scan(&user)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, takaro.NotFound("User", id)
	}
	return &user, err
}
