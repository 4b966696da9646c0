// Command governor runs the components of Governor's example control
// plane. Each subcommand runs one component; so far there is one:
//
//	governor apiserver [flags]
//
// With no flags, the API server keeps its objects in an embedded
// single-member Raft KV in ./governor.data (nothing else to start), serves
// plain HTTP on 127.0.0.1:8080, writes a kubeconfig next to its data, and
// prints how to point kubectl at it:
//
//	go run ./cmd/governor apiserver
//	export KUBECONFIG=$PWD/governor.data/kubeconfig
//	kubectl get pods
//
// -storage memory keeps everything in memory instead (lost on exit).
// -storage etcd keeps the objects in an etcd cluster (package
// github.com/governor-io/governor/store/etcdkv), with kube-apiserver's
// flags: -etcd-servers (client URLs, comma-separated), -etcd-prefix (a
// key prefix, so that installations can share one etcd; keys are
// /registry/RESOURCE/..., as kube-apiserver's, under it), and, for TLS,
// -etcd-cafile, -etcd-certfile and -etcd-keyfile:
//
//	governor apiserver -storage etcd -etcd-servers https://10.0.0.1:2379,https://10.0.0.2:2379 -etcd-cafile ca.pem -etcd-certfile client.pem -etcd-keyfile client-key.pem
//
// Three API servers can also be the three members of one Raft KV (no
// etcd at all): give each its own -data-dir and -listen, its -raft-id,
// and the same -raft-cluster:
//
//	governor apiserver -listen 127.0.0.1:8081 -data-dir a -raft-id 1 -raft-cluster 1=127.0.0.1:2380,2=127.0.0.1:2381,3=127.0.0.1:2382
//	governor apiserver -listen 127.0.0.1:8082 -data-dir b -raft-id 2 -raft-cluster <the same>
//	governor apiserver -listen 127.0.0.1:8083 -data-dir c -raft-id 3 -raft-cluster <the same>
//
// SIGINT or SIGTERM shuts the server down gracefully: watches end, the
// requests in flight finish, and the KV is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "governor:", err)
		os.Exit(1)
	}
}

const usage = `usage: governor <command> [flags]

commands:
  apiserver   the API server (kubectl and client-go talk to it)

Run "governor <command> -h" for the command's flags.
`

// run runs the subcommand args[0] until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "apiserver":
		return runAPIServer(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
