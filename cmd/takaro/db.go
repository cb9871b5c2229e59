package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/gotakaro/takaro/postgres"
)

func runMigrate(ctx context.Context, a *app, args []string) error {
	return a.withMigrator(ctx, args, func(_ *postgres.DB, m *postgres.Migrator) error {
		results, err := m.Up(ctx)
		if migErr, ok := errors.AsType[*postgres.MigrationError](err); ok {
			for _, r := range migErr.Applied {
				fmt.Fprintf(a.stdout, "applied %s\n", describe(r))
			}
		}
		if err != nil {
			return err
		}
		for _, r := range results {
			fmt.Fprintf(a.stdout, "applied %s\n", describe(r))
		}
		if len(results) == 0 {
			fmt.Fprintln(a.stdout, "the schema is up to date")
		}
		return nil
	})
}

func runRollback(ctx context.Context, a *app, args []string) error {
	return a.withMigrator(ctx, args, func(_ *postgres.DB, m *postgres.Migrator) error {
		r, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		if r == nil {
			fmt.Fprintln(a.stdout, "no migration is applied; nothing to roll back")
			return nil
		}
		fmt.Fprintf(a.stdout, "rolled back %s\n", describe(*r))
		return nil
	})
}

func runStatus(ctx context.Context, a *app, args []string) error {
	return a.withMigrator(ctx, args, func(_ *postgres.DB, m *postgres.Migrator) error {
		states, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tMIGRATION")
		pending := 0
		for _, s := range states {
			state, at := "pending", "-"
			if s.Applied {
				state, at = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05 MST")
			} else {
				pending++
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Version, state, at, s.Name)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d applied, %d pending\n", len(states)-pending, pending)
		return nil
	})
}

// runDistribute turns a migrated database on a Citus coordinator into the
// distributed layout (see postgres.DB.Distribute).
func runDistribute(ctx context.Context, a *app, args []string) error {
	return a.withMigrator(ctx, args, func(db *postgres.DB, m *postgres.Migrator) error {
		states, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, st := range states {
			if !st.Applied {
				return fmt.Errorf("migration %s is pending: run takaro db migrate first", st.Name)
			}
		}
		res, err := db.Distribute(ctx)
		if err != nil {
			return err
		}
		for _, t := range res.ReferenceTables {
			fmt.Fprintf(a.stdout, "reference table %s\n", t)
		}
		for _, t := range res.DistributedTables {
			fmt.Fprintf(a.stdout, "distributed %s by domain\n", t)
		}
		if len(res.ReferenceTables)+len(res.DistributedTables) == 0 {
			fmt.Fprintln(a.stdout, "the database is already distributed")
		}
		return nil
	})
}

func runCreate(_ context.Context, a *app, args []string) error {
	var dir string
	names, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.StringVar(&dir, "dir", "", "the migrations directory (default: postgres/migrations of the source tree containing the working directory)")
	})
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return fmt.Errorf("%w: db create NAME (for example: db create add_bans)", errUsage)
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if dir, err = sourceMigrationsDir(wd); err != nil {
			return err
		}
	}
	path, err := postgres.CreateMigration(dir, names[0])
	if errors.Is(err, postgres.ErrInvalidMigrationName) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created %s\n", path)
	return nil
}

// parseInterspersed parses the flags in args wherever they are (the flag
// package stops at the first argument that is not a flag, so that
// `db create NAME -dir DIR` would ignore -dir) and returns the other
// arguments. After "--" everything is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		remaining := fs.Args()
		if len(remaining) == 0 {
			return rest, nil
		}
		if consumed := len(args) - len(remaining); consumed > 0 && args[consumed-1] == "--" {
			return append(rest, remaining...), nil
		}
		rest = append(rest, remaining[0])
		args = remaining[1:]
	}
}

// sourceMigrationsDir finds postgres/migrations in the source tree that
// contains dir: the nearest directory, dir or above, whose go.mod is the
// takaro module's.
func sourceMigrationsDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == "github.com/gotakaro/takaro" {
			return filepath.Join(dir, "postgres", "migrations"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the takaro source tree: run it there, or pass -dir")
		}
		dir = parent
	}
}

// modulePath returns the module path declared in a go.mod file: the first
// module directive, wherever it is and however it is spaced, quoted or
// commented.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], "\"`")
		}
	}
	return ""
}
