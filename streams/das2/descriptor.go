package das2

import (
	"slices"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// descriptorKey returns what das2C compares when it refuses a second packet
// descriptor equal to one already in the stream (PktDesc_equalFormat: "Packet
// Descriptor is already part of the stream"): the planes in order with their
// kind, name, encoding, item count and units, the y tags of a yTags list, and the
// packet's and each plane's properties as a set. das2C does not compare the tags
// of a yTagInterval yscan, so with strict unset two such yscans that differ only
// in their tags have the same key; with strict set every tag value counts (the
// headers are then interchangeable).
func descriptorKey(root *das.Element, strict bool) string {
	var b strings.Builder
	writePropsKey(&b, root)
	for _, ch := range root.Children {
		if ch.Name == "properties" {
			continue
		}
		b.WriteString("\x00" + ch.Name)
		for _, a := range []string{"type", "name", "units", "nitems", "yUnits", "zUnits"} {
			v, _ := ch.Attr(a)
			b.WriteString("\x01" + v)
		}
		if _, list := ch.Attr("yTags"); ch.Name == "yscan" && (strict || list) {
			b.WriteString("\x02" + strings.Join(tagValues(ch), ","))
		}
		writePropsKey(&b, ch)
	}
	return b.String()
}

func writePropsKey(b *strings.Builder, el *das.Element) {
	var ps []string
	for _, ch := range el.Children {
		if ch.Name != "properties" {
			continue
		}
		for _, a := range ch.Attrs {
			p, _ := das.ParseDas2Property(a.Name.Space, a.Name.Local, a.Value)
			ps = append(ps, p.Name+"\x01"+p.Type+"\x01"+p.Units+"\x01"+p.Value)
		}
	}
	slices.Sort(ps)
	b.WriteString("\x03" + strings.Join(ps, "\x04"))
}

// tagValues lists a yscan's tag values as text, whatever form they were given in.
func tagValues(ch *das.Element) []string {
	ni, _ := ch.Attr("nitems")
	n, _ := strconv.Atoi(strings.TrimSpace(ni))
	n = min(max(n, 0), das.MaxItems)
	if s, ok := ch.Attr("yTags"); ok {
		parts := strings.Split(s, ",")
		for i, p := range parts {
			if f, err := strconv.ParseFloat(strings.TrimSpace(p), 64); err == nil {
				parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		return parts
	}
	iv, lo := 1.0, 0.0
	if s, ok := ch.Attr("yTagInterval"); ok {
		iv, _ = strconv.ParseFloat(strings.TrimSpace(s), 64)
		if m, ok := ch.Attr("yTagMin"); ok {
			lo, _ = strconv.ParseFloat(strings.TrimSpace(m), 64)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.FormatFloat(lo+float64(i)*iv, 'g', -1, 64)
	}
	return out
}
