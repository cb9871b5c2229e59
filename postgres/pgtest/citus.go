package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotakaro/takaro/postgres/embedded"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The suite runs on Citus (a coordinator and two workers, every tenant
// table distributed by domain) instead of plain PostgreSQL when
//
//   - TEST_CITUS_URL is a superuser's connection string to a Citus
//     coordinator's database that has the citus extension and its workers
//     registered (citus_add_node); the workers are found in its
//     pg_dist_node and reached with the same user and password; or
//   - TEST_CITUS is 1 (or true): the harness starts a coordinator and two
//     workers itself, three private clusters like the plain one, under
//     <test data dir>/citus, from the installed PostgreSQL server with the
//     citus extension (shared_preload_libraries = citus). The nodes reach
//     each other over their Unix sockets; no TCP port is opened.
//
// CREATE DATABASE does not reach the workers, and a test's database must
// exist on every node. So the template is built on every node (citus in
// each, the workers registered in the coordinator's, migrated and
// distributed through the coordinator), then closed to connections, which
// keeps out Citus's maintenance daemon, whose session would otherwise stop
// PostgreSQL from copying it. Each test's database is a copy of the
// template made on every node at once: the coordinator's copy holds the
// Citus metadata, which names nodes but no database, and each worker's
// copy holds its shards.

// citusRequested reports whether TEST_CITUS asks for a Citus cluster.
func citusRequested() bool {
	v := os.Getenv("TEST_CITUS")
	return v == "1" || v == "true"
}

// node is a Citus worker as the harness sees it: the address the
// coordinator reaches it at, and a superuser's pool on it.
type node struct {
	host  string
	port  int
	admin *pgxpool.Pool
}

// citusNodes are the nodes of a Citus cluster besides the coordinator
// (whose pool is server.admin).
type citusNodes struct {
	coordinatorHost string
	coordinatorPort int
	workers         []node
}

// adminPool opens a superuser's pool that never propagates DDL: the
// harness creates roles and databases on every node itself.
func adminPool(ctx context.Context, connString string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["citus.enable_ddl_propagation"] = "off"
	return pgxpool.NewWithConfig(ctx, cfg)
}

// startCitus starts (or reuses) the three clusters of TEST_CITUS under dir.
func startCitus(ctx context.Context, dir string) (*server, error) {
	settings := map[string]string{
		"fsync":                    "off",
		"synchronous_commit":       "off",
		"full_page_writes":         "off",
		"max_connections":          "300",
		"shared_preload_libraries": "citus",
		// Citus runs a maintenance daemon, a background worker, for each
		// database in use: one per test running at once.
		"max_worker_processes": "128",
	}
	names := []string{"coordinator", "worker1", "worker2"}
	clusters := make([]*embedded.Cluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			clusters[i], errs[i] = embedded.Ensure(ctx, embedded.Options{Dir: filepath.Join(dir, "citus", name), Settings: settings})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("start the Citus test cluster (is citus installed for this PostgreSQL?): %w", err)
	}
	s := &server{embedded: true, citus: &citusNodes{}}
	coordinator := clusters[0]
	s.connString = func(role, _, database string) string { return coordinator.ConnString(role, database) }
	s.citus.coordinatorHost, s.citus.coordinatorPort = coordinator.Address()
	var err error
	if s.admin, err = adminPool(ctx, coordinator.ConnString(embedded.Superuser, "postgres")); err != nil {
		return nil, err
	}
	for _, c := range clusters[1:] {
		n := node{}
		n.host, n.port = c.Address()
		if n.admin, err = adminPool(ctx, c.ConnString(embedded.Superuser, "postgres")); err != nil {
			s.close()
			return nil, err
		}
		s.citus.workers = append(s.citus.workers, n)
	}
	return s, nil
}

// citusFromURL uses the coordinator of TEST_CITUS_URL and its workers.
func citusFromURL(ctx context.Context, url string) (*server, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("TEST_CITUS_URL: %w", err)
	}
	s := &server{citus: &citusNodes{coordinatorHost: cfg.Host, coordinatorPort: int(cfg.Port)}}
	s.connString = func(role, password, database string) string {
		return fmt.Sprintf("host='%s' port=%d user='%s' password='%s' dbname='%s'", cfg.Host, cfg.Port, role, password, database)
	}
	if s.admin, err = adminPool(ctx, url); err != nil {
		return nil, err
	}
	rows, err := s.admin.Query(ctx, "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid")
	if err != nil {
		s.close()
		return nil, fmt.Errorf("TEST_CITUS_URL: list the workers: %w", err)
	}
	workers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (node, error) {
		var n node
		return n, row.Scan(&n.host, &n.port)
	})
	if err == nil && len(workers) == 0 {
		err = errors.New("no workers are registered (citus_add_node)")
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("TEST_CITUS_URL: %w", err)
	}
	for _, w := range workers {
		wcfg := fmt.Sprintf("host='%s' port=%d user='%s' password='%s' dbname='%s'", w.host, w.port, cfg.User, cfg.Password, cfg.Database)
		if w.admin, err = adminPool(ctx, wcfg); err != nil {
			s.close()
			return nil, err
		}
		s.citus.workers = append(s.citus.workers, w)
	}
	return s, nil
}

// close releases the server's pools.
func (s *server) close() {
	s.admin.Close()
	if s.citus != nil {
		for _, w := range s.citus.workers {
			if w.admin != nil {
				w.admin.Close()
			}
		}
	}
}

// pools returns the admin pools of every node, the coordinator first.
func (s *server) pools() []*pgxpool.Pool {
	pools := []*pgxpool.Pool{s.admin}
	if s.citus != nil {
		for _, w := range s.citus.workers {
			pools = append(pools, w.admin)
		}
	}
	return pools
}

// onEveryNode runs sql on every node at once (on the only one without
// Citus).
func (s *server) onEveryNode(ctx context.Context, sql string) error {
	pools := s.pools()
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, p := range pools {
		wg.Go(func() { _, errs[i] = p.Exec(ctx, sql) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// installCitus creates the citus extension in database on every node and
// registers the workers in the coordinator's, which comes last: a worker
// must have citus when it is registered.
func (s *server) installCitus(ctx context.Context, database string) error {
	pools := s.pools()
	for i := range pools {
		p := pools[len(pools)-1-i]
		cfg := p.Config().ConnConfig.Copy()
		cfg.Database = database
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, "CREATE EXTENSION citus")
		if err == nil && p == s.admin {
			_, err = conn.Exec(ctx, "SELECT citus_set_coordinator_host($1, $2)", s.citus.coordinatorHost, s.citus.coordinatorPort)
			for _, w := range s.citus.workers {
				if err == nil {
					_, err = conn.Exec(ctx, "SELECT citus_add_node($1, $2)", w.host, w.port)
				}
			}
		}
		if cerr := conn.Close(ctx); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("install citus in %s: %w", database, err)
		}
	}
	return nil
}

// sealTemplate closes database to connections on every node, ends the
// sessions in it (Citus's maintenance daemon and the coordinator's cached
// connections to the workers), and renames it to template, so that it can
// be copied. The coordinator's goes last: its name is the mark of a
// finished template.
func (s *server) sealTemplate(ctx context.Context, database, template string) error {
	pools := s.pools()
	for i := len(pools) - 1; i >= 0; i-- {
		p := pools[i]
		if _, err := p.Exec(ctx, "ALTER DATABASE "+database+" ALLOW_CONNECTIONS false"); err != nil {
			return err
		}
		var err error
		for range 100 {
			if _, err = p.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database); err != nil {
				return err
			}
			if _, err = p.Exec(ctx, "ALTER DATABASE "+database+" RENAME TO "+template); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("seal the template on the %s: %w", nodeName(i), err)
		}
	}
	return nil
}

// ensureRole creates TestRole on every node unless it exists there.
func (s *server) ensureRole(ctx context.Context) error {
	for _, p := range s.pools() {
		var exists bool
		if err := p.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", TestRole).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		_, err := p.Exec(ctx, "CREATE ROLE "+TestRole+" LOGIN PASSWORD '"+testRolePassword+"' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
		if err != nil {
			return fmt.Errorf("create role %s: %w", TestRole, err)
		}
	}
	return nil
}

// Citus reports whether the suite runs on a Citus cluster.
func Citus(t testing.TB) bool {
	t.Helper()
	return get(t).citus != nil
}

// nodeName names node i (0 is the coordinator) for messages.
func nodeName(i int) string {
	if i == 0 {
		return "coordinator"
	}
	return "worker " + strconv.Itoa(i)
}
