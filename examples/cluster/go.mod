module github.com/governor-io/governor/examples/cluster

go 1.26.0

replace github.com/governor-io/governor => ../..

require (
	github.com/governor-io/governor v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)
