// Command genreader is an example das reader program: it writes a deterministic das2.2
// binary stream for any time range, the way a mission's reader reads its archive.
//
//	genreader waveform|spectrogram|both START END [params...]
//
// waveform: one value per second (a 1-hour sine with a 10-minute ripple), in V m**-1.
// spectrogram: one 32-channel spectrum per minute, 10 Hz to 320 Hz, in V**2 m**-2 Hz**-1.
// both: two packet types in one stream, the waveform as packet 1 and, at each whole
// minute right after that second's waveform record, the spectrum as packet 2.
// A record's values depend only on its time, so any range (and any split of a range)
// yields the same values for the same times. Params: `--fail` exits 3 after writing the
// headers (to try failure handling); `--scale=N` multiplies every value by N; `--das3`
// writes das3 instead of das2.2; `--sleep=D` waits D (up to 1m) before writing.
package main

import (
	"os"

	"github.com/rhizoflex/rhizoflex/examples/sources/genreader/gen"
)

func main() {
	os.Exit(gen.Run(os.Args[1:], os.Stdout, os.Stderr))
}
