package hapi

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// Parameter is one HAPI parameter (spec 3.6.7) as written in info.
type Parameter struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Length      int      `json:"length,omitempty"`
	Units       *string  `json:"units"`
	Size        []int    `json:"size,omitempty"`
	Fill        *string  `json:"fill"`
	Description string   `json:"description,omitempty"`
	Label       string   `json:"label,omitempty"`
	Bins        []Bins   `json:"bins,omitempty"`
	VectorComps []string `json:"vectorComponents,omitempty"`
}

// Bins describes one array dimension (spec 3.6.13).
type Bins struct {
	Name    string    `json:"name"`
	Centers []float64 `json:"centers"`
	Units   string    `json:"units"`
}

// Parameter types.
const (
	typeTime    = "isotime"
	typeDouble  = "double"
	typeInteger = "integer"
)

// timeFill is the fill of a non-primary isotime parameter: as long as its times.
const timeFill = "0000-00-00T00:00:00.000000000Z"

// column is a parameter with what writing it needs.
type column struct {
	Parameter
	v     *das.Variable // nil for the primary time
	n     int           // values per record
	fill  float64       // value written for das fill (doubles)
	fillI int32         // value written for das fill (integers)
	hasFl bool          // the parameter has a fill
}

// timeDigits is the number of fractional-second digits of ds's Time parameter.
func timeDigits(ds *Dataset) int {
	switch {
	case ds.TimeDigits > 0:
		return min(ds.TimeDigits, 9)
	case ds.Cadence <= 0 || ds.Cadence >= time.Millisecond:
		return 3
	case ds.Cadence >= time.Microsecond:
		return 6
	}
	return 9
}

// datasetColumns derives the parameters of ds: those of its Header, then the new ones of
// each header in Others (a parameter whose name an earlier header already gave is that
// parameter: filled from whichever packet carries it when its size matches, else fill).
func datasetColumns(ds *Dataset, digits int) []*column {
	cols := columns(ds.Header, digits)
	if len(ds.Others) == 0 {
		return cols
	}
	used := map[string]bool{}
	for _, c := range cols {
		used[c.Name] = true
	}
	for _, hdr := range ds.Others {
		for _, c := range columns(hdr, digits)[1:] {
			if !used[c.Name] {
				used[c.Name] = true
				cols = append(cols, c)
			}
		}
	}
	return cols
}

// columns derives the parameters of a das dataset header: Time first, then one
// per packet variable other than the time coordinate, in header order.
func columns(hdr *das.Dataset, digits int) []*column {
	utc := "UTC"
	cols := []*column{{Parameter: Parameter{Name: "Time", Type: typeTime, Length: timeLength(digits), Units: &utc}}}
	if hdr == nil {
		return cols
	}
	tv := hdr.TimeVar()
	used := map[string]bool{"Time": true}
	for _, d := range hdr.Dims {
		for _, v := range d.Vars {
			if v.Source != das.FromPacket || v == tv {
				continue
			}
			c := column{v: v, n: v.Items}
			c.Name = uniqueName(paramName(hdr, d, v), used)
			c.Description = describe(d)
			if u := v.Units; u != "" {
				c.Units = &u
			}
			switch {
			case v.IsTime():
				c.Type = typeTime
				c.Length = timeLength(9)
				c.Units = &utc
				fill := timeFill
				c.Fill = &fill
			case isInt32(v):
				c.Type = typeInteger
				if f, err := strconv.ParseInt(strings.TrimSpace(v.Fill), 10, 32); err == nil {
					s := strconv.FormatInt(f, 10)
					c.Fill, c.fillI, c.hasFl = &s, int32(f), true
				}
			default:
				c.Type = typeDouble
				fill := v.FillVal
				if v.Fill == "" && fill == 0 {
					fill = das.DefaultFill
				}
				s := strconv.FormatFloat(fill, 'g', -1, 64)
				if math.IsNaN(fill) {
					s = "NaN"
				}
				c.Fill, c.fill, c.hasFl = &s, fill, true
			}
			if v.Items > 1 {
				c.Size = []int{v.Items}
				if v.IsVector() && v.Items > v.Components && v.Items%v.Components == 0 {
					c.Size = []int{v.Items / v.Components, v.Components}
				}
				c.Bins = binsOf(hdr, d, v, c.Size)
			}
			if v.IsVector() && v.Items == v.Components {
				for k := range v.Components {
					c.VectorComps = append(c.VectorComps, vectorComponent(das.ComponentName(v, k)))
				}
			}
			cols = append(cols, &c)
		}
	}
	return cols
}

// isInt32 reports a variable whose values fit HAPI's 4-byte signed integers.
func isInt32(v *das.Variable) bool {
	if !v.IsInt() {
		return false
	}
	switch v.Enc.Kind {
	case das.EncInt:
		return v.Enc.Size <= 4
	case das.EncUint:
		return v.Enc.Size <= 2
	}
	return false
}

// paramName names v: its dimension's name, with the variable's use when the
// dimension has several packet variables.
func paramName(hdr *das.Dataset, d *das.Dim, v *das.Variable) string {
	name := d.Name
	if name == "" {
		name = d.PhysDim
	}
	if name == "" {
		name = "p" + strconv.Itoa(dimIndex(hdr, d))
	}
	n := 0
	for _, w := range d.Vars {
		if w.Source == das.FromPacket {
			n++
		}
	}
	if n > 1 && v.Use != "" && v.Use != "center" {
		name += "_" + v.Use
	}
	// Commas are not allowed in HAPI names (spec 8.2); control characters are
	// not either.
	return strings.Map(func(r rune) rune {
		if r == ',' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
}

func dimIndex(hdr *das.Dataset, d *das.Dim) int {
	for i, e := range hdr.Dims {
		if e == d {
			return i
		}
	}
	return 0
}

func uniqueName(name string, used map[string]bool) string {
	n := name
	for k := 2; used[n]; k++ {
		n = name + "_" + strconv.Itoa(k)
	}
	used[n] = true
	return n
}

func describe(d *das.Dim) string {
	for _, k := range []string{"summary", "description", "label"} {
		if p, ok := d.Props.Get(k); ok && p.Value != "" {
			return p.Value
		}
	}
	return ""
}

// binsOf describes the array dimensions of v: a das2.2 yscan's tags, or a das3
// coordinate given by header values or a sequence with as many values.
func binsOf(hdr *das.Dataset, d *das.Dim, v *das.Variable, size []int) []Bins {
	if len(size) != 1 {
		return nil
	}
	n := size[0]
	if d.Plane == das.PlaneYScan && len(d.YTags.Values) == n {
		units := d.YTags.Units
		if units == "" {
			units = "dimensionless"
		}
		name := "yTags"
		for _, c := range hdr.Dims {
			if c.Kind == das.Coord && c.Plane == das.PlaneY {
				name = c.Name
			}
		}
		if p, ok := d.Props.Get("yLabel"); ok && name == "yTags" && p.Value != "" {
			name = p.Value
		}
		return []Bins{{Name: name, Centers: append([]float64(nil), d.YTags.Values...), Units: units}}
	}
	for _, c := range hdr.Dims {
		if c.Kind != das.Coord || c == d {
			continue
		}
		for _, w := range c.Vars {
			if w.Source == das.FromPacket || len(w.Values) != n || w.IsTime() {
				continue
			}
			units := w.Units
			if units == "" {
				units = "dimensionless"
			}
			name := c.Name
			if name == "" {
				name = c.PhysDim
			}
			return []Bins{{Name: name, Centers: append([]float64(nil), w.Values...), Units: units}}
		}
	}
	return nil
}

// vectorComponent maps a das component name onto the HAPI names (schema
// VectorComponentValues); angles whose HAPI name depends on conventions the das
// header does not state are "other".
func vectorComponent(name string) string {
	switch name {
	case "x", "y", "z", "r", "rho":
		return name
	}
	return "other"
}
