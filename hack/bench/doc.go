// Command bench measures the operator end to end: a kube-apiserver and etcd (envtest), the
// ftrack emulator at a configurable latency and the manager, in one process tree. It runs the
// bulk convergence, idle, drift and memory scenarios, measures each figure against its
// baseline in the same run, prints a table and writes the results as JSON.
//
// Run it from the module root:
//
//	go run ./hack/bench --sizes 1000,10000 --out bench.json
//
// See docs/benchmarks.md for the scenarios and the latest figures.
package main
