package notify

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// maxAddressBytes is RFC 5321's limit on a forward path.
const maxAddressBytes = 254

// checkEmail validates an e-mail and returns its recipients trimmed and without
// duplicates (compared without case).
func (n *Notifier) checkEmail(to []string, subject, body string) ([]string, error) {
	rcpts, err := n.recipients(to, "e-mail address", func(s string) (string, bool) {
		if len(s) > maxAddressBytes {
			return "", false
		}
		a, err := mail.ParseAddress(s)
		// A bare address only: a display name would make the record ambiguous.
		if err != nil || a.Address != s || !strings.Contains(s, "@") {
			return "", false
		}
		return s, true
	})
	if err != nil {
		return nil, err
	}
	switch {
	case len(subject) > n.limits.MaxSubjectBytes:
		return nil, fault.New(fault.BadInput, "the subject has %d bytes; at most %d are allowed", len(subject), n.limits.MaxSubjectBytes)
	case !utf8.ValidString(subject) || strings.IndexFunc(subject, unicode.IsControl) >= 0:
		return nil, fault.New(fault.BadInput, "the subject must be UTF-8 text on one line, without control characters")
	case len(body) > n.limits.MaxBodyBytes:
		return nil, fault.New(fault.BadInput, "the body has %d bytes; at most %d are allowed", len(body), n.limits.MaxBodyBytes)
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return nil, fault.New(fault.BadInput, "the body must be UTF-8 text")
	}
	return rcpts, nil
}

// e164 is an international number: a plus, a country code and up to 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// phoneSeparators may appear in a number as written and are dropped.
var phoneSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")

// checkText validates a text message and returns its numbers in E.164 form without
// duplicates.
func (n *Notifier) checkText(numbers []string, message string) ([]string, error) {
	rcpts, err := n.recipients(numbers, "phone number in international form (+15551234567)", func(s string) (string, bool) {
		s = phoneSeparators.Replace(s)
		return s, e164.MatchString(s)
	})
	if err != nil {
		return nil, err
	}
	switch chars := utf8.RuneCountInString(message); {
	case strings.TrimSpace(message) == "":
		return nil, fault.New(fault.BadInput, "the text message is empty")
	case !utf8.ValidString(message) || strings.ContainsRune(message, 0):
		return nil, fault.New(fault.BadInput, "the text message must be UTF-8 text")
	case chars > n.limits.MaxTextChars:
		return nil, fault.New(fault.BadInput, "the text message has %d characters; at most %d are allowed", chars, n.limits.MaxTextChars)
	}
	return rcpts, nil
}

// recipients checks the count and each item with norm, which returns the normal form and
// whether the item is valid.
func (n *Notifier) recipients(items []string, what string, norm func(string) (string, bool)) ([]string, error) {
	if len(items) == 0 {
		return nil, fault.New(fault.BadInput, "no recipient: give at least one %s", what)
	}
	if len(items) > n.limits.MaxRecipients {
		return nil, fault.New(fault.BadInput, "%d recipients; at most %d are allowed", len(items), n.limits.MaxRecipients)
	}
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for i, raw := range items {
		v, ok := norm(strings.TrimSpace(raw))
		if !ok {
			return nil, fault.New(fault.BadInput, "recipient %d (%q) is not a valid %s", i+1, truncate(raw, 80), what)
		}
		if key := strings.ToLower(v); !seen[key] {
			seen[key] = true
			out = append(out, v)
		}
	}
	return out, nil
}
