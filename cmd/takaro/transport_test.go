package main

import (
	"maps"
	"strconv"
	"testing"

	"github.com/gotakaro/takaro/postgres/pgtest"
)

// TestKeyCommandsOverTheNetwork runs the commands against a PostgreSQL
// server with TLS at an address of this machine that is not a loopback
// one: a command that would send the encryption key refuses a plain
// connection unless allowed, and works over verified TLS.
func TestKeyCommandsOverTheNetwork(t *testing.T) {
	t.Parallel()
	s := pgtest.StartTLSServer(t)
	if s.RemoteAddr == "" {
		t.Skip("this machine has no address other than loopback ones")
	}
	plain := map[string]string{
		"POSTGRES_HOST": s.RemoteAddr, "POSTGRES_PORT": strconv.Itoa(s.Port), "POSTGRES_USER": s.Role,
		"POSTGRES_PASSWORD": s.Password, "POSTGRES_DB": s.Database,
		"POSTGRES_ENCRYPTION_KEY": pgtest.Key, "TAKARO_DATA_DIR": t.TempDir(),
	}
	with := func(kv ...string) map[string]string {
		env := maps.Clone(plain)
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}

	// Migrating sends no key: it works over any connection.
	requireExit(t, takaro(t, plain, "db", "migrate"), 0)

	for _, cmd := range [][]string{{"db", "verify-encryption"}, {"db", "rotate-key"}} {
		o := takaro(t, plain, cmd...)
		requireExit(t, o, 1)
		requireContains(t, cmd[1], o.stderr, "refusing to use an unencrypted connection", "would cross the network in clear",
			"POSTGRES_ALLOW_INSECURE_TRANSPORT=true", s.RemoteAddr)
	}
	// The dry run and the doctor send no key: they work, and the doctor
	// reports the connection.
	requireExit(t, takaro(t, plain, "db", "rotate-key", "-dry-run"), 0)
	o := takaro(t, plain, "db", "doctor")
	requireExit(t, o, 1)
	requireContains(t, "doctor", o.stdout, "fail    transport", "unencrypted connection to "+s.RemoteAddr, "POSTGRES_SSL=true with POSTGRES_CA")

	requireExit(t, takaro(t, with("POSTGRES_ALLOW_INSECURE_TRANSPORT", "true"), "db", "verify-encryption"), 0)

	verified := with("POSTGRES_SSL", "true", "POSTGRES_CA", s.CAFile)
	requireExit(t, takaro(t, verified, "db", "verify-encryption"), 0)
	requireExit(t, takaro(t, verified, "db", "rotate-key"), 0)
	o = takaro(t, verified, "db", "doctor")
	requireExit(t, o, 0)
	requireContains(t, "doctor", o.stdout, "pass    transport", "the server's certificate and host name verified")

	o = takaro(t, with("POSTGRES_SSL", "true", "POSTGRES_CA", s.OtherCAFile), "db", "verify-encryption")
	requireExit(t, o, 1)
	requireContains(t, "verify-encryption", o.stderr, "certificate signed by unknown authority")
}
