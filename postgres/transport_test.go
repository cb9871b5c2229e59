package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// encOpen opens the data core with the settings c, returning the error of
// either step.
func encOpen(t *testing.T, c postgres.ConnConfig, opts postgres.Options) (*postgres.DB, error) {
	t.Helper()
	cfg, err := c.PoolConfig()
	if err != nil {
		return nil, err
	}
	return encOpenPool(t, cfg, opts)
}

func encOpenPool(t *testing.T, cfg *pgxpool.Config, opts postgres.Options) (*postgres.DB, error) {
	t.Helper()
	if opts.BcryptCost == 0 {
		opts.BcryptCost = postgres.DefaultBcryptCost
	}
	db, err := postgres.Open(context.Background(), cfg, opts)
	if err == nil {
		t.Cleanup(db.Close)
	}
	return db, err
}

// encTLSInUse reports whether the server sees the connection as TLS.
func encTLSInUse(t *testing.T, db *postgres.DB) bool {
	t.Helper()
	var ssl bool
	if err := db.Pool().QueryRow(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
		t.Fatal(err)
	}
	return ssl
}

// encWantError fails unless err is an error whose text has every one of
// parts.
func encWantError(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// encDoctorCheck runs the doctor on db and returns the check called name.
func encDoctorCheck(t *testing.T, db *postgres.DB, opts postgres.DoctorOptions, name string) postgres.Check {
	t.Helper()
	if opts.Migrations == nil {
		opts.Migrations = postgres.Migrations()
	}
	for _, c := range db.Doctor(context.Background(), opts) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("the doctor has no check %q", name)
	return postgres.Check{}
}

func TestTransport(t *testing.T) {
	t.Parallel()
	s := pgtest.StartTLSServer(t)
	keys := encKeyring(t, pgtest.Key)
	verified := func(host string) postgres.ConnConfig {
		c := s.ConnConfig(host)
		c.SSL, c.CA = true, s.CA
		return c
	}

	t.Run("TLS with the right CA", func(t *testing.T) {
		t.Parallel()
		for _, ca := range []string{s.CA, s.CAFile} { // POSTGRES_CA is PEM text or a file
			c := verified("localhost")
			c.CA = ca
			db, err := encOpen(t, c, postgres.Options{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			if !encTLSInUse(t, db) {
				t.Error("the connection is not encrypted")
			}
		}
	})

	t.Run("TLS with a wrong CA is refused", func(t *testing.T) {
		t.Parallel()
		c := verified("localhost")
		c.CA = s.OtherCA
		_, err := encOpen(t, c, postgres.Options{Keys: keys})
		encWantError(t, err, "certificate signed by unknown authority")
	})

	t.Run("TLS with a wrong host name is refused", func(t *testing.T) {
		t.Parallel()
		// The certificate names localhost, not 127.0.0.1.
		_, err := encOpen(t, verified("127.0.0.1"), postgres.Options{Keys: keys})
		encWantError(t, err, "failed to verify certificate", "not 127.0.0.1")
	})

	t.Run("sslmode in a connection string is honoured", func(t *testing.T) {
		t.Parallel()
		// POSTGRES_SSL does not override what the connection string says
		// (and POSTGRES_CA is refused beside it: TestCAWithAConnectionStringsSSLModeIsRefused).
		for _, tc := range []struct {
			extra   string
			wantErr string
			tls     bool
		}{
			{extra: "sslmode=verify-full sslrootcert=" + s.CAFile, tls: true},
			{extra: "sslmode=verify-full sslrootcert=" + s.OtherCAFile, wantErr: "certificate signed by unknown authority"},
			{extra: "sslmode=disable", tls: false},
		} {
			db, err := encOpen(t, postgres.ConnConfig{URL: s.URL("localhost", tc.extra), SSL: true}, postgres.Options{Keys: keys})
			if tc.wantErr != "" {
				encWantError(t, err, tc.wantErr)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.extra, err)
			}
			if got := encTLSInUse(t, db); got != tc.tls {
				t.Errorf("%s: TLS in use %v, want %v", tc.extra, got, tc.tls)
			}
		}
	})

	t.Run("plain connections to a loopback address are allowed", func(t *testing.T) {
		t.Parallel()
		db, err := encOpen(t, s.ConnConfig("127.0.0.1"), postgres.Options{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if encTLSInUse(t, db) {
			t.Error("the connection is encrypted; this case is about a plain one")
		}
		if c := encDoctorCheck(t, db, postgres.DoctorOptions{}, "transport"); c.Status != postgres.Pass {
			t.Errorf("doctor: %s %s", c.Status, c.Detail)
		}
	})

	t.Run("non-loopback address", func(t *testing.T) {
		t.Parallel()
		if s.RemoteAddr == "" {
			t.Skip("this machine has no address other than loopback ones")
		}
		plain := s.ConnConfig(s.RemoteAddr)

		// Refused when the data core holds a key...
		_, err := encOpen(t, plain, postgres.Options{Keys: keys})
		if !errors.Is(err, postgres.ErrInsecureTransport) {
			t.Fatalf("got %v, want ErrInsecureTransport", err)
		}
		encWantError(t, err, "cross the network in clear", "POSTGRES_ALLOW_INSECURE_TRANSPORT=true", s.RemoteAddr)

		// ...unless explicitly allowed; and a data core without a key has
		// none to send. The doctor, which gets no key, reports it.
		if _, err := encOpen(t, plain, postgres.Options{Keys: keys, AllowInsecureTransport: true}); err != nil {
			t.Fatalf("allowed: %v", err)
		}
		noKey, err := encOpen(t, plain, postgres.Options{})
		if err != nil {
			t.Fatalf("without a key: %v", err)
		}
		c := encDoctorCheck(t, noKey, postgres.DoctorOptions{}, "transport")
		if c.Status != postgres.Fail || !strings.Contains(c.Detail, "unencrypted connection to "+s.RemoteAddr) || !strings.Contains(c.Advice, "POSTGRES_SSL=true") {
			t.Errorf("doctor on a plain remote connection: %+v", c)
		}

		// An encrypted connection is accepted; the doctor passes it when
		// the certificate is verified and warns when it is not.
		for _, tc := range []struct {
			name   string
			conn   postgres.ConnConfig
			status postgres.CheckStatus
		}{
			{"verified", verified(s.RemoteAddr), postgres.Pass},
			{"verify-ca", postgres.ConnConfig{URL: s.URL(s.RemoteAddr, "sslmode=verify-ca sslrootcert="+s.CAFile)}, postgres.Warn},
			{"unverified", postgres.ConnConfig{URL: s.URL(s.RemoteAddr, "sslmode=require")}, postgres.Warn},
		} {
			db, err := encOpen(t, tc.conn, postgres.Options{Keys: keys})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !encTLSInUse(t, db) {
				t.Errorf("%s: not encrypted", tc.name)
			}
			if c := encDoctorCheck(t, db, postgres.DoctorOptions{}, "transport"); c.Status != tc.status {
				t.Errorf("%s: doctor says %s (%s), want %s", tc.name, c.Status, c.Detail, tc.status)
			}
		}
	})
}
