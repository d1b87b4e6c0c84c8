package access

import (
	"fmt"

	"github.com/alexedwards/argon2id"
)

// PasswordParams are the argon2id cost parameters (from config).
type PasswordParams struct {
	MemoryKiB   uint32 `koanf:"memory_kib"`
	Iterations  uint32 `koanf:"iterations"`
	Parallelism uint8  `koanf:"parallelism"`
}

// DefaultPasswordParams follow the OWASP recommendation for argon2id.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

// MinPasswordLength is the shortest password accepted for new passwords.
const MinPasswordLength = 8

// HashPassword hashes a password with argon2id.
func HashPassword(password string, p PasswordParams) (string, error) {
	h, err := argon2id.CreateHash(password, &argon2id.Params{
		Memory: p.MemoryKiB, Iterations: p.Iterations, Parallelism: p.Parallelism,
		SaltLength: 16, KeyLength: 32,
	})
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether password matches hash. An empty hash never matches.
func CheckPassword(password, hash string) bool {
	if hash == "" {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}
