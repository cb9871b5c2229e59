package main

import (
	"context"
	"errors"
)

// Placeholders for commands under construction in parallel branches of
// work; each is replaced by its real implementation before it lands.

func runRotateKey(context.Context, *app, []string) error {
	return errors.New("not built yet")
}

func runVerifyEncryption(context.Context, *app, []string) error {
	return errors.New("not built yet")
}

func runDoctor(context.Context, *app, []string) error {
	return errors.New("not built yet")
}
