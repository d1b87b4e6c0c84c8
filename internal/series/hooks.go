package series

import "sync/atomic"

// NumericChunkQueries counts the chunk queries ReadNumeric has started (every call, every
// database): tests assert with it that a read stops when its client goes away.
var NumericChunkQueries atomic.Int64
