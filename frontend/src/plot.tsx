// The uPlot chart of a numeric sequence: mean line, min–max band, drag to zoom.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export type PlotData = [Float64Array | number[], (number | null)[] | Float64Array, (number | null)[] | Float64Array, (number | null)[] | Float64Array]

// band: draw min and max with a filled band between them (downsampled buckets); raw values
// (every bucket one value) draw the one line only, a third of the work.
function options(width: number, units: string, band: boolean, onZoom: (from: number, to: number) => void, onDraw?: () => void, xRange?: { current: [number, number] | undefined }): uPlot.Options {
  return {
    width,
    height: Math.max(220, Math.min(420, Math.round(width * 0.45))),
    cursor: { drag: { x: true, y: false, setScale: false } },
    scales: {
      x: {
        time: true,
        // The chosen window, not just the span of the data (a last-hour plot shows the hour).
        range: (_u, min, max) => xRange?.current ?? [min, max],
      },
    },
    legend: { live: true },
    series: [
      {},
      { label: band ? 'mean' : 'value', stroke: '#1c6dd0', width: 1.5, value: (_u, v) => (v == null ? '—' : `${+v.toFixed(4)} ${units}`.trim()) },
      ...(band
        ? [
            { label: 'min', stroke: 'rgba(28,109,208,0.35)', width: 1, value: (_u: uPlot, v: number | null) => (v == null ? '—' : String(+v.toFixed(4))) },
            { label: 'max', stroke: 'rgba(28,109,208,0.35)', width: 1, value: (_u: uPlot, v: number | null) => (v == null ? '—' : String(+v.toFixed(4))) },
          ]
        : []),
    ],
    bands: band ? [{ series: [3, 2], fill: 'rgba(28,109,208,0.12)' }] : [],
    axes: [{ stroke: '#4a5a6a', grid: { stroke: '#e6ebf0' } }, { stroke: '#4a5a6a', grid: { stroke: '#e6ebf0' }, label: units || undefined, size: 60 }],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 4) return
          const from = u.posToVal(u.select.left, 'x')
          const to = u.posToVal(u.select.left + u.select.width, 'x')
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
          onZoom(from, to)
        },
      ],
      draw: onDraw ? [() => onDraw()] : [],
    },
  }
}

const shape = (d: PlotData, band: boolean) => (band ? d : d.slice(0, 2)) as uPlot.AlignedData

export function Plot({
  data,
  units,
  band,
  window,
  onZoom,
  label,
}: {
  data: PlotData
  units: string
  band: boolean
  window?: [number, number]
  onZoom: (from: number, to: number) => void
  label: string
}) {
  const xRange = useRef(window)
  xRange.current = window
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const zoom = useRef(onZoom)
  zoom.current = onZoom
  useEffect(() => {
    const el = box.current!
    const u = new uPlot(options(el.clientWidth || 600, units, band, (a, b) => zoom.current(a, b), undefined, xRange), shape(data, band), el)
    plot.current = u
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth
      if (w > 0 && Math.abs(w - u.width) > 2) u.setSize({ width: w, height: Math.max(220, Math.min(420, Math.round(w * 0.45))) })
    })
    ro.observe(el)
    return () => {
      ro.disconnect()
      u.destroy()
      plot.current = null
    }
    // The chart is made once per units; data changes go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [units, band])
  useEffect(() => {
    plot.current?.setData(shape(data, band))
  }, [data, band])
  return <div ref={box} className="plot" role="img" aria-label={label} data-points={data[0].length} />
}

// benchPlot draws n points into a detached chart the size of the page's and resolves with
// the milliseconds from the data being ready to the drawn frame (e2e prints this figure).
export function benchPlot(n: number, band = false): Promise<{ points: number; ms: number }> {
  const x = new Float64Array(n)
  const y = new Float64Array(n)
  const now = Date.now() / 1000
  for (let i = 0; i < n; i++) {
    x[i] = now - (n - i)
    y[i] = Math.sin(i / 5000) * 10 + Math.random()
  }
  const el = document.createElement('div')
  el.style.width = '1200px'
  document.body.appendChild(el)
  return new Promise((resolve) => {
    const t0 = performance.now()
    const u = new uPlot(
      options(1200, '', band, () => {}, () => {
        requestAnimationFrame(() => {
          const ms = performance.now() - t0
          u.destroy()
          el.remove()
          resolve({ points: n, ms })
        })
      }),
      (band ? [x, y, y, y] : [x, y]) as unknown as uPlot.AlignedData,
      el,
    )
  })
}
