import { useQuery } from 'urql'
import { Link } from 'wouter'
import { SourceHealthQuery } from '../ops'
import { useMe } from '../me'
import { ErrorText, fmtAgo, fmtBytes, fmtTime, useTitle } from '../ui'

// SourceHealthPage shows the last self-check of every reader source (docs/READERS.md),
// failures first, for system admins.
export default function SourceHealthPage() {
  useTitle('Source health')
  const me = useMe()!
  const [{ data, error, fetching }, refetch] = useQuery({ query: SourceHealthQuery, pause: !me.systemAdmin, requestPolicy: 'cache-and-network' })
  if (!me.systemAdmin)
    return (
      <>
        <h1>Source health</h1>
        <p className="error" role="alert">Only system admins see this page.</p>
      </>
    )
  const rows = data?.sourceHealth ?? []
  const failed = rows.filter((r) => !r.ok).length
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <ol>
          <li><Link href="/admin">System admin</Link></li>
          <li><span aria-current="page">Source health</span></li>
        </ol>
      </nav>
      <div className="title-row">
        <h1>Source health</h1>
        <div className="toolbar">
          <button type="button" onClick={() => refetch({ requestPolicy: 'network-only' })} disabled={fetching}>
            {fetching ? 'Loading…' : 'Refresh'}
          </button>
        </div>
      </div>
      <p className="muted">
        Each reader source's first example range, requested in every output format and checked. The check runs every
        selfcheck_interval and on <code>rhizoflex sources selfcheck</code>.
      </p>
      <ErrorText error={error} />
      {data && (
        <div className="stats" role="list">
          <div role="listitem" className="stat"><span className="big">{rows.length}</span> sources checked</div>
          <div role="listitem" className="stat"><span className={'big' + (failed ? ' health-fail' : '')}>{failed}</span> failing</div>
        </div>
      )}
      <section className="card" aria-labelledby="sources-h">
        <h2 id="sources-h">Sources</h2>
        {data && rows.length === 0 && (
          <p className="muted" id="no-health">
            No self-check has run yet. Set sources_dir and run <code>rhizoflex sources selfcheck</code>, or wait for the next
            scheduled check.
          </p>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="list" id="source-health">
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Result</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Last check</th>
                  <th scope="col" className="hide-narrow">Formats</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.source}>
                    <td>{r.source}</td>
                    <td>{r.ok ? <span className="health-ok">✓ pass</span> : <span className="health-fail">✗ fail</span>}</td>
                    <td className="num nowrap">{r.latencyMs} ms</td>
                    <td title={fmtTime(r.checkedAt)}>{fmtAgo(r.checkedAt)}</td>
                    <td className="hide-narrow">
                      <span className="formats">
                        {r.formats.map((f) => (
                          <span
                            key={f.format}
                            className={'pill' + (f.ok ? '' : ' fail')}
                            title={f.ok ? `${f.records} records, ${fmtBytes(f.bytes)}, ${f.latencyMs} ms` : f.error}
                          >
                            {f.ok ? '' : '✗ '}
                            {f.format}
                          </span>
                        ))}
                      </span>
                    </td>
                    <td className="problem">{r.error || <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  )
}
