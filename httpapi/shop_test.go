package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/gotakaro/takaro"
)

// TestShopImportTakesTheReferenceForm imports listings the way the
// reference's dashboard sends them, a multipart form whose fields import
// and options are JSON text, and the same fields as a JSON body.
func TestShopImportTakesTheReferenceForm(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	gs := k.gameServer("{}").ID.String()
	s.do(http.MethodPost, "/items", map[string]any{"gameserverId": gs, "code": "stone", "name": "Stone"}, k.root()).expect(t, http.StatusOK)
	exported := `[{"id": "x", "name": "Stones", "price": 3, "items": [{"amount": 5, "item": {"code": "stone", "name": "Stone"}}], "categories": []}]`
	options := fmt.Sprintf(`{"gameServerId": %q, "draft": true}`, gs)

	form := func(file bool) (string, header) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for name, value := range map[string]string{"import": exported, "options": options} {
			if err := w.WriteField(name, value); err != nil {
				t.Fatal(err)
			}
		}
		if file {
			f, err := w.CreateFormFile("import", "listings.json")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write([]byte(exported))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String(), header{"Content-Type", w.FormDataContentType()}
	}
	body, contentType := form(false)
	var got []takaro.ShopListing
	s.do(http.MethodPost, "/shop/listing/import", body, k.root(), contentType).expect(t, http.StatusOK).decode(t, &got)
	if len(got) != 1 || got[0].Name != "Stones" || !got[0].Draft || got[0].Items[0].Amount != 5 || got[0].Items[0].Item.Code != "stone" {
		t.Errorf("imported from the form: %+v", got)
	}
	asJSON, err := json.Marshal(map[string]string{"import": exported, "options": options})
	if err != nil {
		t.Fatal(err)
	}
	s.do(http.MethodPost, "/shop/listing/import", string(asJSON), k.root()).expect(t, http.StatusOK).decode(t, &got)
	if len(got) != 1 || got[0].Name != "Stones" {
		t.Errorf("imported from JSON: %+v", got)
	}

	body, contentType = form(true)
	s.do(http.MethodPost, "/shop/listing/import", body, k.root(), contentType).
		expectMessage(t, http.StatusBadRequest, "BadRequestError", "The form's fields must be text, not files")
	r := s.do(http.MethodPost, "/shop/listing/import", map[string]any{"import": "[{}]", "options": options}, k.root())
	if r.Status != http.StatusBadRequest || r.Meta.Error == nil || r.Meta.Error.Code != "ValidationError" {
		t.Errorf("a listing without a name: %d %s", r.Status, r.Raw)
	}
	// Only this route reads forms.
	body, contentType = form(false)
	s.do(http.MethodPost, "/shop/listing", body, k.root(), contentType).expect(t, http.StatusUnsupportedMediaType)
}
