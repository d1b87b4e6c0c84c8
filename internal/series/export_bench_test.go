package series

// Hooks for the benchmarks of the external test package (das_bench_test.go).
var (
	BenchDB    = benchDB
	LoadPoints = loadPoints
	BenchBig   = benchBigEnv
)
