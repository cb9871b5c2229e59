package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A secret never shows its value, whether formatted or logged.
func TestSecretIsNeverShown(t *testing.T) {
	t.Parallel()
	const value = "hunter2-hunter2-hunter2"
	s := secret(value)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "key", s)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "key", s)
	fmt.Fprintf(&buf, "%v %s %+v %#v %#v", s, s, struct{ Key secret }{s}, s, struct{ Key secret }{s})
	if strings.Contains(buf.String(), value) {
		t.Fatalf("the secret's value was shown:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "(set)") {
		t.Fatalf("a set secret should read (set):\n%s", buf.String())
	}
}
