// Package migrations embeds the versioned SQL migrations, one directory per dialect,
// planned from the ent schema by `make generate` (ent/migrate/plan.go) and applied by
// internal/database. The files are reviewed artifacts: never edit an applied one.
package migrations

import "embed"

// FS holds sqlite/ and postgres/, each an Atlas-format directory with atlas.sum.
//
//go:embed sqlite postgres
var FS embed.FS
