package pgtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/jackc/pgx/v5"
)

// Helpers for the tests and benchmarks of encryption keys: many encrypted
// values, seeded fast, and load through the data core while something
// else (a key rotation) works on them.

// SeededServer is a game server made by SeedGameServers. Its name is
// "gs-<N>" and its connection info {"host":"host-<N>","port":<N>}; the
// load of RunLoad keeps the host as it is.
type SeededServer struct {
	Domain string
	ID     uuid.UUID
	N      int
}

// seedOptions are the pgcrypto options of seeded values: salted S2K
// without iterations (s2k-mode=1), unlike the data core's own, so tests
// show that reading and rotating do not depend on how a value was
// encrypted, and so seeding stays fast.
const seedOptions = "cipher-algo=aes128, s2k-mode=1"

// SeedGameServers creates domains new domains holding perDomain game
// servers each, whose connection info is encrypted with secret. It writes
// straight in SQL, one statement per domain in a transaction bound to it,
// so ten thousand values take well under a second.
func (db *Database) SeedGameServers(t testing.TB, secret string, domains, perDomain int) []SeededServer {
	t.Helper()
	ctx := context.Background()
	key := newKey(t, secret)
	conn := db.connect(t)
	defer func() { _ = conn.Close(ctx) }()
	var servers []SeededServer
	for d := range domains {
		domain := fmt.Sprintf("seed-%012x", rand.Uint64()>>16)
		if _, err := conn.Exec(ctx, "INSERT INTO domains (id, name, max_gameservers) VALUES ($1, $1, $2)", domain, perDomain); err != nil {
			t.Fatal(err)
		}
		err := inDomain(ctx, conn, domain, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `INSERT INTO gameservers (domain, name, type, connection_info, connection_info_key_id)
				SELECT $1, 'gs-' || n, 'MOCK', pgp_sym_encrypt(json_build_object('host', 'host-' || n, 'port', n)::text, $2, $3), $4
				FROM generate_series($5::int, $6::int) AS n
				RETURNING id, name`, domain, secret, seedOptions, key.ID(), d*perDomain+1, (d+1)*perDomain)
			if err != nil {
				return err
			}
			var id uuid.UUID
			var name string
			_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
				n, err := strconv.Atoi(strings.TrimPrefix(name, "gs-"))
				servers = append(servers, SeededServer{Domain: domain, ID: id, N: n})
				return err
			})
			return err
		})
		if err != nil {
			t.Fatalf("seed game servers: %v", err)
		}
	}
	return servers
}

// ReadableWith counts the game servers of the domains, and those whose
// connection info is under the key secret, decrypts with it alone, and
// still names the host its name gives.
func (db *Database) ReadableWith(t testing.TB, secret string, domains []string) (total, readable int) {
	t.Helper()
	ctx := context.Background()
	key := newKey(t, secret)
	conn := db.connect(t)
	defer func() { _ = conn.Close(ctx) }()
	for _, domain := range domains {
		var n, ok int
		err := inDomain(ctx, conn, domain, func(tx pgx.Tx) error {
			// CASE makes sure only values under the key are decrypted.
			return tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE CASE WHEN connection_info_key_id = $2
					THEN pgp_sym_decrypt(connection_info, $3)::json->>'host' = 'host-' || substr(name, 4) END)
				FROM gameservers WHERE domain = $1`, domain, key.ID(), secret).Scan(&n, &ok)
		})
		if err != nil {
			t.Fatalf("read game servers: %v", err)
		}
		total += n
		readable += ok
	}
	return total, readable
}

// InDomain runs fn as TestRole in a transaction bound to domain, as the
// data core binds its own, on a connection of its own.
func (db *Database) InDomain(t testing.TB, domain string, fn func(pgx.Tx) error) {
	t.Helper()
	ctx := context.Background()
	conn := db.connect(t)
	defer func() { _ = conn.Close(ctx) }()
	if err := inDomain(ctx, conn, domain, fn); err != nil {
		t.Fatal(err)
	}
}

func inDomain(ctx context.Context, conn *pgx.Conn, domain string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT takaro_set_local('takaro.domain', $1)", domain); err != nil {
			return err
		}
		return fn(tx)
	})
}

// connect opens a connection to db as TestRole; the caller closes it.
func (db *Database) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.ConnString)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func newKey(t testing.TB, secret string) postgres.Key {
	t.Helper()
	key, err := postgres.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// Domains returns the distinct domains of servers, in order.
func Domains(servers []SeededServer) []string {
	var out []string
	for _, s := range servers {
		if len(out) == 0 || out[len(out)-1] != s.Domain {
			out = append(out, s.Domain)
		}
	}
	return out
}

// LoadResult counts what RunLoad did; Errors holds the first failures.
type LoadResult struct {
	Reads, Writes int64
	Errors        []error
	Failed        int64
}

// RunLoad reads and writes the servers through the data core, the way the
// API does, from workers goroutines until ctx is done, each resting pause
// between operations: three in four operations read a server with its
// connection info; the others update its connection info (re-encrypting
// it with db's current key) or only its reachability (leaving its
// ciphertext and key as they are). Every operation must succeed and show
// the server's own host.
func RunLoad(ctx context.Context, db *postgres.DB, servers []SeededServer, workers int, pause time.Duration) *LoadResult {
	res := &LoadResult{}
	var reads, writes, failed atomic.Int64
	var mu sync.Mutex
	fail := func(err error) {
		if failed.Add(1) <= 10 {
			mu.Lock()
			res.Errors = append(res.Errors, err)
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				s := servers[rand.IntN(len(servers))]
				opCtx := takaro.NewContext(context.WithoutCancel(ctx), takaro.Principal{Domain: s.Domain})
				var gs *takaro.GameServer
				var err error
				switch rand.IntN(8) {
				case 0:
					info := fmt.Sprintf(`{"host":"host-%d","port":%d,"revision":%d}`, s.N, s.N, rand.IntN(1000))
					gs, err = db.UpdateGameServer(opCtx, s.ID, takaro.GameServerUpdate{ConnectionInfo: &info})
					writes.Add(1)
				case 1:
					reachable := rand.IntN(2) == 0
					gs, err = db.UpdateGameServer(opCtx, s.ID, takaro.GameServerUpdate{Reachable: &reachable})
					writes.Add(1)
				default:
					gs, err = db.FindGameServerByID(opCtx, s.ID, true)
					reads.Add(1)
				}
				if err == nil {
					err = checkHost(gs, s.N)
				}
				if err != nil {
					fail(fmt.Errorf("game server %s of domain %s: %w", s.ID, s.Domain, err))
				}
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	res.Reads, res.Writes, res.Failed = reads.Load(), writes.Load(), failed.Load()
	return res
}

func checkHost(gs *takaro.GameServer, n int) error {
	var info struct{ Host string }
	if err := json.Unmarshal(gs.ConnectionInfo, &info); err != nil {
		return fmt.Errorf("connection info: %w", err)
	}
	if want := "host-" + strconv.Itoa(n); info.Host != want {
		return fmt.Errorf("connection info names host %q, want %q", info.Host, want)
	}
	return nil
}
