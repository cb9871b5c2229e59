package httpapi

import (
	_ "embed"
	"net/http"
)

// apiDocsPage renders /openapi.json for people. It is self-contained (no
// script or style from elsewhere), because deployments may have no
// internet access.
//
//go:embed assets/api.html
var apiDocsPage []byte

func serveAPIDocs(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	_, _ = w.Write(apiDocsPage)
}
