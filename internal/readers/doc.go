// Package readers runs das reader programs: data sources defined by DSDF files
// (das-protocols.md 2.4, 2.8) whose stdout is a das2 or das3 stream for a time range.
// It parses and checks definitions and starts readers safely: no shell, one argument per
// request value, a process group per run, a time limit and a bound on concurrent runs.
package readers
