package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// A statement that runs into the statement timeout (here: waiting for a
// row lock another transaction holds) is a 503 that says so, at once;
// the next request, once the lock is gone, succeeds.
func TestStatementTimeoutIsServiceUnavailable(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := newTestServerOn(t, pgtest.New(t).Open(t, postgres.Options{StatementTimeout: timeout}))
	k := newKit(t, s, nil)
	var v takaro.Variable
	s.do(http.MethodPost, "/variables", map[string]any{"key": "locked", "value": "1"}, k.root()).expect(t, http.StatusOK).decode(t, &v)

	s.inDomain(t, k.tn.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "SELECT 1 FROM variables WHERE domain = $1 AND id = $2 FOR UPDATE", k.tn.ID, v.ID); err != nil {
			return err
		}
		start := time.Now()
		r := s.do(http.MethodPut, "/variables/"+v.ID.String(), map[string]any{"value": "2"}, k.root())
		r.expect(t, http.StatusServiceUnavailable, "ServiceUnavailableError")
		if elapsed := time.Since(start); elapsed < timeout || elapsed > 10*timeout {
			t.Errorf("answered after %s with a statement timeout of %s", elapsed, timeout)
		}
		if !strings.Contains(r.errorMessage(), "statement timeout (300ms)") || r.Header.Get("Retry-After") == "" {
			t.Errorf("message %q, Retry-After %q", r.errorMessage(), r.Header.Get("Retry-After"))
		}
		return nil
	})
	s.do(http.MethodPut, "/variables/"+v.ID.String(), map[string]any{"value": "2"}, k.root()).expect(t, http.StatusOK)
	if strings.Contains(s.logs.String(), `"level":"ERROR"`) {
		t.Errorf("a timeout is not an error of the server:\n%s", s.logs.String())
	}
}
