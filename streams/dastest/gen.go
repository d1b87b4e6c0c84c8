package dastest

import (
	"io"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// Dataset builds a das2.2-style dataset: X little_endian_real8 us2000, and one
// little_endian_real4 <y> (items == 1) or <yscan> of items values.
func Dataset(id, items int) *das.Dataset {
	x := &das.Variable{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1, Enc: das.Encoding{Kind: das.EncReal, Size: 8}}
	y := &das.Variable{Use: "center", Semantic: "real", Units: "V**2 m**-2 Hz**-1", Items: items, Enc: das.Encoding{Kind: das.EncReal, Size: 4}, FillVal: das.DefaultFill}
	yd := &das.Dim{Kind: das.Data, Plane: das.PlaneY, Name: "v", Vars: []*das.Variable{y}}
	ds := &das.Dataset{ID: id, Name: "v", Rank: 1, Shape: []int{-1}}
	if items > 1 {
		yd.Plane = das.PlaneYScan
		tags := make([]float64, items)
		for i := range tags {
			tags[i] = float64(i+1) * 10
		}
		yd.YTags = das.YTags{Form: das.TagsInterval, Interval: "10", Min: "10", Values: tags, Units: "Hz"}
		ds.Rank, ds.Shape = 2, []int{-1, items}
	}
	ds.Dims = []*das.Dim{{Kind: das.Coord, Plane: das.PlaneX, PhysDim: "time", Axis: "x", Vars: []*das.Variable{x}}, yd}
	if err := ds.Layout(); err != nil {
		panic(err)
	}
	return ds
}

// Fill sets record i of a Dataset(…) record: one second apart from 2024-01-01,
// values varying with i.
func Fill(rec *das.Record, i int) {
	rec.Floats[0] = 757382400e6 + float64(i)*1e6
	for k := 1; k < len(rec.Floats); k++ {
		rec.Floats[k] = float64((i+k)%97) * 0.25
	}
}

// RepeatReader yields head once, then body n times: a large stream in O(1) memory.
type RepeatReader struct {
	head, body []byte
	n          int
	pos        int
	inHead     bool
}

// NewRepeatReader returns a reader of head + n copies of body.
func NewRepeatReader(head, body []byte, n int) *RepeatReader {
	return &RepeatReader{head: head, body: body, n: n, inHead: true}
}

func (r *RepeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		src := r.body
		if r.inHead {
			src = r.head
		} else if r.n == 0 {
			break
		}
		c := copy(p, src[r.pos:])
		r.pos += c
		p = p[c:]
		total += c
		if r.pos == len(src) {
			r.pos = 0
			if r.inHead {
				r.inHead = false
			} else {
				r.n--
			}
		}
	}
	if total == 0 {
		return 0, io.EOF
	}
	return total, nil
}

// Count is a Sink that counts records and drops everything.
type Count struct{ Records int64 }

// Stream implements das.Sink.
func (c *Count) Stream(*das.Stream) error { return nil }

// Dataset implements das.Sink.
func (c *Count) Dataset(*das.Dataset) error { return nil }

// Record implements das.Sink.
func (c *Count) Record(*das.Record) error { c.Records++; return nil }

// Comment implements das.Sink.
func (c *Count) Comment(*das.Comment) error { return nil }

// Exception implements das.Sink.
func (c *Count) Exception(*das.Exception) error { return nil }

// Close implements das.Sink.
func (c *Count) Close() error { return nil }
