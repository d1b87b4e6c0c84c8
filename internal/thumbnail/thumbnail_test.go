package thumbnail

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func TestMake(t *testing.T) {
	var pngBuf, jpgBuf bytes.Buffer
	if err := png.Encode(&pngBuf, testImage(400, 200)); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpgBuf, testImage(100, 300), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		src          []byte
		size         int
		wantType     string
		wantW, wantH int
	}{
		{"png landscape", pngBuf.Bytes(), 100, "image/png", 100, 50},
		{"jpeg portrait", jpgBuf.Bytes(), 150, "image/jpeg", 50, 150},
		{"never enlarged", pngBuf.Bytes(), 1000, "image/png", 400, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ctype, err := Make(tc.src, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(out))
			if err != nil || ctype != tc.wantType || cfg.Width != tc.wantW || cfg.Height != tc.wantH {
				t.Fatalf("got %s %dx%d (%v), want %s %dx%d", ctype, cfg.Width, cfg.Height, err, tc.wantType, tc.wantW, tc.wantH)
			}
		})
	}
	if _, _, err := Make([]byte("not an image"), 100); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, _, err := Make(pngBuf.Bytes(), 0); err == nil {
		t.Fatal("size 0 accepted")
	}
}
