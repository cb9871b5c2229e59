package postgres_test

import (
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres"
)

// POSTGRES_SSL puts verified TLS on every host of a multi-host connection
// string, and never leaves a plain-text fallback.
func TestSSLCoversEveryHost(t *testing.T) {
	t.Parallel()
	cfg, err := postgres.ConnConfig{URL: "postgres://u:p@db1.example.com:5432,db2.example.com:5433/takaro", SSL: true}.PoolConfig()
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ConnConfig
	if cc.TLSConfig == nil || cc.TLSConfig.ServerName != "db1.example.com" || cc.TLSConfig.InsecureSkipVerify {
		t.Fatalf("primary host TLS: %+v", cc.TLSConfig)
	}
	if len(cc.Fallbacks) != 1 {
		t.Fatalf("%d fallbacks, want only the second host", len(cc.Fallbacks))
	}
	fb := cc.Fallbacks[0]
	if fb.Host != "db2.example.com" || fb.Port != 5433 || fb.TLSConfig == nil || fb.TLSConfig.ServerName != "db2.example.com" {
		t.Fatalf("second host: %s:%d TLS %+v", fb.Host, fb.Port, fb.TLSConfig)
	}
}

// A CA for POSTGRES_SSL cannot silently go unused when the connection
// string chooses its own sslmode.
func TestCAWithAConnectionStringsSSLModeIsRefused(t *testing.T) {
	t.Parallel()
	_, err := postgres.ConnConfig{URL: "postgres://u:p@db.example.com/takaro?sslmode=verify-full", CA: "/etc/ssl/ca.pem"}.PoolConfig()
	if err == nil || !strings.Contains(err.Error(), "sslrootcert") {
		t.Fatalf("got %v, want an error pointing to sslrootcert", err)
	}
}
