package client

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quietLogger discards the client's logs in tests that do not read them.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
