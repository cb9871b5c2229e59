package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
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
	sqlstateQueryCanceled        = "57014" // the statement timeout, or a cancel request
)

// unavailableStates are the SQLSTATEs of a server that is going away or
// cannot take the work now: connection exceptions (class 08), shutdown
// and crash (57P01, 57P02), still starting up or recovering (57P03), out
// of connections (53300).
var unavailableStates = map[string]bool{
	"57P01": true, "57P02": true, "57P03": true, "53300": true,
}

// unavailable turns the errors of a database that cannot be reached, or
// did not answer within the statement timeout, into takaro.CodeUnavailable
// (503: the request may be retried), keeping the cause for the log. Every
// unit of work passes its error through it (tenancy.go), so no outage
// reaches a client as an internal error. Other errors pass unchanged.
func (db *DB) unavailable(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*takaro.Error](err); ok {
		return err
	}
	if pgErr := asPgError(err); pgErr != nil {
		switch {
		case pgErr.Code == sqlstateQueryCanceled:
			return &takaro.Error{Code: takaro.CodeUnavailable, Err: err,
				Message: fmt.Sprintf("The database did not answer within the statement timeout (%s); try again later", db.timeout)}
		case strings.HasPrefix(pgErr.Code, "08") || unavailableStates[pgErr.Code]:
			return &takaro.Error{Code: takaro.CodeUnavailable, Message: unavailableMessage, Err: err}
		}
		return err
	}
	// No answer from the server at all: it could not be reached, or the
	// connection broke (a crash, a restart, a network failure).
	var netErr net.Error
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) {
		return &takaro.Error{Code: takaro.CodeUnavailable, Message: unavailableMessage, Err: err}
	}
	return err
}

const unavailableMessage = "The database is unavailable; try again later"

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
		// The reference's message; its clients compare it.
		return &takaro.Error{Code: takaro.CodeConflict, Message: "Unique constraint violation", Err: err}
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

// constraintFields maps the foreign key constraints that a client can
// violate (and fix) to the API field to blame. The names are
// PostgreSQL's defaults, <table>_<columns>_fkey, or set in the
// migrations; a test checks that each exists.
var constraintFields = map[string]string{
	"variables_domain_gameserver_id_fkey":            "gameServerId",
	"variables_domain_player_id_fkey":                "playerId",
	"role_on_user_domain_user_id_fkey":               "userId",
	"role_on_user_domain_role_id_fkey":               "roleId",
	"role_on_player_domain_player_id_fkey":           "playerId",
	"role_on_player_domain_role_id_fkey":             "roleId",
	"role_on_player_domain_gameserver_id_fkey":       "gameServerId",
	"permission_on_role_permission_id_fkey":          "permissionId",
	"player_on_gameserver_domain_player_id_fkey":     "playerId",
	"player_on_gameserver_domain_gameserver_id_fkey": "gameServerId",
	"api_key_permissions_permission_id_fkey":         "permissions",
}

// quoteIdent quotes an SQL identifier for messages that show a statement
// an operator should run.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
