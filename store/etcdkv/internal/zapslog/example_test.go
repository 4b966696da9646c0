package zapslog_test

import (
	"log/slog"
	"os"

	"go.uber.org/zap"

	"github.com/governor-io/governor/store/etcdkv/internal/zapslog"
)

func Example() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	})
	lg := zapslog.New(slog.New(h)).Named("etcd-client")
	lg.Warn("retrying", zap.String("endpoint", "127.0.0.1:2379"), zap.Int("attempt", 2))
	lg.Debug("not shown: the handler logs Info and above")
	// Output:
	// level=WARN msg=retrying logger=etcd-client attempt=2 endpoint=127.0.0.1:2379
}
