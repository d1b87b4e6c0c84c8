// Package ent holds the generated ent client. The hand-written schema lives in ent/schema.
package ent

//go:generate go tool ent generate --feature sql/versioned-migration,sql/upsert,sql/execquery,sql/lock,sql/modifier --template glob=./template/*.tmpl ./schema
