package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// Foreign keys that include the domain keep every reference inside its
// domain, but they cannot see everything a reference must respect: a
// soft-deleted game server still satisfies them, and the ids an event
// mentions are deliberately no foreign keys (events outlive their rows).
// checkReferences covers both, before a write, with the same answer a
// foreign key violation gets, so a row of another domain, a deleted one
// and a made-up id are indistinguishable.

// reference is one id a write refers to.
type reference struct {
	field string     // the API field, for the error
	id    *uuid.UUID // nil: nothing referred to
	// exists is SQL that is true when $1 (the domain) and $2 (the id) name
	// a row the reference may point at.
	exists string
}

var (
	refGameServer = "EXISTS (SELECT 1 FROM gameservers WHERE domain = $1 AND id = $2 AND deleted_at IS NULL)"
	refPlayer     = "EXISTS (SELECT 1 FROM players WHERE domain = $1 AND id = $2)"
	refUser       = "EXISTS (SELECT 1 FROM users WHERE domain = $1 AND id = $2)"
	refModule     = "EXISTS (SELECT 1 FROM modules WHERE domain = $1 AND id = $2)"
)

// checkReferences checks, in one statement, that every given reference
// names a live row of the transaction's domain.
func checkReferences(ctx context.Context, tx *Tx, refs ...reference) error {
	var checks []string
	args := []any{tx.Domain}
	var used []reference
	for _, r := range refs {
		if r.id == nil {
			continue
		}
		args = append(args, *r.id)
		n := "$" + strconv.Itoa(len(args))
		checks = append(checks, strings.ReplaceAll(r.exists, "$2", n))
		used = append(used, r)
	}
	if len(checks) == 0 {
		return nil
	}
	ok := make([]bool, len(checks))
	dest := make([]any, len(checks))
	for i := range ok {
		dest[i] = &ok[i]
	}
	if err := tx.QueryRow(ctx, "SELECT "+strings.Join(checks, ", "), args...).Scan(dest...); err != nil {
		return err
	}
	for i, r := range used {
		if !ok[i] {
			return takaro.Invalid(r.field, "refers to something that does not exist")
		}
	}
	return nil
}

// checkGameServer answers 404 unless the game server a path names is a live
// one of the transaction's domain.
func checkGameServer(ctx context.Context, tx *Tx, id uuid.UUID) error {
	err := checkReferences(ctx, tx, reference{"id", &id, refGameServer})
	if takaro.ErrorCode(err) == takaro.CodeValidation {
		return takaro.NotFound("Gameserver", id)
	}
	return err
}
