package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotakaro/takaro/postgres"
)

func runDoctor(ctx context.Context, a *app, args []string) error {
	if _, err := a.parseFlags(args, nil); err != nil {
		return err
	}
	keys, err := a.encryptionKeys()
	if err != nil {
		return err
	}
	var keyIDs []string
	if keys != nil {
		keyIDs = keys.IDs()
	}
	// The doctor gets no key, only the identifiers: its database can send
	// none, so it may (and must be able to) examine a database over a
	// connection that the other commands would refuse. Nor does it install
	// pgcrypto, whose absence it reports.
	db, err := a.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	checks := db.Doctor(ctx, postgres.DoctorOptions{Migrations: a.migrations, KeyIDs: keyIDs})
	failed := printChecks(a, checks)
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	return nil
}

// printChecks prints the doctor's table, each check's advice indented
// below its row, and returns how many checks failed.
func printChecks(a *app, checks []postgres.Check) int {
	width := len("CHECK")
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	indent := strings.Repeat(" ", len("STATUS  ")+width+2)
	fmt.Fprintf(a.stdout, "STATUS  %-*s  DETAILS\n", width, "CHECK")
	failed := 0
	for _, c := range checks {
		fmt.Fprintf(a.stdout, "%-6s  %-*s  %s\n", c.Status, width, c.Name, c.Detail)
		if c.Advice != "" {
			fmt.Fprintf(a.stdout, "%s%s\n", indent, strings.ReplaceAll(c.Advice, "\n", "\n"+indent))
		}
		if c.Status == postgres.Fail {
			failed++
		}
	}
	return failed
}
