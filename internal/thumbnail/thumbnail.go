// Package thumbnail scales JPEG and PNG images of image sequences down for previews. It
// imports only the standard library and golang.org/x/image.
package thumbnail

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// MaxEdge bounds the requested thumbnail size.
const MaxEdge = 1024

// Make returns the image scaled to fit a size x size box (aspect kept, never enlarged), in
// the source format (JPEG stays JPEG, PNG stays PNG), and its content type.
func Make(src []byte, size int) ([]byte, string, error) {
	if size < 1 || size > MaxEdge {
		return nil, "", fmt.Errorf("thumbnail size must be between 1 and %d", MaxEdge)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, "", fmt.Errorf("read image: %w", err)
	}
	if cfg.Width*cfg.Height > 100_000_000 {
		return nil, "", fmt.Errorf("image of %dx%d pixels is too large to scale", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", format, err)
	}
	w, h := fit(cfg.Width, cfg.Height, size)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Over, nil)
	var out bytes.Buffer
	switch format {
	case "jpeg":
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85})
		return out.Bytes(), "image/jpeg", err
	case "png":
		err = png.Encode(&out, dst)
		return out.Bytes(), "image/png", err
	}
	return nil, "", fmt.Errorf("unsupported image format %q", format)
}

func fit(w, h, size int) (int, int) {
	if w <= size && h <= size {
		return w, h
	}
	if w >= h {
		return size, max(1, h*size/w)
	}
	return max(1, w*size/h), size
}
