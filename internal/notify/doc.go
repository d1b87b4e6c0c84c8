// Package notify sends e-mail and text messages for rhizoflex: an SMTP mailer (which also
// serves password resets as an access.Mailer), a Twilio-compatible text-message sender,
// and the Notifier every entry point goes through. The Notifier validates what is sent,
// throttles each controller (or user) by counting its records in the database, so the
// limit holds across instances, and records every attempt as an OutgoingMessage that the
// organization's admins can list.
//
// The package may import ent, internal/fault, internal/access (for RateLimitError),
// internal/cluster (for its Clock), the standard library and github.com/wneessen/go-mail. It knows nothing of GraphQL, the
// websocket or the bus; authorization is the caller's job.
package notify
