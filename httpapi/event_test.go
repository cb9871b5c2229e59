package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// exportCSV sends an export request and parses the CSV it answers; a
// non-200 answer is returned as it came, with no rows.
func exportCSV(t *testing.T, s *testServer, method, query string, body any, h header) (*response, [][]string) {
	t.Helper()
	res := s.do(method, "/event/export"+query, body, h)
	if res.Status != http.StatusOK {
		return res, nil
	}
	rows, err := csv.NewReader(bytes.NewReader(res.Raw)).ReadAll()
	if err != nil {
		t.Fatalf("%s /event/export%s: not CSV: %v\n%s", method, query, err, res.Raw)
	}
	return res, rows
}

func TestEventExport(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tn := s.newTenant(nil)
	var player, gs struct {
		ID string `json:"id"`
	}
	// A name a spreadsheet would run as a formula.
	s.do(http.MethodPost, "/player", map[string]any{"name": "=HYPERLINK(\"x\")", "steamId": "export-steam"}, tn.auth()).
		expect(t, http.StatusOK).decode(t, &player)
	s.do(http.MethodPost, "/gameserver", map[string]any{"name": "export server", "type": "MOCK", "connectionInfo": "{}"}, tn.auth()).
		expect(t, http.StatusOK).decode(t, &gs)
	for i, msg := range []string{"plain", "with \"quotes\", commas\nand a line break", "last"} {
		s.do(http.MethodPost, "/event", map[string]any{"eventName": "chat-message", "playerId": player.ID, "gameserverId": gs.ID,
			"meta": map[string]any{"message": msg, "n": i}}, tn.auth()).expect(t, http.StatusOK)
	}
	// Another domain's events never appear.
	other := s.newTenant(nil)
	s.do(http.MethodPost, "/event", map[string]any{"eventName": "chat-message", "meta": map[string]any{"message": "other domain"}},
		other.auth()).expect(t, http.StatusOK)

	res, rows := exportCSV(t, s, http.MethodGet, "?eventName=chat-message", nil, tn.auth())
	if res.Status != http.StatusOK {
		t.Fatalf("GET: %d %s", res.Status, res.Raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="events_`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	// The reference's columns, meta flattened, and all of meta as JSON.
	want := []string{"id", "eventName", "moduleId", "moduleName", "playerId", "playerName", "userId", "userName",
		"gameserverId", "gameserverName", "actingUserId", "actingModuleId", "meta.message", "meta.n", "meta", "createdAt", "updatedAt"}
	// Every field is quoted, as the reference writes them.
	if !bytes.HasPrefix(res.Raw, []byte(`"id","eventName",`)) {
		t.Errorf("the header is not quoted: %.80s", res.Raw)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(want, ",") {
		t.Fatalf("want the header and three events, got %q", rows)
	}
	col := func(name string) int {
		for i, c := range want {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	for i, row := range rows[1:] {
		var meta struct {
			Message string `json:"message"`
			N       int    `json:"n"`
		}
		if err := json.Unmarshal([]byte(row[col("meta")]), &meta); err != nil || meta.N != i || row[col("meta.n")] != strconv.Itoa(i) ||
			row[col("meta.message")] != meta.Message {
			t.Errorf("row %d: meta %q (%v), meta.n %q, meta.message %q; want n=%d in the order written", i, row[col("meta")], err,
				row[col("meta.n")], row[col("meta.message")], i)
		}
		if row[col("playerId")] != player.ID || row[col("playerName")] != "'=HYPERLINK(\"x\")" {
			t.Errorf("row %d: player %q named %q, want %s named with a leading apostrophe", i, row[col("playerId")], row[col("playerName")], player.ID)
		}
		if row[col("gameserverName")] != "export server" || row[col("userName")] != "" {
			t.Errorf("row %d: game server %q, user %q", i, row[col("gameserverName")], row[col("userName")])
		}
		if _, err := time.Parse(time.RFC3339, row[col("createdAt")]); err != nil || !strings.HasSuffix(row[col("createdAt")], "Z") {
			t.Errorf("row %d: createdAt %q", i, row[col("createdAt")])
		}
	}
	if rows[2][col("meta.message")] != "with \"quotes\", commas\nand a line break" {
		t.Errorf("the quoted message did not come back whole: %q", rows[2][col("meta.message")])
	}
	if !bytes.Contains(res.Raw, []byte(`"with ""quotes"", commas`+"\n"+`and a line break"`)) {
		t.Errorf("the message is not quoted as the reference quotes it")
	}

	// The client's form: POST with the search body; newest first.
	res, rows = exportCSV(t, s, http.MethodPost, "", map[string]any{"filters": map[string]any{"playerId": []string{player.ID},
		"eventName": []string{"chat-message"}}, "sortDirection": "desc"}, tn.auth())
	if res.Status != http.StatusOK || len(rows) != 4 || !strings.Contains(rows[1][col("meta")], `"last"`) {
		t.Fatalf("POST, newest first: %d %q", res.Status, rows)
	}
	// Filters narrow it; nothing found is the header and a row saying so.
	_, rows = exportCSV(t, s, http.MethodGet, "?eventName=player-connected", nil, tn.auth())
	if len(rows) != 2 || rows[1][1] != "No events found for the selected filters" {
		t.Errorf("no match: %q, want the header and the reference's row", rows)
	}
	// An explicit window of 90 days, in the past, holds none of them.
	old := url.Values{"greaterThan.createdAt": {"2020-01-01T00:00:00Z"}, "lessThan.createdAt": {"2020-03-31T00:00:00Z"}}
	if _, rows = exportCSV(t, s, http.MethodGet, "?"+old.Encode(), nil, tn.auth()); len(rows) != 2 {
		t.Errorf("an old window: %q, want no events", rows)
	}

	for _, c := range []struct {
		name, method, query string
		body                any
		status              int
		message             string
	}{
		{"91 days", http.MethodGet, "?" + url.Values{"greaterThan.createdAt": {"2020-01-01T00:00:00Z"}, "lessThan.createdAt": {"2020-04-01T00:00:01Z"}}.Encode(),
			nil, http.StatusBadRequest, "Time range exceeds maximum allowed period of 90 days. Requested range is 92 days."},
		{"a start long ago", http.MethodPost, "", map[string]any{"greaterThan": map[string]any{"createdAt": "2020-01-01T00:00:00Z"}},
			http.StatusBadRequest, "Time range exceeds maximum allowed period of 90 days"},
		{"not a time", http.MethodGet, "?lessThan.createdAt=yesterday", nil, http.StatusBadRequest, "lessThan.createdAt"},
		{"an unknown filter", http.MethodGet, "?colour=red", nil, http.StatusBadRequest, "filters.colour"},
		{"a bad id", http.MethodGet, "?playerId=nope", nil, http.StatusBadRequest, "filters.playerId"},
		{"another order", http.MethodPost, "", map[string]any{"sortBy": "eventName"}, http.StatusBadRequest, "sortBy"},
	} {
		res := s.do(c.method, "/event/export"+c.query, c.body, tn.auth())
		if res.Status != c.status || !strings.Contains(string(res.Raw), c.message) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s, want %d and %q in the error envelope", c.name, res.Status, res.Raw, c.status, c.message)
		}
	}
	if res := s.do(http.MethodGet, "/event/export", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", res.Status)
	}
}

// heapSampler records the largest live heap seen while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > h.peak.Load() {
				h.peak.Store(m.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// TestEventExportStreamsInBoundedMemory exports 250,000 events (50,000
// with -short) and samples the process's live heap all
// along: it stays far below what holding the export would take. It is not
// parallel, so that no other test's allocations share the heap it reads.
func TestEventExportStreamsInBoundedMemory(t *testing.T) {
	events := 250_000
	if testing.Short() {
		events = 50_000
	}
	// TAKARO_TEST_EXPORT_EVENTS=1000000 gives the README's figure.
	if n, err := strconv.Atoi(os.Getenv("TAKARO_TEST_EXPORT_EVENTS")); err == nil && n > 0 {
		events = n
	}
	db := pgtest.New(t)
	s := newTestServerOn(t, db.Open(t, postgres.Options{}))
	tn := s.newTenant(nil)
	db.InDomain(t, tn.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO events (domain, event_name, meta, created_at)
			SELECT $1, 'chat-message', jsonb_build_object('message', 'message number ' || n, 'channel', 'global'),
				now() - make_interval(secs => n)
			FROM generate_series(1, $2) n`, tn.ID, events)
		return err
	})
	// A table that grew by a million rows is analyzed by autovacuum; the
	// test does not wait for it.
	db.InDomain(t, tn.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "ANALYZE events")
		return err
	})

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	sampler := sampleHeap()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL+"/event/export?eventName=chat-message", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tn.Token)
	started := time.Now()
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	// Read it as a client would, a record at a time.
	r := csv.NewReader(res.Body)
	r.ReuseRecord = true
	var rows, bytesRead int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d rows: %v", rows, err)
		}
		rows++
		for _, c := range rec {
			bytesRead += len(c) + 1
		}
	}
	peak := sampler.Stop()
	if rows != events+1 {
		t.Fatalf("%d rows, want the header and %d events", rows, events)
	}
	growth := int64(peak) - int64(base.HeapAlloc)
	// Holding the export would take at least its own size; the stream
	// holds a chunk of a thousand rows at a time.
	const bound = 16 << 20
	t.Logf("%d events, %d MB of CSV in %s; live heap %d MB before, at most %d MB during (+%d MB)",
		events, bytesRead>>20, time.Since(started).Round(time.Millisecond), base.HeapAlloc>>20, peak>>20, growth>>20)
	if growth > bound {
		t.Errorf("the live heap grew by %d MB during the export, want under %d MB", growth>>20, bound>>20)
	}
	if !testing.Short() && bytesRead < 2*bound {
		t.Errorf("the export is only %d MB: the bound of %d MB would not tell streaming from buffering", bytesRead>>20, bound>>20)
	}
}
