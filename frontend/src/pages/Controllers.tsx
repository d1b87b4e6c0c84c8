import { useState } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { Link } from 'wouter'
import {
  ControllerLogQuery,
  ControllerQuery,
  ControllersQuery,
  SequenceUpdatesSubscription,
  SetWatchdogMutation,
  WatchdogQuery,
} from '../ops'
import { plain } from '../client'
import { useMe } from '../me'
import { Dialog, ErrorText, browseURL, fmtAgo, fmtTime, useTitle } from '../ui'

export default function ControllersPage() {
  useTitle('Controllers')
  const me = useMe()
  if (!me) return null
  return (
    <>
      <h1>Controllers</h1>
      {me.memberships.length === 0 && <p className="muted">You do not belong to an organization.</p>}
      {me.memberships.map((m) => (
        <OrgControllers key={m.id} path={m.organization.folderPath} name={m.organization.fullName || m.organization.name} />
      ))}
    </>
  )
}

type Ctl = { path: string }

function OrgControllers({ path, name }: { path: string; name: string }) {
  const [{ data, error }, refetch] = useQuery({ query: ControllersQuery, variables: { path }, requestPolicy: 'cache-and-network' })
  const [edit, setEdit] = useState<Ctl | null>(null)
  const list = (data?.resource?.descendants ?? []).filter((r) => r.type === 'CONTROLLER_FOLDER')
  return (
    <section className="card" aria-labelledby={`c-${path}`}>
      <div className="card-head">
        <h2 id={`c-${path}`}>{name}</h2>
        <button type="button" className="ghost" onClick={() => refetch({ requestPolicy: 'network-only' })}>Refresh</button>
      </div>
      <ErrorText error={error} />
      {data && list.length === 0 && <p className="muted">No controllers. Create one with “New controller” in a folder.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Controller</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">Last connect</th>
                <th scope="col">Last watchdog</th>
                <th scope="col">Watchdog</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <ControllerRow key={c.id} path={c.path} onEdit={() => setEdit({ path: c.path })} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {edit && <WatchdogDialog c={edit} onClose={() => setEdit(null)} />}
    </section>
  )
}

function ControllerRow({ path, onEdit }: { path: string; onEdit: () => void }) {
  const [{ data }] = useQuery({ query: ControllerQuery, variables: { path }, requestPolicy: 'cache-and-network' })
  const [open, setOpen] = useState(false)
  const c = data?.resource?.controller
  const logID = 'log-' + path.replace(/[^A-Za-z0-9_-]/g, '_')
  return (
    <>
    <tr>
      <td><Link href={browseURL(path)}>{path}</Link></td>
      <td>{c?.online ? <span className="ok">● online</span> : <span className="muted">○ offline</span>}</td>
      <td>{c?.clientVersion ?? '—'}</td>
      <td title={fmtTime(c?.lastConnectAt)}>{fmtAgo(c?.lastConnectAt)}</td>
      <td title={fmtTime(c?.lastWatchdogAt)}>{fmtAgo(c?.lastWatchdogAt)}</td>
      <td>{c?.watchdogMinutes ? `${c.watchdogMinutes} min` : 'off'}</td>
      <td className="row-actions">
        <button
          type="button"
          className="ghost"
          aria-expanded={open}
          aria-controls={open ? logID : undefined}
          aria-label={`Log of ${path}`}
          onClick={() => setOpen(!open)}
        >
          Log
        </button>
        <Link href={'/messages' + path}>Messages</Link>
        <button type="button" className="ghost" aria-label={`Watchdog settings of ${path}`} onClick={onEdit}>
          Watchdog…
        </button>
      </td>
    </tr>
    {open && (
      <tr className="log-row">
        <td colSpan={7} id={logID}>
          <LogTail path={path + '/log'} />
        </td>
      </tr>
    )}
    </>
  )
}

type LogLine = { timestamp: string; number?: number | null; text?: string | null }

// LogTail shows the newest entries of a controller's log sequence, and new ones as they
// are stored.
function LogTail({ path }: { path: string }) {
  const [{ data, error, fetching }] = useQuery({ query: ControllerLogQuery, variables: { path, last: 20 }, requestPolicy: 'network-only' })
  const [live, setLive] = useState<LogLine[]>([])
  const [sub] = useSubscription({ query: SequenceUpdatesSubscription, variables: { path } }, (_p, d) => {
    setLive((l) => [...l, d.sequenceUpdates].slice(-200))
    return d
  })
  const stored = data?.resource?.values.edges.map((e) => e.node) ?? []
  const seen = new Set<string>()
  const lines = [...stored, ...live]
    .filter((l) => (seen.has(l.timestamp) ? false : (seen.add(l.timestamp), true)))
    .reverse()
    .slice(0, 20)
  return (
    <div className="log" aria-label={`Log of ${path.slice(0, -4)}`} role="region">
      <div className="log-head">
        <strong>Log, newest first</strong>
        <span className="muted">{sub.error ? 'Live updates stopped.' : 'New entries appear as they are written.'}</span>
        <Link href={browseURL(path)}>Open the log sequence</Link>
      </div>
      <ErrorText error={error} />
      {data && !data.resource && <p className="muted">This controller has no log sequence.</p>}
      <ol className="log-tail" aria-live="polite">
        {lines.map((l) => (
          <li key={l.timestamp}>
            <time dateTime={l.timestamp}>{fmtTime(l.timestamp)}</time>
            <span>{l.text ?? (l.number != null ? String(l.number) : '')}</span>
          </li>
        ))}
      </ol>
      {data?.resource && lines.length === 0 && !fetching && <p className="muted">No log entries yet.</p>}
    </div>
  )
}

function WatchdogDialog({ c, onClose }: { c: Ctl; onClose: () => void }) {
  const [{ data }] = useQuery({ query: WatchdogQuery, variables: { path: c.path }, requestPolicy: 'network-only' })
  const w = data?.resource?.controller
  return w ? <WatchdogForm c={c} minutes={w.watchdogMinutes} recipients={w.watchdogRecipients} onClose={onClose} /> : null
}

function WatchdogForm({ c, onClose, ...init }: { c: Ctl; minutes: number; recipients: string[]; onClose: () => void }) {
  const [minutes, setMinutes] = useState(String(init.minutes))
  const [recipients, setRecipients] = useState(init.recipients.join(', '))
  const [err, setErr] = useState('')
  const [, run] = useMutation(SetWatchdogMutation)
  return (
    <Dialog title={`Watchdog of ${c.path}`} open onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await run({ path: c.path, minutes: Number(minutes), recipients: recipients.split(/[\s,]+/).filter(Boolean) })
          if (r.error) return setErr(plain(r.error))
          onClose()
        }}
      >
        <label>
          Minutes without a watchdog message before telling people (0: off)
          <input type="number" min={0} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </label>
        <label>
          E-mail addresses of users to tell
          <input value={recipients} onChange={(e) => setRecipients(e.target.value)} />
        </label>
        <ErrorText error={err} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary">Save</button>
        </div>
      </form>
    </Dialog>
  )
}
