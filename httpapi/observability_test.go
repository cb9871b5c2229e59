package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// logLine is one line of the server's JSON log.
type logLine struct {
	Msg       string `json:"msg"`
	RequestID string `json:"request_id"`
	Route     string `json:"route"`
	Method    string `json:"method"`
	Status    int    `json:"status"`
	Domain    string `json:"domain"`
	UserID    string `json:"user_id"`
	Level     string `json:"level"`
	ErrorCode string `json:"error_code"`
	Error     string `json:"error"`
	// DurationMS is the time to answer, in milliseconds like every
	// duration in the log.
	DurationMS *float64 `json:"duration_ms"`
}

// requestLines waits until the log has n request lines (a request's line
// is written just after its response) and returns every line.
func (s *testServer) requestLines(t testing.TB, n int) []logLine {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var all, requests []logLine
		for _, text := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
			var l logLine
			if err := json.Unmarshal([]byte(text), &l); err != nil {
				t.Fatalf("a log line is not JSON: %v\n%s", err, text)
			}
			all = append(all, l)
			if l.Msg == "request" {
				requests = append(requests, l)
			}
		}
		if len(requests) >= n || time.Now().After(deadline) {
			if len(requests) != n {
				t.Fatalf("%d request lines in the log, want %d:\n%s", len(requests), n, s.logs.String())
			}
			return all
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogs drives a session through secrets of every kind (passwords,
// session tokens, an API key, a domain token, connection info) and checks
// that none reaches the log, and that every request has exactly one log
// line whose request_id is the X-Request-Id the client got.
func TestLogs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var responses []*response
	do := func(method, path string, body any, headers ...header) *response {
		t.Helper()
		r := s.do(method, path, body, headers...)
		responses = append(responses, r)
		return r
	}
	var created takaro.DomainCreated
	do(http.MethodPost, "/domain", map[string]any{"name": "logged", "maxGameservers": 2}, adminHeader()).expect(t, http.StatusOK).decode(t, &created)
	var session struct{ Token string }
	do(http.MethodPost, "/login", map[string]any{"username": created.RootUser.Email, "password": created.Password}).expect(t, http.StatusOK).decode(t, &session)
	root := bearer(session.Token)
	userPassword := "user-password-" + uuid.NewString()
	var user takaro.User
	do(http.MethodPost, "/user", map[string]any{"name": "logged user", "email": "logged@example.com", "password": userPassword, "isDashboardUser": true}, root).
		expect(t, http.StatusOK).decode(t, &user)
	do(http.MethodPost, "/login", map[string]any{"username": "logged@example.com", "password": userPassword + "-wrong"}).expect(t, http.StatusUnauthorized)
	var userSession struct{ Token string }
	do(http.MethodPost, "/login", map[string]any{"username": "logged@example.com", "password": userPassword}).expect(t, http.StatusOK).decode(t, &userSession)
	var key takaro.APIKeyCreated
	do(http.MethodPost, "/apikey", map[string]any{"name": "logged key", "permissions": []string{takaro.PermManageGameservers}}, root).expect(t, http.StatusOK).decode(t, &key)
	var jwt struct{ Token string }
	do(http.MethodPost, "/token", map[string]any{"domainId": created.CreatedDomain.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &jwt)
	do(http.MethodGet, "/me", nil, header{"X-Takaro-Token", jwt.Token}).expect(t, http.StatusOK)

	host, rcon := "rcon-host-"+uuid.NewString()[:8]+".example", "rcon-password-"+uuid.NewString()
	var gs takaro.GameServer
	do(http.MethodPost, "/gameserver", map[string]any{"name": "logged server", "type": "RUST",
		"connectionInfo": `{"host": "` + host + `", "password": "` + rcon + `"}`}, bearer(key.Secret)).expect(t, http.StatusOK).decode(t, &gs)
	do(http.MethodGet, "/gameserver/"+gs.ID.String(), nil, root).expect(t, http.StatusOK)
	rcon2 := "rcon-password-" + uuid.NewString()
	do(http.MethodPut, "/gameserver/"+gs.ID.String(), map[string]any{"connectionInfo": `{"host": "` + host + `", "password": "` + rcon2 + `"}`}, root).expect(t, http.StatusOK)
	do(http.MethodPost, "/gameserver", map[string]any{"name": "x", "type": "RUST", "connectionInfo": `{"password": "` + rcon + `"}`}, root).expect(t, http.StatusBadRequest)
	do(http.MethodPost, "/gameserver", `{"name": "bad json", "connectionInfo": "`+rcon, root).expect(t, http.StatusBadRequest)
	do(http.MethodGet, "/me", nil, bearer(key.Secret+"x")).expect(t, http.StatusUnauthorized)
	do(http.MethodGet, "/me", nil, header{"X-Takaro-Admin-Token", testAdminSecret}, bearer(userSession.Token)).expect(t, http.StatusOK)
	do(http.MethodGet, "/no/such/route?password="+rcon, nil).expect(t, http.StatusNotFound)
	do(http.MethodPost, "/logout", nil, bearer(userSession.Token)).expect(t, http.StatusOK)

	// A client's own request id is kept when it looks like one.
	r := do(http.MethodGet, "/healthz", nil, header{"X-Request-Id", "client-chosen-id-0001"})
	if got := r.Header.Get("X-Request-Id"); got != "client-chosen-id-0001" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	do(http.MethodGet, "/readyz", nil)
	do(http.MethodGet, "/metrics", nil)
	r = do(http.MethodGet, "/healthz", nil, header{"X-Request-Id", "bad id\twith " + rcon})
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, "bad") {
		t.Errorf("X-Request-Id %q, want a new one for a malformed client id", got)
	}

	lines := s.requestLines(t, len(responses))
	ids := map[string]int{}
	for _, l := range lines {
		if l.Msg == "request" {
			ids[l.RequestID]++
		}
	}
	for _, r := range responses {
		id := r.Header.Get("X-Request-Id")
		if id == "" || ids[id] != 1 {
			t.Errorf("response with X-Request-Id %q has %d log lines, want 1", id, ids[id])
		}
	}
	for _, l := range lines {
		if l.Msg == "request" && (l.Method == "" || l.Route == "" || l.Status == 0) {
			t.Errorf("a request line lacks method, route or status: %+v", l)
		}
		if l.Msg == "request" && l.DurationMS == nil {
			t.Errorf("a request line lacks duration_ms: %+v", l)
		}
		// Probes are logged at debug level, everything else at info; a
		// refusal says why.
		probe := slices.Contains([]string{"GET /healthz", "GET /readyz", "GET /metrics"}, l.Route)
		if l.Msg == "request" && (probe != (l.Level == "DEBUG") || !probe && l.Level != "INFO") {
			t.Errorf("a request line of %s at level %s", l.Route, l.Level)
		}
		if l.Msg == "request" && l.Status >= 400 && l.Status < 500 && (l.ErrorCode == "" || l.Error == "") {
			t.Errorf("a %d line does not say why: %+v", l.Status, l)
		}
		if l.Msg == "request" && l.Status < 400 && (l.ErrorCode != "" || l.Error != "") {
			t.Errorf("a %d line names an error: %+v", l.Status, l)
		}
		if l.Msg == "request" && l.Route == "POST /gameserver" && l.Status == http.StatusOK && (l.Domain != created.CreatedDomain.ID || l.UserID != created.RootUser.ID.String()) {
			t.Errorf("the line of an authenticated request does not name its caller: %+v", l)
		}
	}

	secrets := map[string]string{
		"root password": created.Password, "user password": userPassword,
		"root session": session.Token, "user session": userSession.Token, "API key": key.Secret, "domain token": jwt.Token,
		"connection host": host, "connection password": rcon, "new connection password": rcon2,
		"encryption key": pgtest.Key, "admin secret": testAdminSecret, "JWT secret": testJWTSecret,
	}
	for _, token := range []string{session.Token, userSession.Token, key.Secret} {
		parsed, err := takaro.ParseToken(token)
		if err != nil {
			t.Fatal(err)
		}
		secrets["the secret part of "+token[:9]] = parsed.Secret
	}
	if parts := strings.Split(jwt.Token, "."); len(parts) == 3 {
		secrets["the domain token's signature"] = parts[2]
	}
	log := s.logs.String()
	for name, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

// TestHealth checks /healthz (always 200) and /readyz (200 only while the
// database answers).
func TestHealth(t *testing.T) {
	t.Parallel()
	get := func(s *testServer, path string) *response {
		t.Helper()
		return s.do(http.MethodGet, path, nil)
	}
	expectHealth := func(r *response, status int, healthy bool) {
		t.Helper()
		var body map[string]any
		if err := json.Unmarshal(r.Raw, &body); err != nil || r.Status != status || body["healthy"] != healthy || len(body) != 1 {
			t.Errorf("status %d, body %s; want %d {\"healthy\": %v}", r.Status, r.Raw, status, healthy)
		}
	}

	s := newTestServer(t)
	expectHealth(get(s, "/healthz"), http.StatusOK, true)
	expectHealth(get(s, "/readyz"), http.StatusOK, true)

	down := newTestServer(t, func(c *httpapi.Config) {
		c.Ready = func(context.Context) error { return errors.New("connection refused") }
	})
	expectHealth(get(down, "/healthz"), http.StatusOK, true)
	expectHealth(get(down, "/readyz"), http.StatusServiceUnavailable, false)

	// A real outage: the data core's pool is closed.
	closed := newTestServer(t)
	closed.DB.Close()
	expectHealth(get(closed, "/healthz"), http.StatusOK, true)
	expectHealth(get(closed, "/readyz"), http.StatusServiceUnavailable, false)

	unchecked := newTestServer(t, func(c *httpapi.Config) { c.Ready = nil })
	expectHealth(get(unchecked, "/readyz"), http.StatusOK, true)
}

// TestMetrics checks the Prometheus exposition: requests counted by route
// pattern (never a raw id), method and status, latency histograms, and the
// pool's state when PoolStats is set.
func TestMetrics(t *testing.T) {
	t.Parallel()
	stats := httpapi.PoolStats{Acquired: 2, Idle: 3, Total: 5, Max: 17, Waits: 7, WaitDuration: 1500 * time.Millisecond}
	cache := httpapi.IdentityCacheStats{Hits: 11, Misses: 4, Invalidations: 3, Entries: 2, Listening: true}
	s := newTestServer(t, func(c *httpapi.Config) {
		c.PoolStats = func() httpapi.PoolStats { return stats }
		c.IdentityCacheStats = func() httpapi.IdentityCacheStats { return cache }
	})
	k := newKit(t, s, nil)
	ids := []string{uuid.NewString(), uuid.NewString()}
	for _, id := range ids {
		s.do(http.MethodGet, "/role/"+id, nil, k.root()).expect(t, http.StatusNotFound)
	}
	s.do(http.MethodGet, "/role/not-a-uuid", nil, k.root()).expect(t, http.StatusBadRequest)
	s.do(http.MethodGet, "/no/such/"+ids[0], nil).expect(t, http.StatusNotFound)
	s.do(http.MethodGet, "/domain/"+k.tn.ID, nil, adminHeader()).expect(t, http.StatusOK)

	r := s.do(http.MethodGet, "/metrics", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	text := string(r.Raw)
	for _, want := range []string{
		`http_requests_total{method="GET",route="GET /role/{id}",status="404"} 2`,
		`http_requests_total{method="GET",route="GET /role/{id}",status="400"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_requests_total{method="GET",route="GET /domain/{id}",status="200"} 1`,
		`http_requests_total{method="POST",route="POST /domain",status="200"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="GET /role/{id}",le="0.005"}`,
		`http_request_duration_seconds_count{method="GET",route="GET /role/{id}"} 3`,
		"db_pool_acquired_connections 2", "db_pool_idle_connections 3", "db_pool_total_connections 5",
		"db_pool_max_connections 17", "db_pool_waits_total 7", "db_pool_wait_seconds_total 1.5",
		"identity_cache_hits_total 11", "identity_cache_misses_total 4", "identity_cache_invalidations_total 3",
		"identity_cache_entries 2", "identity_cache_listening 1",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, raw := range append(ids, k.tn.ID, "not-a-uuid", "/no/such") {
		if strings.Contains(text, raw) {
			t.Errorf("/metrics contains the raw path value %q", raw)
		}
	}

	// Without PoolStats there are no pool metrics.
	plain := newTestServer(t)
	if text := string(plain.do(http.MethodGet, "/metrics", nil).Raw); strings.Contains(text, "db_pool_") {
		t.Error("/metrics has pool metrics although PoolStats is not set")
	}
}

// TestOpenAPIServed checks that /openapi.json is served as an OpenAPI 3.1
// document (its content is checked in openapi_test.go).
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	r := s.do(http.MethodGet, "/openapi.json", nil).expect(t, http.StatusOK)
	var doc struct {
		OpenAPI string                          `json:"openapi"`
		Info    struct{ Title, Version string } `json:"info"`
		Paths   map[string]map[string]any       `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || doc.Info.Version == "" || len(doc.Paths) == 0 {
		t.Errorf("openapi %q, info %+v, %d paths", doc.OpenAPI, doc.Info, len(doc.Paths))
	}
}

var (
	tagPattern  = regexp.MustCompile(`(?is)<(script|link|img|iframe|source|object|embed)\b[^>]*>`)
	attrPattern = regexp.MustCompile(`(?is)\b(src|href|data|srcset)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
)

// TestAPIDocsPage checks that /api.html loads nothing from elsewhere and
// that whatever it loads is served by the binary.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	r := s.do(http.MethodGet, "/api.html", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api.html: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	page := string(r.Raw)
	if !strings.Contains(page, "/openapi.json") {
		t.Error("the page does not load /openapi.json")
	}
	for _, tag := range tagPattern.FindAllString(page, -1) {
		if strings.Contains(tag, "http://") || strings.Contains(tag, "https://") {
			t.Errorf("a tag refers to another site: %s", tag)
		}
		for _, m := range attrPattern.FindAllStringSubmatch(tag, -1) {
			ref := strings.Trim(m[2], `"'`)
			if strings.HasPrefix(ref, "//") || strings.Contains(ref, ":") && !strings.HasPrefix(ref, "data:") {
				t.Errorf("%s refers elsewhere: %s", m[1], ref)
				continue
			}
			if strings.HasPrefix(ref, "/") {
				if res := s.do(http.MethodGet, ref, nil); res.Status != http.StatusOK {
					t.Errorf("the page loads %s, which answers %d", ref, res.Status)
				}
			}
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not confine the page to this server", csp)
	}

	// GET / leads to the page.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.client.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/api.html" {
		t.Errorf("GET /: %d to %q, want 302 to /api.html", res.StatusCode, res.Header.Get("Location"))
	}
	if slices.Contains([]string{"", "/"}, r.Header.Get("X-Request-Id")) {
		t.Error("the page's response has no X-Request-Id")
	}
}
