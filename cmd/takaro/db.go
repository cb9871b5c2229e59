package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/gotakaro/takaro/postgres"
)

func runMigrate(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("db migrate")
	a.cfg.registerDBFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, m, err := a.migrator(ctx)
	if err != nil {
		return err
	}
	defer closeAll(db, m)
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
}

func runRollback(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("db rollback")
	a.cfg.registerDBFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, m, err := a.migrator(ctx)
	if err != nil {
		return err
	}
	defer closeAll(db, m)
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
}

func runStatus(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("db status")
	a.cfg.registerDBFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, m, err := a.migrator(ctx)
	if err != nil {
		return err
	}
	defer closeAll(db, m)
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
}

func runCreate(_ context.Context, a *app, args []string) error {
	fs := a.flagSet("db create")
	dir := fs.String("dir", "", "the migrations directory (default: postgres/migrations of the source tree containing the working directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: db create NAME (for example: db create add_bans)", errUsage)
	}
	if *dir == "" {
		var err error
		if *dir, err = sourceMigrationsDir(); err != nil {
			return err
		}
	}
	path, err := postgres.CreateMigration(*dir, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created %s\n", path)
	return nil
}

// sourceMigrationsDir finds postgres/migrations in the source tree that
// contains the working directory.
func sourceMigrationsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/gotakaro/takaro\n") {
			return filepath.Join(dir, "postgres", "migrations"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the takaro source tree: run it there, or pass -dir")
		}
		dir = parent
	}
}
