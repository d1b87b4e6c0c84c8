// Package sources turns what rhizoflex stores into das data sources and serves them on
// the das2.2 server API and the dasFlex URL API (spec das-protocols.md sections 2 and 5):
// every numeric sequence a viewer may read is a source whose id is its path without the
// leading slash; its values stream from the database through the streams library's
// reducer and writers in constant memory.
//
// It may import ent, internal/access, internal/fault, internal/series, internal/tree and
// streams; the HTTP handlers live here rather than in streams because they need the
// authorizer and the database.
package sources
