import { useEffect, useMemo, useState } from 'react'
import { useQuery } from 'urql'
import MarkdownIt from 'markdown-it'
import Papa from 'papaparse'
import { RevisionsQuery } from '../ops'
import { fetchOnce, uploadFile } from '../client'
import { Breadcrumbs, ErrorText, LoadMore, fmtBytes, fmtTime, typeLabel, useMore } from '../ui'
import type { RevisionsQuery as RevisionsData } from '../gql/graphql'
import type { Res } from './Browse'

// html: false escapes any HTML in the markdown, so a file cannot run script in the page.
const md = new MarkdownIt({ html: false, linkify: true })

const textTypes = /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|toml|x-sh))/
function kindOf(name: string, type: string): 'markdown' | 'csv' | 'image' | 'text' | 'binary' {
  const ext = name.split('.').pop()?.toLowerCase() ?? ''
  if (type === 'text/markdown' || ext === 'md' || ext === 'markdown') return 'markdown'
  if (type === 'text/csv' || ext === 'csv') return 'csv'
  if (type.startsWith('image/')) return 'image'
  if (textTypes.test(type) || ['txt', 'json', 'py', 'js', 'ts', 'yaml', 'yml', 'ini', 'cfg', 'log', 'sh'].includes(ext)) return 'text'
  return 'binary'
}

const revisionsPage = 50

function revisionsOf(r: RevisionsData['resource'] | undefined) {
  return r ? { items: r.revisions.edges.map((e) => e.node), hasNext: r.revisions.pageInfo.hasNextPage, end: r.revisions.pageInfo.endCursor } : undefined
}

export default function FilePage({ r }: { r: Res }) {
  const [{ data, error }, refetch] = useQuery({ query: RevisionsQuery, variables: { path: r.path, first: revisionsPage }, requestPolicy: 'cache-and-network' })
  const first = useMemo(() => revisionsOf(data?.resource), [data])
  const more = useMore(first, r.path, async (after) => {
    const d = await fetchOnce(RevisionsQuery, { path: r.path, first: revisionsPage, after })
    return revisionsOf(d.resource) ?? { items: [], hasNext: false }
  })
  const revs = more.items
  const latest = revs[0]
  const kind = kindOf(r.name, latest?.contentType ?? '')
  const [text, setText] = useState<string | null>(null)
  const [loadErr, setLoadErr] = useState('')
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState('')
  const [saving, setSaving] = useState(0)
  const [saveErr, setSaveErr] = useState('')
  const writable = r.access === 'WRITE' || r.access === 'ADMIN'

  useEffect(() => {
    if (!latest || kind === 'image' || kind === 'binary' || latest.size > 5 << 20) return
    let stop = false
    fetch(latest.url, { credentials: 'same-origin' })
      .then(async (res) => {
        if (!res.ok) throw new Error(`The file could not be loaded (${res.status}).`)
        const t = await res.text()
        if (!stop) setText(t)
      })
      .catch((e: Error) => !stop && setLoadErr(e.message))
    return () => {
      stop = true
    }
  }, [latest?.id, kind])

  const html = useMemo(() => (kind === 'markdown' && text != null ? md.render(text) : ''), [kind, text])
  const csv = useMemo(() => (kind === 'csv' && text != null ? Papa.parse<string[]>(text.trim(), { skipEmptyLines: true }).data.slice(0, 1001) : []), [kind, text])

  return (
    <>
      <Breadcrumbs path={r.path} />
      <div className="title-row">
        <h1>
          {r.name} <span className="badge t-FILE">{typeLabel.FILE}</span>
        </h1>
        <div className="toolbar">
          {latest && (
            <a className="button" href={latest.url} download={r.name}>
              Download
            </a>
          )}
          {writable && (kind === 'text' || kind === 'markdown' || kind === 'csv' || !latest) && !editing && (
            <button
              type="button"
              className="primary"
              onClick={() => {
                setDraft(text ?? '')
                setEditing(true)
              }}
            >
              Edit
            </button>
          )}
          {writable && (
            <label className="button">
              Upload new revision
              <input
                type="file"
                className="sr-only"
                onChange={async (e) => {
                  const f = e.target.files?.[0]
                  e.target.value = ''
                  if (!f) return
                  setSaveErr('')
                  try {
                    await uploadFile('writeFile', r.path, f, (p) => setSaving(p))
                    setText(null)
                    refetch({ requestPolicy: 'network-only' })
                  } catch (err) {
                    setSaveErr((err as Error).message)
                  }
                  setSaving(0)
                }}
              />
            </label>
          )}
        </div>
      </div>
      <ErrorText error={error} />
      <ErrorText error={loadErr} />
      <ErrorText error={saveErr} />
      {saving > 0 && <progress max={1} value={saving} aria-label="Upload progress" />}
      {editing ? (
        <form
          className="card editor"
          onSubmit={async (e) => {
            e.preventDefault()
            setSaveErr('')
            const type = latest?.contentType || (kind === 'markdown' ? 'text/markdown' : 'text/plain')
            const file = new File([draft], r.name, { type })
            try {
              await uploadFile('writeFile', r.path, file, () => {})
              setText(draft)
              setEditing(false)
              refetch({ requestPolicy: 'network-only' })
            } catch (err) {
              setSaveErr((err as Error).message)
            }
          }}
        >
          <label htmlFor="editor" className="sr-only">
            Contents of {r.name}
          </label>
          <textarea id="editor" value={draft} onChange={(e) => setDraft(e.target.value)} spellCheck={false} rows={20} />
          <div className="actions">
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Save as new revision
            </button>
          </div>
        </form>
      ) : (
        <section className="card viewer" aria-label="Contents">
          {!latest && data && <p className="muted">This file has no contents yet.</p>}
          {kind === 'markdown' && <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />}
          {kind === 'csv' && csv.length > 0 && (
            <div className="table-wrap">
              <table className="list compact csv">
                <thead>
                  <tr>{csv[0].map((h, i) => <th key={i} scope="col">{h}</th>)}</tr>
                </thead>
                <tbody>
                  {csv.slice(1).map((row, i) => (
                    <tr key={i}>{row.map((c, j) => <td key={j}>{c}</td>)}</tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {kind === 'text' && text != null && <pre className="text">{text}</pre>}
          {kind === 'image' && latest && <img src={latest.url} alt={r.name} className="file-image" />}
          {kind === 'binary' && latest && (
            <p className="muted">
              {latest.contentType}, {fmtBytes(latest.size)}. Download it to open it.
            </p>
          )}
        </section>
      )}
      <section className="card" aria-labelledby="rev-h">
        <h2 id="rev-h">Revisions</h2>
        <div className="table-wrap">
          <table className="list compact" id="revisions">
            <thead>
              <tr>
                <th scope="col">Saved</th>
                <th scope="col">By</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col"><span className="sr-only">Download</span></th>
              </tr>
            </thead>
            <tbody>
              {revs.map((v, i) => (
                <tr key={v.id}>
                  <td>
                    {fmtTime(v.timestamp)} {i === 0 && <span className="pill">latest</span>}
                  </td>
                  <td>{v.author?.fullName || v.author?.email || '—'}</td>
                  <td className="num">{fmtBytes(v.size)}</td>
                  <td>
                    <code title={v.sha256}>{v.sha256.slice(0, 12)}</code>
                  </td>
                  <td>
                    <a href={v.url} download={r.name} aria-label={`Download revision of ${fmtTime(v.timestamp)}`}>
                      Download
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <LoadMore m={more} what="revisions" />
      </section>
    </>
  )
}
