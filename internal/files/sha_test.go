package files_test

import (
	"crypto/sha256"
	"hash"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

func newSHA() hash.Hash { return sha256.New() }
