package postgres

import (
	"errors"
	"strings"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the data core reacts to.
const (
	sqlstateUniqueViolation      = "23505"
	sqlstateForeignKeyViolation  = "23503"
	sqlstateNotNullViolation     = "23502"
	sqlstateCheckViolation       = "23514"
	sqlstateInvalidText          = "22P02"
	sqlstateInsufficientPrivlege = "42501"
	sqlstateUndefinedFile        = "58P01"
	sqlstateDuplicateObject      = "42710"
	sqlstateLockNotAvailable     = "55P03"
	sqlstateExternalRoutine      = "39000" // raised by pgp_sym_decrypt for a wrong key or corrupt data
)

func asPgError(err error) *pgconn.PgError {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr
	}
	return nil
}

// translateError turns a driver error into a *takaro.Error that is safe to
// show a client: it names the resource and field, never SQL, constraint
// internals or values. Errors it does not recognise stay as they are and
// end up as internal errors (logged, not shown).
//
// resource names the row being written, for example "game server"; the
// messages for a missing reference name the referenced resource by its
// foreign key, so another tenant's id reads exactly like a missing one.
func translateError(err error, resource string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.Errorf(takaro.CodeNotFound, "%s not found", resource)
	}
	pgErr := asPgError(err)
	if pgErr == nil {
		return err
	}
	switch pgErr.Code {
	case sqlstateUniqueViolation:
		e := takaro.Errorf(takaro.CodeConflict, "Unique constraint violation")
		if field := constraintFields[pgErr.ConstraintName]; field != "" {
			e.Message = "a " + resource + " with this " + field + " already exists"
		}
		e.Err = err
		return e
	case sqlstateForeignKeyViolation:
		e := takaro.Errorf(takaro.CodeBadRequest, "a referenced row does not exist")
		if field := constraintFields[pgErr.ConstraintName]; field != "" {
			e = takaro.Invalid(field, "refers to something that does not exist")
		}
		e.Err = err
		return e
	case sqlstateNotNullViolation:
		return &takaro.Error{Code: takaro.CodeBadRequest, Message: "Missing required field", Err: err}
	case sqlstateCheckViolation, sqlstateInvalidText:
		return &takaro.Error{Code: takaro.CodeBadRequest, Message: "Invalid data provided", Err: err}
	}
	return err
}

// constraintFields maps the unique and foreign key constraints that a
// client can violate (and fix) to the API field to blame. The names are
// PostgreSQL's defaults, <table>_<columns>_key and _fkey, or set in the
// migrations; a test checks that each exists.
var constraintFields = map[string]string{
	"roles_domain_name_key":                                 "name",
	"users_domain_email_key":                                "email",
	"users_domain_discord_id_key":                           "discordId",
	"gameservers_domain_name_key":                           "name",
	"gameservers_domain_identity_token_key":                 "identityToken",
	"players_domain_steam_id_key":                           "steamId",
	"players_domain_xbox_live_id_key":                       "xboxLiveId",
	"players_domain_epic_online_services_id_key":            "epicOnlineServicesId",
	"players_domain_platform_id_key":                        "platformId",
	"player_on_gameserver_domain_gameserver_id_game_id_key": "gameId",
	"variables_scope_key":                                   "key",
	"variables_domain_gameserver_id_fkey":                   "gameServerId",
	"variables_domain_player_id_fkey":                       "playerId",
	"role_on_user_domain_user_id_fkey":                      "userId",
	"role_on_user_domain_role_id_fkey":                      "roleId",
	"role_on_player_domain_player_id_fkey":                  "playerId",
	"role_on_player_domain_role_id_fkey":                    "roleId",
	"role_on_player_domain_gameserver_id_fkey":              "gameServerId",
	"permission_on_role_permission_id_fkey":                 "permissionId",
	"player_on_gameserver_domain_player_id_fkey":            "playerId",
	"player_on_gameserver_domain_gameserver_id_fkey":        "gameServerId",
	"api_key_permissions_permission_id_fkey":                "permissions",
}

// quoteIdent quotes an SQL identifier for messages that show a statement
// an operator should run.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
