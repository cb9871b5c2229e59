package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// headlessChromium loads pageURL in a fresh headless Chromium and returns
// the rendered DOM and the URLs of every request the page made (read from
// Chromium's network log: requests whose top-level site is the page's, or
// that the page initiated; Chromium's own background requests are not the
// page's). Other hosts do not resolve, so nothing leaves the machine.
func headlessChromium(t *testing.T, chromium, pageURL string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	netLog := filepath.Join(dir, "netlog.json")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=10000",
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--log-net-log="+netLog, "--dump-dom", pageURL)
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(netLog)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL                 string `json:"url"`
				Initiator           string `json:"initiator"`
				NetworkIsolationKey string `json:"network_isolation_key"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		// Chromium may leave the log's closing brackets off when it exits.
		text := strings.TrimRight(strings.TrimSpace(string(raw)), ",") + "]}"
		if err := json.Unmarshal([]byte(text), &log); err != nil {
			t.Fatalf("chromium's network log: %v", err)
		}
	}
	page, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	site := page.Scheme + "://" + page.Hostname()
	start := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	var requests []string
	for _, ev := range log.Events {
		p := ev.Params
		if ev.Type == start && p.URL != pageURL &&
			(strings.HasPrefix(p.NetworkIsolationKey, site+" ") || p.Initiator == page.Scheme+"://"+page.Host || p.Initiator == "null") {
			requests = append(requests, p.URL)
		}
	}
	return string(dom), requests
}

// TestAPIPageInChromium renders /api.html of a running takaro serve in
// headless Chromium: every operation of the OpenAPI document is on the
// page with its credentials and permissions, the searches with their
// fields, the introduction explains authentication, and the page makes no
// request to another host. A control page that does load from another
// host proves the request check can fail.
func TestAPIPageInChromium(t *testing.T) {
	t.Parallel()
	chromium := requireTool(t, "chromium", "Debian package chromium, for the API page test")

	t.Run("control: a request to another host is seen", func(t *testing.T) {
		t.Parallel()
		_, requests := headlessChromium(t, chromium, `data:text/html,<p>control</p><img src="http://elsewhere.invalid/x.png">`)
		if !strings.Contains(strings.Join(requests, " "), "elsewhere.invalid") {
			t.Errorf("the control page's request to elsewhere.invalid was not seen: %q", requests)
		}
	})

	t.Run("api.html", func(t *testing.T) {
		t.Parallel()
		sv := startServe(t, serveEnv(t, pgtest.New(t), freePort(t)))
		base := "http://" + sv.addr
		res, err := http.Get(base + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string   `json:"operationId"`
				Permissions []string `json:"x-takaro-permissions"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}

		dom, requests := headlessChromium(t, chromium, base+"/api.html")
		operations := 0
		for path, ops := range doc.Paths {
			for method, op := range ops {
				operations++
				i := strings.Index(dom, `id="`+op.OperationID+`"`)
				if i < 0 {
					t.Errorf("%s %s (%s) is not on the page", method, path, op.OperationID)
					continue
				}
				section := dom[i:]
				if end := strings.Index(section, "</section>"); end >= 0 {
					section = section[:end]
				}
				if !strings.Contains(section, "Credentials: ") || !strings.Contains(section, "Permissions: ") {
					t.Errorf("%s %s: the page shows no credentials or permissions", method, path)
				}
				for _, p := range op.Permissions {
					if !strings.Contains(section, p) {
						t.Errorf("%s %s: the page does not show the permission %s", method, path, p)
					}
				}
				if strings.HasSuffix(path, "/search") && !strings.Contains(section, "Search fields") {
					t.Errorf("%s %s: the page shows no search fields", method, path)
				}
			}
		}
		if got := strings.Count(dom, `class="op"`); got != operations || operations < 50 {
			t.Errorf("the page shows %d operations; the document has %d", got, operations)
		}
		for _, want := range []string{`id="introduction"`, "X-Takaro-Admin-Token", "admin token", "bearer session or API key", "domain token",
			`"MAINTENANCE"`, `"SEVENDAYSTODIE"`, `"settings-set"`} {
			if !strings.Contains(dom, want) {
				t.Errorf("the page does not show %s", want)
			}
		}
		for _, r := range requests {
			if u, err := url.Parse(r); err != nil || u.Host != sv.addr {
				t.Errorf("the page requested %s, not on %s", r, sv.addr)
			}
		}
		if !strings.Contains(strings.Join(requests, " "), "/openapi.json") {
			t.Errorf("the page's request for /openapi.json was not seen: %q", requests)
		}
	})
}
