package postgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gotakaro/takaro"
)

// Keyset pagination. A cursor names the last row of a page by its sort
// value and its id; the next page is the rows after it in the query's
// order, read along the same index as the first page, so page 5,000
// costs what page 1 does and rows inserted meanwhile neither repeat nor
// skip a row.
//
// On the wire a cursor is base64url(JSON {"k": sort value, "i": id}) and,
// after a dot, a checksum over that text and the query's fingerprint (the
// search, the domain, sortBy, sortDirection and every filter). A cursor
// presented with another query, or altered, fails the checksum and is a
// 400. It is a position, not a credential: one crafted to pass the
// checksum can only start a page where a greaterThan filter could, in
// the caller's own domain.

// cursorBody is the decoded part of a cursor.
type cursorBody struct {
	Key any    `json:"k"`
	ID  string `json:"i"`
}

// errCursor is the answer to every cursor that does not fit its query.
func errCursor() error {
	return takaro.Invalid("cursor",
		"was not issued for this search (the same filters, search, ranges, sortBy and sortDirection) or was altered; "+
			"start again without cursor")
}

// fingerprint identifies what a cursor's position means: the search
// (table and fixed condition), the domain, the order and the filters.
// Page, limit and extend are not part of it.
func (s *searchSpec) fingerprint(domain string, q takaro.Query) ([]byte, error) {
	j, err := json.Marshal([]any{s.table, s.where, s.whereArgs, domain, q.SortBy, strings.ToLower(q.SortDirection),
		q.Filters, q.Search, q.GreaterThan, q.LessThan})
	if err != nil {
		return nil, takaro.Invalid("filters", "cannot be encoded: %v", err)
	}
	sum := sha256.Sum256(j)
	return sum[:], nil
}

// cursorChecksum binds a cursor's body to its query's fingerprint.
func cursorChecksum(body string, fingerprint []byte) string {
	h := sha256.New()
	h.Write(fingerprint)
	h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// cursor returns the cursor of the row with sort value key and id.
func (b *builtSearch) cursor(key any, id string) (string, error) {
	if t, ok := key.(time.Time); ok {
		key = t.UTC().Format(time.RFC3339Nano)
	}
	j, err := json.Marshal(cursorBody{Key: key, ID: id})
	if err != nil {
		return "", fmt.Errorf("search: encode cursor: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(j)
	return body + "." + cursorChecksum(body, b.fingerprint), nil
}

// continueAfter decodes a cursor of this query and sets the condition
// that selects the rows after its position, in the query's order.
func (b *builtSearch) continueAfter(s *searchSpec, cursor string) error {
	body, sum, ok := strings.Cut(cursor, ".")
	if !ok || len(cursor) > 2048 || sum != cursorChecksum(body, b.fingerprint) {
		return errCursor()
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return errCursor()
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var c cursorBody
	if err := dec.Decode(&c); err != nil {
		return errCursor()
	}
	id, err := s.fields["id"].convert("cursor", c.ID)
	if err != nil || id == nil {
		return errCursor()
	}
	op := ">"
	if b.desc {
		op = "<"
	}
	if b.sort.column == "" {
		b.after = "t.id " + op + " " + b.bind(id)
		return nil
	}
	key, err := b.sort.convert("cursor", c.Key)
	if err != nil {
		return errCursor()
	}
	col := b.sort.column
	switch {
	// NULLs sort last ascending and first descending.
	case key == nil && !b.sort.nullable:
		return errCursor()
	case key == nil && b.desc:
		b.after = fmt.Sprintf("(%s IS NULL AND t.id < %s OR %s IS NOT NULL)", col, b.bind(id), col)
	case key == nil:
		b.after = fmt.Sprintf("(%s IS NULL AND t.id > %s)", col, b.bind(id))
	case b.sort.nullable && !b.desc:
		b.after = fmt.Sprintf("((%s, t.id) > (%s, %s) OR %s IS NULL)", b.sort.orderExpr(), b.bind(key), b.bind(id), col)
	default:
		// A row comparison, which the index on (domain, sort column, id)
		// answers as the start of its scan.
		b.after = fmt.Sprintf("(%s, t.id) %s (%s, %s)", b.sort.orderExpr(), op, b.bind(key), b.bind(id))
	}
	return nil
}

// orderExpr is the field's column as ORDER BY and comparisons use it:
// text in the collation of every text order.
func (f field) orderExpr() string {
	if f.kind == kindText {
		return f.column + textOrder
	}
	return f.column
}
