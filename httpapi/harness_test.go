package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// The black-box harness: a real API server on a loopback port over a real
// PostgreSQL database private to the test, driven by a plain HTTP client.

const (
	testAdminSecret = "test-admin-secret-0123456789"
	testJWTSecret   = "test-jwt-secret-0123456789abcdef"
)

// testServer is one running API with its own database.
type testServer struct {
	t      testing.TB
	URL    string
	DB     *postgres.DB
	API    *httpapi.Server
	logs   *syncBuffer
	client *http.Client
}

// syncBuffer collects the server's log lines; handlers log concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestServer starts an API server on a loopback port. opts may change
// its configuration before it starts.
func newTestServer(t testing.TB, opts ...func(*httpapi.Config)) *testServer {
	t.Helper()
	return newTestServerOn(t, pgtest.New(t).Open(t, postgres.Options{}), opts...)
}

// newTestServerOn is newTestServer over a data core the test opened itself:
// for example a second one on the same database, or one whose pool
// configuration (pgtest.Database.Config) carries a pgx tracer.
func newTestServerOn(t testing.TB, db *postgres.DB, opts ...func(*httpapi.Config)) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg := httpapi.Config{
		Domains: db, Users: db, Roles: db, GameServers: db, Players: db, Variables: db, Events: db, Settings: db, Tracking: db, Auth: db,
		Modules: db, Commands: db, Hooks: db, CronJobs: db, Functions: db,
		Currency: db, Bans: db, Items: db, Entities: db, Shop: db,
		SearchFields: postgres.SearchFields,
		Ready:        db.Ping,
		AdminSecret:  testAdminSecret,
		JWTSecret:    []byte(testJWTSecret),
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &testServer{t: t, URL: srv.URL, DB: db, API: api, logs: logs, client: srv.Client()}
}

// openAndMigrate opens the data core on an empty database, as the command
// does (postgres.ConnConfig), with pgtest.Key and the lowest bcrypt cost,
// and applies every migration the way takaro db migrate does; a failure
// names what.
func openAndMigrate(t testing.TB, what string, conn postgres.ConnConfig, opts postgres.Options) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	cfg, err := conn.PoolConfig()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Keys, err = postgres.NewKeyring(pgtest.Key); err != nil {
		t.Fatal(err)
	}
	opts.BcryptCost = 4
	db, err := postgres.Open(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("open %s: %v", what, err)
	}
	t.Cleanup(db.Close)
	if err := db.EnsurePgcrypto(ctx); err != nil {
		t.Fatalf("pgcrypto %s: %v", what, err)
	}
	m, err := postgres.NewMigrator(db, postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	if applied, err := m.Up(ctx); err != nil || len(applied) == 0 {
		t.Fatalf("migrate %s: %v (%d applied)", what, err, len(applied))
	}
	return db
}

// response is a decoded API response.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Data   json.RawMessage
	Meta   struct {
		Page  *int `json:"page"`
		Limit *int `json:"limit"`
		Total *int `json:"total"`
		Error *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
}

// header is one request header.
type header struct{ name, value string }

func bearer(token string) header { return header{"Authorization", "Bearer " + token} }
func adminHeader() header        { return header{"X-Takaro-Admin-Token", testAdminSecret} }

// do sends a request; body is JSON-encoded unless it is a string or nil.
func (s *testServer) do(method, path string, body any, headers ...header) *response {
	s.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, reader)
	if err != nil {
		s.t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		req.Header.Set(h.name, h.value)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	out := &response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// expect fails the test unless the response has the status (and, for
// errors, the code).
func (r *response) expect(t testing.TB, status int, code ...string) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if len(code) > 0 && (r.Meta.Error == nil || r.Meta.Error.Code != code[0]) {
		t.Fatalf("error code %v, want %s: %s", r.Meta.Error, code[0], r.Raw)
	}
	return r
}

// decode unmarshals the response's data into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data: %v\n%s", err, r.Raw)
	}
}

// tenant is a domain created through the admin API, logged in as its root.
type tenant struct {
	ID         string
	Password   string
	RootUserID string
	RootRoleID string
	Token      string // a session token of the root user
}

// auth is the root user's credential for requests.
func (tn *tenant) auth() header { return bearer(tn.Token) }

// newTenant creates a domain through the admin API and logs in as its root
// user. limits may set the domain's quotas.
func (s *testServer) newTenant(limits map[string]any) *tenant {
	s.t.Helper()
	body := map[string]any{"name": fmt.Sprintf("tenant %d", tenantCounter.Add())}
	for k, v := range limits {
		body[k] = v
	}
	var created takaro.DomainCreated
	s.do(http.MethodPost, "/domain", body, adminHeader()).expect(s.t, http.StatusOK).decode(s.t, &created)
	tn := &tenant{ID: created.CreatedDomain.ID, Password: created.Password,
		RootUserID: created.RootUser.ID.String(), RootRoleID: created.RootRole.ID.String()}
	tn.Token = s.login("root@"+tn.ID+".com", tn.Password, tn.ID)
	return tn
}

// login returns a session token; domain is the X-Takaro-Domain hint.
func (s *testServer) login(email, password, domain string) string {
	s.t.Helper()
	var session struct {
		Token string `json:"token"`
	}
	s.do(http.MethodPost, "/login", map[string]string{"username": email, "password": password},
		header{"X-Takaro-Domain", domain}).expect(s.t, http.StatusOK).decode(s.t, &session)
	return session.Token
}

// counter hands out distinct numbers to tests running in parallel.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) Add() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

var tenantCounter counter
