package das

import (
	"bufio"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Inflater reads the zlib stream that follows the header of a stream with
// compression="deflate" (spec 3.12). It starts the decompressor on the first
// Read, so a compressed stream that ends right after its header is just empty.
type Inflater struct {
	Src *bufio.Reader
	zr  io.ReadCloser
}

// Read implements io.Reader.
func (f *Inflater) Read(p []byte) (int, error) {
	if f.zr == nil {
		if _, err := f.Src.Peek(1); err != nil {
			return 0, err
		}
		zr, err := zlib.NewReader(f.Src)
		if err != nil {
			return 0, fmt.Errorf("das: compressed stream: %w", err)
		}
		f.zr = zr
	}
	n, err := f.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("das: compressed stream: %w", err)
	}
	return n, err
}
