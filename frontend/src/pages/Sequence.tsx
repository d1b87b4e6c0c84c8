import { useEffect, useMemo, useState } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { useLocation, useSearch } from 'wouter'
import { RecentValuesQuery, SequenceSettingsMutation, SequenceUpdatesSubscription, SeriesQuery, UpdateSequenceMutation, ImageValueQuery } from '../ops'
import { fetchOnce, plain } from '../client'
import type { RecentValuesQuery as RecentData } from '../gql/graphql'
import { Plot, benchPlot, type PlotData } from '../plot'
import { Breadcrumbs, ErrorText, LoadMore, fmtNumber, fmtTime, typeLabel, useMore } from '../ui'
import type { Res } from './Browse'

declare global {
  interface Window {
    rhizoflexPlotBench?: typeof benchPlot
  }
}
window.rhizoflexPlotBench = benchPlot

const windows: Record<string, { label: string; seconds: number }> = {
  '1h': { label: 'Last hour', seconds: 3600 },
  '1d': { label: 'Last day', seconds: 86400 },
  '1w': { label: 'Last week', seconds: 7 * 86400 },
}

// olderOf is a page of values, newest first, and where the older ones start.
function olderOf(r: RecentData['resource'] | undefined) {
  if (!r) return undefined
  const v = r.values
  return { items: [...v.edges].reverse().map((e) => e.node), hasNext: v.pageInfo.hasPreviousPage, end: v.pageInfo.startCursor }
}

type Point = { timestamp: string; number?: number | null; text?: string | null; contentType?: string | null }

function toLocalInput(t: number): string {
  const d = new Date(t * 1000)
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset())
  return d.toISOString().slice(0, 16)
}

export default function SequencePage({ r }: { r: Res }) {
  const search = new URLSearchParams(useSearch())
  const [, navigate] = useLocation()
  const w = search.get('w') ?? '1h'
  const custom = search.get('from') && search.get('to')
  const [now, setNow] = useState(() => Date.now() / 1000)
  const from = custom ? Number(search.get('from')) : now - (windows[w]?.seconds ?? 3600)
  const to = custom ? Number(search.get('to')) : now + 60
  const numeric = r.sequence?.dataType === 'NUMERIC'
  const units = r.sequence?.units ?? ''
  const decimals = r.sequence?.decimalPlaces

  const vars = useMemo(
    () => ({ path: r.path, from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString(), maxPoints: 1200 }),
    [r.path, from, to],
  )
  const [series] = useQuery({ query: SeriesQuery, variables: vars, pause: !numeric, requestPolicy: 'network-only' })
  const [recent] = useQuery({ query: RecentValuesQuery, variables: { path: r.path, last: 20 }, requestPolicy: 'network-only' })
  const recentPage = useMemo(() => olderOf(recent.data?.resource), [recent.data])
  const older = useMore(recentPage, r.path, async (before) => {
    const d = await fetchOnce(RecentValuesQuery, { path: r.path, last: 50, before })
    return olderOf(d.resource) ?? { items: [], hasNext: false }
  })
  const [live, setLive] = useState<Point[]>([])
  useEffect(() => setLive([]), [series.data])
  useSubscription({ query: SequenceUpdatesSubscription, variables: { path: r.path } }, (_p, d) => {
    setLive((l) => [...l.slice(-5000), d.sequenceUpdates])
    return d
  })

  const data: PlotData = useMemo(() => {
    const b = series.data?.resource?.series ?? []
    const extra = custom ? [] : live.filter((p) => p.number != null)
    const n = b.length + extra.length
    const x = new Float64Array(n)
    const mean = new Array<number | null>(n)
    const min = new Array<number | null>(n)
    const max = new Array<number | null>(n)
    b.forEach((s, i) => {
      const a = Date.parse(s.start) / 1000
      const e = Date.parse(s.end) / 1000
      x[i] = s.count === 1 ? a : (a + e) / 2
      mean[i] = s.mean
      min[i] = s.min
      max[i] = s.max
    })
    extra.forEach((p, j) => {
      const i = b.length + j
      x[i] = Date.parse(p.timestamp) / 1000
      mean[i] = min[i] = max[i] = p.number!
    })
    // Live values may be older than the last bucket's middle: keep x ascending.
    for (let i = b.length; i < n; i++) if (i > 0 && x[i] < x[i - 1]) x[i] = x[i - 1]
    return [x, mean, min, max]
  }, [series.data, live, custom])

  const last = live.length ? live[live.length - 1] : recent.data?.resource?.lastValue
  // The newest 20 values, live ones included; once older pages are asked for, every value
  // from the newest down to the oldest loaded, so none is skipped.
  const seen = new Set<string>()
  const all = [...live.slice().reverse(), ...older.items].filter((p) => (seen.has(p.timestamp) ? false : (seen.add(p.timestamp), true)))
  const rows: Point[] = older.items.length > (recentPage?.items.length ?? 0) ? all : all.slice(0, 20)

  const setWindow = (p: Record<string, string>) => navigate(`${location.pathname}?${new URLSearchParams(p)}`)
  const id = r.path.slice(1)
  const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const q = `read.time.min=${iso(from)}&read.time.max=${iso(to)}`
  const flex = `${location.origin}/das/source/${id}/flex?${q}`
  const curl = `curl -u :$RHIZOFLEX_KEY '${flex}&format.type=csv'`
  const autoplot = `vap+das2server:${location.origin}/das/server?dataset=${id}&start_time=${iso(from)}&end_time=${iso(to)}`

  return (
    <>
      <Breadcrumbs path={r.path} />
      <div className="title-row">
        <h1>
          {r.name} <span className="badge t-SEQUENCE">{typeLabel.SEQUENCE}</span>
        </h1>
        <div className="live-value" aria-live="polite" aria-label="Latest value">
          <span className="big" id="live-value">
            {last ? (last.number != null ? fmtNumber(last.number, decimals, units) : (last.text ?? '').slice(0, 60) || last.contentType) : '—'}
          </span>
          <span className="muted">{last ? fmtTime(last.timestamp) : 'no values yet'}</span>
        </div>
      </div>
      {numeric && (
        <section aria-labelledby="plot-h" className="card">
          <div className="card-head">
            <h2 id="plot-h">Plot</h2>
            <div className="toolbar" role="group" aria-label="Time window">
              {Object.entries(windows).map(([k, v]) => (
                <button key={k} type="button" aria-pressed={!custom && w === k} onClick={() => { setNow(Date.now() / 1000); setWindow({ w: k }) }}>
                  {v.label}
                </button>
              ))}
              <button type="button" aria-pressed={!!custom} onClick={() => setWindow({ from: String(Math.floor(from)), to: String(Math.ceil(to)) })}>
                Custom
              </button>
            </div>
          </div>
          {custom && (
            <form
              className="row custom-range"
              onSubmit={(e) => {
                e.preventDefault()
                const f = new FormData(e.currentTarget)
                const a = new Date(String(f.get('from'))).getTime() / 1000
                const b = new Date(String(f.get('to'))).getTime() / 1000
                if (a < b) setWindow({ from: String(a), to: String(b) })
              }}
            >
              <label>
                From <input type="datetime-local" name="from" defaultValue={toLocalInput(from)} key={'f' + from} />
              </label>
              <label>
                To <input type="datetime-local" name="to" defaultValue={toLocalInput(to)} key={'t' + to} />
              </label>
              <button type="submit">Show</button>
            </form>
          )}
          <ErrorText error={series.error} />
          <Plot
            data={data}
            band={(series.data?.resource?.series ?? []).some((b) => b.count > 1)}
            window={custom ? [from, to] : [from, Date.now() / 1000]}
            units={units}
            label={`Plot of ${r.path}`}
            onZoom={(a, b) => setWindow({ from: String(Math.floor(a)), to: String(Math.ceil(b)) })}
          />
          <p className="hint">
            Drag across the plot to zoom in; finer data is fetched for the new window.
            {series.fetching && ' Loading…'}
            {series.data && !series.fetching && data[0].length === 0 && ' No values in this window.'}
          </p>
          <details>
            <summary>Download and links</summary>
            <ul className="links-list">
              <li><a href={`${flex}&format.type=csv&format.headers=true`}>CSV</a></li>
              <li><a href={`${flex}&format.version=2`}>das2 stream</a></li>
              <li><a href={flex}>das3 stream</a></li>
              <li>
                Autoplot URI: <code className="copy">{autoplot}</code>{' '}
                <button type="button" className="ghost" aria-label="Copy the Autoplot URI" onClick={() => void navigator.clipboard?.writeText(autoplot)}>Copy</button>
              </li>
              <li>
                curl: <code className="copy">{curl}</code>{' '}
                <button type="button" className="ghost" aria-label="Copy the curl line" onClick={() => void navigator.clipboard?.writeText(curl)}>Copy</button>
              </li>
            </ul>
          </details>
        </section>
      )}
      {r.sequence?.dataType === 'IMAGE' && <LatestImage path={r.path} stamp={last?.timestamp} />}
      <div className="two-col">
        <section className="card" aria-labelledby="recent-h">
          <h2 id="recent-h">Recent values</h2>
          <ErrorText error={recent.error} />
          <table className="list compact" id="recent-values">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.timestamp}>
                  <td>{fmtTime(p.timestamp)}</td>
                  <td className="num">{p.number != null ? fmtNumber(p.number, decimals, units) : (p.text ?? p.contentType ?? '').slice(0, 80)}</td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={2} className="muted">No values yet.</td>
                </tr>
              )}
            </tbody>
          </table>
          <LoadMore m={older} what="older values" />
          {(r.access === 'WRITE' || r.access === 'ADMIN') && r.sequence?.dataType !== 'IMAGE' && <RecordValue path={r.path} />}
        </section>
        {r.access === 'ADMIN' || r.access === 'WRITE' ? <Settings r={r} /> : null}
      </div>
    </>
  )
}

function LatestImage({ path, stamp }: { path: string; stamp?: string }) {
  const [{ data }, refetch] = useQuery({ query: ImageValueQuery, variables: { path } })
  useEffect(() => {
    if (stamp) refetch({ requestPolicy: 'network-only' })
  }, [stamp, refetch])
  const v = data?.resource?.lastValue
  if (!v?.thumbnailBase64) return null
  return (
    <section className="card">
      <h2>Latest image</h2>
      <img className="seq-image" src={`data:${v.contentType};base64,${v.thumbnailBase64}`} alt={`Latest image of ${path}, ${fmtTime(v.timestamp)}`} />
    </section>
  )
}

function RecordValue({ path }: { path: string }) {
  const [value, setValue] = useState('')
  const [{ error, fetching }, run] = useMutation(UpdateSequenceMutation)
  return (
    <form
      className="row record"
      onSubmit={async (e) => {
        e.preventDefault()
        const res = await run({ path, value })
        if (!res.error) setValue('')
      }}
    >
      <label>
        Record a value
        <input value={value} onChange={(e) => setValue(e.target.value)} required />
      </label>
      <button type="submit" disabled={fetching}>Record</button>
      <ErrorText error={error} />
    </form>
  )
}

function Settings({ r }: { r: Res }) {
  const s = r.sequence
  const [units, setUnits] = useState(s?.units ?? '')
  const [decimals, setDecimals] = useState(s?.decimalPlaces?.toString() ?? '')
  const [min, setMin] = useState(s?.min?.toString() ?? '')
  const [max, setMax] = useState(s?.max?.toString() ?? '')
  const [history, setHistory] = useState(s?.maxHistory?.toString() ?? '')
  const [saved, setSaved] = useState(false)
  const [err, setErr] = useState('')
  const [, save] = useMutation(SequenceSettingsMutation)
  const num = (v: string) => (v.trim() === '' ? null : Number(v))
  return (
    <section className="card" aria-labelledby="settings-h">
      <h2 id="settings-h">Settings</h2>
      <form
        className="settings"
        onSubmit={async (e) => {
          e.preventDefault()
          setSaved(false)
          const clear = min.trim() === '' && max.trim() === '' && (s?.min != null || s?.max != null)
          const res = await save({
            path: r.path,
            sequence: {
              units,
              decimalPlaces: num(decimals),
              maxHistory: num(history),
              ...(clear ? { clearRange: true } : { min: num(min), max: num(max) }),
            },
          })
          if (res.error) setErr(plain(res.error))
          else {
            setErr('')
            setSaved(true)
          }
        }}
      >
        <p className="muted">Data type: {s?.dataType.toLowerCase()}</p>
        {s?.dataType === 'NUMERIC' && (
          <>
            <label>
              Units <input value={units} onChange={(e) => setUnits(e.target.value)} />
            </label>
            <label>
              Decimal places <input type="number" min={0} max={12} value={decimals} onChange={(e) => setDecimals(e.target.value)} />
            </label>
            <div className="row">
              <label>
                Minimum <input type="number" step="any" value={min} onChange={(e) => setMin(e.target.value)} />
              </label>
              <label>
                Maximum <input type="number" step="any" value={max} onChange={(e) => setMax(e.target.value)} />
              </label>
            </div>
          </>
        )}
        <label>
          Values kept (history) <input type="number" min={0} value={history} onChange={(e) => setHistory(e.target.value)} placeholder="all" />
        </label>
        <ErrorText error={err} />
        <div className="actions">
          {saved && <span className="ok" role="status">Saved.</span>}
          <button type="submit" className="primary">Save settings</button>
        </div>
      </form>
    </section>
  )
}
