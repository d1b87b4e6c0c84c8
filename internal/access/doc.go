// Package access holds identity (who is asking), passwords, API keys, the session store and
// THE authorizer every entry point goes through. It may import ent, internal/fault and the
// standard library; nothing above it.
package access
