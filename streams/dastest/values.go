package dastest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// ValueSet is a Sink that collects every item of a decoded stream as a Value key:
// the record's time, the variable's units, the item's tag along the inner index
// and the value. The keys do not depend on how records are cut into packets,
// datasets or planes, so a stream and its conversions give the same multiset.
type ValueSet struct {
	Keys map[string]int
}

// NewValueSet returns an empty ValueSet.
func NewValueSet() *ValueSet { return &ValueSet{Keys: map[string]int{}} }

// Stream implements das.Sink.
func (c *ValueSet) Stream(*das.Stream) error { return nil }

// Dataset implements das.Sink.
func (c *ValueSet) Dataset(*das.Dataset) error { return nil }

// Comment implements das.Sink.
func (c *ValueSet) Comment(*das.Comment) error { return nil }

// Exception implements das.Sink.
func (c *ValueSet) Exception(*das.Exception) error { return nil }

// Close implements das.Sink.
func (c *ValueSet) Close() error { return nil }

// Record implements das.Sink.
func (c *ValueSet) Record(r *das.Record) error {
	x := r.DS.TimeVar()
	if x == nil {
		return fmt.Errorf("dataset %d has no time", r.DS.ID)
	}
	t, ok := r.Time(x, 0)
	if !ok {
		return fmt.Errorf("dataset %d: time out of range", r.DS.ID)
	}
	ms := int64(t.Round(3)) / 1e6
	for _, v := range r.DS.PacketVars() {
		if v == x {
			continue
		}
		tags := tagsOf(r.DS, v)
		for i := 0; i < v.Items; i++ {
			tag := ""
			if tags != nil {
				tag = strconv.FormatFloat(tags[i], 'g', -1, 64)
			}
			c.Keys[Value{MS: ms, Units: v.Units, Tag: tag, V: r.Float(v, i)}.Key()]++
		}
	}
	return nil
}

// tagsOf returns the coordinate values along a spectrum's inner index.
func tagsOf(ds *das.Dataset, v *das.Variable) []float64 {
	if d := ds.DimOf(v); d.Plane == das.PlaneYScan {
		return d.YTags.Values
	}
	if ds.Rank != 2 || v.IsVector() || strings.HasSuffix(v.Index, ";-") {
		return nil
	}
	for _, d := range ds.Dims {
		for _, c := range d.Vars {
			if d.Kind == das.Coord && c.Source != das.FromPacket && len(c.Values) == v.Items {
				return c.Values
			}
		}
	}
	return nil
}
