package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// callServed sends a request to a running takaro serve and returns the
// status and body.
func callServed(t *testing.T, sv *served, method, path, body string, headers map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+sv.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(data)
}

// TestLogoutReachesAnotherProcess runs two takaro serve processes on one
// database: a session logged out through one is refused by the other,
// which had its identity cached, within 100 ms. In the second case the
// other process's pool goes through PgBouncer in transaction mode and its
// listener, as configured, straight to PostgreSQL.
func TestLogoutReachesAnotherProcess(t *testing.T) {
	t.Parallel()
	for _, behindPgBouncer := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "other behind PgBouncer"}[behindPgBouncer], func(t *testing.T) {
			t.Parallel()
			testLogoutReachesAnotherProcess(t, behindPgBouncer)
		})
	}
}

func testLogoutReachesAnotherProcess(t *testing.T, behindPgBouncer bool) {
	db := pgtest.New(t)
	a := startServe(t, serveEnv(t, db, freePort(t)))
	env := serveEnv(t, db, freePort(t))
	if behindPgBouncer {
		env["POSTGRES_CONNECTION_STRING"] = db.PgBouncer(t, 2)
		env["POSTGRES_LISTEN_CONNECTION_STRING"] = db.ConnString
	}
	b := startServe(t, env)

	status, body := callServed(t, a, http.MethodPost, "/domain", `{"name":"two processes"}`,
		map[string]string{"X-Takaro-Admin-Token": serveAdminSecret})
	var created struct {
		Data struct {
			CreatedDomain struct{ ID string }    `json:"createdDomain"`
			RootUser      struct{ Email string } `json:"rootUser"`
			Password      string                 `json:"password"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &created); status != http.StatusOK || err != nil {
		t.Fatalf("POST /domain: %d %s", status, body)
	}
	login, err := json.Marshal(map[string]string{"username": created.Data.RootUser.Email, "password": created.Data.Password})
	if err != nil {
		t.Fatal(err)
	}
	status, body = callServed(t, a, http.MethodPost, "/login", string(login), nil)
	var session struct {
		Data struct{ Token string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &session); status != http.StatusOK || err != nil || session.Data.Token == "" {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	auth := map[string]string{"Authorization": "Bearer " + session.Data.Token}

	// b serves the session from its identity cache (its metrics say so).
	hits := func() string {
		_, metrics := callServed(t, b, http.MethodGet, "/metrics", "", nil)
		for line := range strings.Lines(metrics) {
			if strings.HasPrefix(line, "identity_cache_hits_total ") {
				return line
			}
		}
		return ""
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		before := hits()
		if status, body := callServed(t, b, http.MethodGet, "/me", "", auth); status != http.StatusOK {
			t.Fatalf("GET /me on the other process: %d %s", status, body)
		}
		if hits() != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process never served the session from its identity cache")
		}
	}

	if status, body := callServed(t, a, http.MethodPost, "/logout", "", auth); status != http.StatusOK {
		t.Fatalf("POST /logout: %d %s", status, body)
	}
	start := time.Now()
	for {
		status, body := callServed(t, b, http.MethodGet, "/me", "", auth)
		if status == http.StatusUnauthorized {
			t.Logf("refused by the other process after %v", time.Since(start))
			return
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Fatalf("the other process still answers %d %s %v after the logout", status, body, time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
}
