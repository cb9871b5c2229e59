package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
)

// TestSearchPagingContract drives the paging contract through the API:
// nextCursor leads through every page and is absent on the last; a bad
// cursor and a page beyond takaro.MaxOffset are 400s in the envelope whose
// messages say what to do.
func TestSearchPagingContract(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	for range 7 {
		s.do(http.MethodPost, "/variables", map[string]any{"key": unique("paged"), "value": "v"}, k.root()).expect(t, http.StatusOK)
	}
	query := map[string]any{"search": map[string]any{"key": []string{"paged"}}, "sortBy": "key", "sortDirection": "desc", "limit": 3}
	var keys []string
	for pages := 1; ; pages++ {
		r := s.do(http.MethodPost, "/variables/search", query, k.root()).expect(t, http.StatusOK)
		var page []takaro.Variable
		r.decode(t, &page)
		for _, v := range page {
			keys = append(keys, v.Key)
		}
		// An exact total leaves the meta as the reference writes it.
		if *r.Meta.Total != 7 || r.Meta.TotalIsLowerBound != nil {
			t.Fatalf("meta %s: want total 7 and no totalIsLowerBound", r.Raw)
		}
		if r.Meta.NextCursor == "" {
			if pages != 3 || len(page) != 1 {
				t.Fatalf("the last page is page %d with %d rows; want page 3 with 1", pages, len(page))
			}
			break
		}
		query["cursor"] = r.Meta.NextCursor
	}
	if len(keys) != 7 || !strings.HasPrefix(keys[0], "paged") || keys[0] < keys[6] {
		t.Errorf("read %v, want the 7 keys in descending order", keys)
	}

	query["cursor"] = "garbled"
	r := s.do(http.MethodPost, "/variables/search", query, k.root()).expect(t, http.StatusBadRequest, string(takaro.CodeValidation))
	if !r.namesField("cursor") {
		t.Errorf("a garbled cursor: the error does not name cursor: %s", r.Raw)
	}
	delete(query, "cursor")
	r = s.do(http.MethodPost, "/variables/search?page=4000", query, k.root()).expect(t, http.StatusBadRequest, string(takaro.CodeValidation))
	if !strings.Contains(string(r.Raw), "nextCursor") {
		t.Errorf("a deep page: the error does not point at the cursor: %s", r.Raw)
	}
}
