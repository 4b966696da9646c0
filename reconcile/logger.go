package reconcile

import (
	"context"
	"io"
	"log/slog"
	"os"
)

type loggerKey struct{}

// WithLogger returns a copy of ctx that carries log, for [LoggerFrom]. A
// [Controller] calls it for every reconcile.
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// LoggerFrom returns the logger that ctx carries. In a reconcile it is the
// controller's logger with the controller's name and the request already
// attached ("controller", "request"), so a reconciler logs with
//
//	reconcile.LoggerFrom(ctx).Info("created pod", "pod", name)
//
// and never repeats them. Without one it returns [slog.Default].
func LoggerFrom(ctx context.Context) *slog.Logger {
	if log, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && log != nil {
		return log
	}
	return slog.Default()
}

// defaultLogOutput is where a [Manager] created without a Logger, and a
// [Controller] with none running on its own, write their errors. Tests
// replace it.
var defaultLogOutput io.Writer = os.Stderr

// defaultManagerLogger is the logger of a [Manager] created without one,
// and of a [Controller] without one that no manager gives one:
// errors (a failed reconcile, a lost lease) go to standard error, so that
// no failure is silent by default; less severe records are dropped.
func defaultManagerLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(defaultLogOutput, &slog.HandlerOptions{Level: slog.LevelError}))
}
