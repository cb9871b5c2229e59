package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// send is s.do for goroutines other than the test's: it reports problems
// as an error instead of failing the test.
func (s *testServer) send(method, path string, body any, headers ...header) (int, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		req.Header.Set(h.name, h.value)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// race sends n requests at once (body(i) is the i-th body) and counts the
// answers by status; every refusal must be 400 with message.
func race(t *testing.T, s *testServer, n int, method, path string, body func(i int) any, h header, message string) int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		ok      int
		answers []string
	)
	for i := range n {
		wg.Go(func() {
			<-start
			status, raw, err := s.send(method, path, body(i), h)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				answers = append(answers, err.Error())
			case status == http.StatusOK:
				ok++
			default:
				var env struct {
					Meta struct {
						Error struct{ Code, Message string }
					}
				}
				if json.Unmarshal(raw, &env) != nil || status != http.StatusBadRequest || env.Meta.Error.Code != "BadRequestError" || env.Meta.Error.Message != message {
					answers = append(answers, fmt.Sprintf("%d %s", status, raw))
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, a := range answers {
		t.Errorf("%s %s: unexpected answer (want 200 or 400 %q): %s", method, path, message, a)
	}
	return ok
}

// TestLimitsUnderConcurrency sends more creations at once than a domain's
// limit allows: exactly the limit succeed, the rest get the reference's
// 400, and the totals agree.
func TestLimitsUnderConcurrency(t *testing.T) {
	t.Parallel()
	const n = 12
	t.Run("maxGameservers", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		k := newKit(t, s, map[string]any{"maxGameservers": 3})
		ok := race(t, s, n, http.MethodPost, "/gameserver", func(i int) any {
			return map[string]any{"name": fmt.Sprintf("race %d", i), "type": "MOCK", "connectionInfo": "{}"}
		}, k.root(), "Max game servers reached")
		if ok != 3 {
			t.Errorf("%d game servers created, want 3", ok)
		}
		if total := *s.do(http.MethodPost, "/gameserver/search", map[string]any{}, k.root()).expect(t, http.StatusOK).Meta.Total; total != 3 {
			t.Errorf("%d game servers exist, want 3", total)
		}
	})
	t.Run("maxVariables", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		k := newKit(t, s, map[string]any{"maxVariables": 5})
		ok := race(t, s, n, http.MethodPost, "/variables", func(i int) any {
			return map[string]any{"key": fmt.Sprintf("race-%d", i), "value": "v"}
		}, k.root(), "Too many variables")
		if ok != 5 {
			t.Errorf("%d variables created, want 5", ok)
		}
		if total := *s.do(http.MethodPost, "/variables/search", map[string]any{}, k.root()).expect(t, http.StatusOK).Meta.Total; total != 5 {
			t.Errorf("%d variables exist, want 5", total)
		}
	})
	t.Run("maxModules", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		k := newKit(t, s, map[string]any{"maxModules": 4})
		ok := race(t, s, n, http.MethodPost, "/module", func(i int) any {
			return map[string]any{"name": fmt.Sprintf("race module %d", i)}
		}, k.root(), "Maximum number of modules reached")
		if ok != 4 {
			t.Errorf("%d modules created, want 4", ok)
		}
		if total := *s.do(http.MethodPost, "/module/search", map[string]any{}, k.root()).expect(t, http.StatusOK).Meta.Total; total != 4 {
			t.Errorf("%d modules exist, want 4", total)
		}
	})
	t.Run("maxFunctionsInModule", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		k := newKit(t, s, map[string]any{"maxFunctionsInModule": 5})
		var m struct {
			ID            string `json:"id"`
			LatestVersion struct {
				ID string `json:"id"`
			} `json:"latestVersion"`
		}
		s.do(http.MethodPost, "/module", map[string]any{"name": "full module"}, k.root()).expect(t, http.StatusOK).decode(t, &m)
		version := m.LatestVersion.ID
		// Commands, hooks, cron jobs and functions all count, created at once.
		paths := []string{"/command", "/hook", "/cronjob", "/function"}
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for _, path := range paths {
			wg.Go(func() {
				created := race(t, s, n/len(paths), http.MethodPost, path, func(i int) any {
					name := fmt.Sprintf("%s-%d", path[1:], i)
					switch path {
					case "/command":
						return map[string]any{"name": name, "trigger": name, "versionId": version}
					case "/hook":
						return map[string]any{"name": name, "eventType": "log", "versionId": version}
					case "/cronjob":
						return map[string]any{"name": name, "temporalValue": "* * * * *", "versionId": version}
					}
					return map[string]any{"name": name, "versionId": version}
				}, k.root(), "This module has reached the limit of 5 functions")
				mu.Lock()
				ok += created
				mu.Unlock()
			})
		}
		wg.Wait()
		if ok != 5 {
			t.Errorf("%d parts created, want 5", ok)
		}
		var v struct {
			Commands, Hooks, CronJobs, Functions []any
		}
		s.do(http.MethodGet, "/module/version/"+version, nil, k.root()).expect(t, http.StatusOK).decode(t, &v)
		if total := len(v.Commands) + len(v.Hooks) + len(v.CronJobs) + len(v.Functions); total != 5 {
			t.Errorf("the version holds %d parts, want 5", total)
		}
	})
	t.Run("maxUsers", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t)
		k := newKit(t, s, map[string]any{"maxUsers": 4})
		ok := race(t, s, n, http.MethodPost, "/user", func(i int) any {
			return map[string]any{"name": fmt.Sprintf("racer %d", i), "email": fmt.Sprintf("racer%d@example.com", i),
				"password": testPassword, "isDashboardUser": true}
		}, k.root(), "Max users (4) limit reached")
		if ok != 4 {
			t.Errorf("%d dashboard users created, want 4", ok)
		}
		r := s.do(http.MethodPost, "/user/search", map[string]any{"filters": map[string]any{"isDashboardUser": true}}, k.root()).expect(t, http.StatusOK)
		if *r.Meta.Total != 4 {
			t.Errorf("%d dashboard users exist, want 4", *r.Meta.Total)
		}
		// Only dashboard users count, and an update cannot get round it.
		plain := k.user(false)
		s.do(http.MethodPut, "/user/"+plain.ID, map[string]any{"isDashboardUser": true}, k.root()).
			expectMessage(t, http.StatusBadRequest, "BadRequestError", "Max users (4) limit reached")
		s.do(http.MethodPut, "/user/"+plain.ID, map[string]any{"name": "still plain"}, k.root()).expect(t, http.StatusOK)
	})
}

// TestLimitsAreLive checks that a changed limit applies to the next request.
func TestLimitsAreLive(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 1})
	k.gameServer("{}")
	create := func() *response {
		return s.do(http.MethodPost, "/gameserver", map[string]any{"name": unique("gs"), "type": "MOCK", "connectionInfo": "{}"}, k.root())
	}
	create().expectMessage(t, http.StatusBadRequest, "BadRequestError", "Max game servers reached")
	s.do(http.MethodPut, "/domain/"+k.tn.ID, map[string]any{"maxGameservers": 2}, adminHeader()).expect(t, http.StatusOK)
	create().expect(t, http.StatusOK)
	create().expectMessage(t, http.StatusBadRequest, "BadRequestError", "Max game servers reached")
}
