package bus

// Test hooks into the transports.
var (
	DeleteExpired      = (*Postgres).deleteExpired
	EncodeNotification = encodeNotification
	DecodeNotification = decodeNotification
	EncodeFrame        = encodeFrame
	DecodeFrame        = decodeFrame
)
