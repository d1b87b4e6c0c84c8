import { Suspense, lazy, useMemo, useRef, useState } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { Link, useLocation, useParams } from 'wouter'
import {
  ChildrenQuery,
  CreateControllerMutation,
  CreateFileMutation,
  CreateFolderMutation,
  CreateSequenceMutation,
  DeleteMutation,
  MoveMutation,
  RenameMutation,
  ResourceQuery,
  SequenceUpdatesSubscription,
} from '../ops'
import type { ChildrenQuery as ChildrenData, ResourceQuery as ResourceData, SequenceDataType } from '../gql/graphql'
import { fetchOnce, plain, uploadFile } from '../client'
import {
  Breadcrumbs,
  Confirm,
  Dialog,
  ErrorText,
  LoadMore,
  browseURL,
  fmtAgo,
  fmtBytes,
  fmtNumber,
  isFolder,
  pathFromParam,
  typeLabel,
  useMore,
  useTitle,
} from '../ui'

const SequencePage = lazy(() => import('./Sequence'))
const FilePage = lazy(() => import('./File'))

export type Res = NonNullable<ResourceData['resource']>

export function BrowsePage() {
  const params = useParams()
  const path = pathFromParam(params['*'])
  const [{ data, error, fetching }] = useQuery({ query: ResourceQuery, variables: { path } })
  const r = data?.resource
  useTitle(r?.name || path)
  if (!data && fetching) return <p className="loading">Loading…</p>
  if (error && !data) return <ErrorText error={error} />
  if (!r)
    return (
      <>
        <Breadcrumbs path={path} />
        <h1>Not found</h1>
        <p role="alert" className="error">
          Nothing is at {path}, or you do not have access to it.
        </p>
      </>
    )
  return (
    <Suspense fallback={<p className="loading">Loading…</p>}>
      {isFolder(r.type) ? (
        <FolderPage r={r} />
      ) : r.type === 'SEQUENCE' ? (
        <SequencePage r={r} />
      ) : r.type === 'FILE' ? (
        <FilePage r={r} />
      ) : (
        <>
          <Breadcrumbs path={r.path} />
          <h1>{r.name}</h1>
          <p>{typeLabel[r.type]}</p>
        </>
      )}
    </Suspense>
  )
}

type Live = Record<string, { timestamp: string; number?: number | null; text?: string | null }>
type SortKey = 'name' | 'type' | 'updated'
type Upload = { name: string; size: number; progress: number; error?: string; done?: boolean }
type Dlg =
  | { kind: 'folder' | 'file' | 'sequence' | 'controller' }
  | { kind: 'rename' | 'move' | 'delete'; path: string; name: string }
  | null

const canWrite = (access: string) => access === 'WRITE' || access === 'ADMIN'

function childrenOf(c: ChildrenData['resource'] | undefined) {
  return c ? { items: c.children.edges.map((e) => e.node), hasNext: c.children.pageInfo.hasNextPage, end: c.children.pageInfo.endCursor } : undefined
}

// childrenPage is how many children one request lists; "Load more" fetches the next ones.
const childrenPage = 500

function FolderPage({ r }: { r: Res }) {
  const [{ data, error }, refetch] = useQuery({ query: ChildrenQuery, variables: { path: r.path, first: childrenPage } })
  const first = useMemo(() => childrenOf(data?.resource), [data])
  const more = useMore(first, r.path, async (after) => {
    const d = await fetchOnce(ChildrenQuery, { path: r.path, first: childrenPage, after })
    return childrenOf(d.resource) ?? { items: [], hasNext: false }
  })
  const [live, setLive] = useState<Live>({})
  useSubscription({ query: SequenceUpdatesSubscription, variables: { path: r.path } }, (_prev, d) => {
    const u = d.sequenceUpdates
    setLive((l) => ({ ...l, [u.path]: u }))
    return d
  })
  const [sort, setSort] = useState<SortKey>('name')
  const [desc, setDesc] = useState(false)
  const [view, setView] = useState<'list' | 'tiles'>(() => (localStorage.getItem('rf-view') as 'tiles') || 'list')
  const [dlg, setDlg] = useState<Dlg>(null)
  const [uploads, setUploads] = useState<Upload[]>([])
  const [dragging, setDragging] = useState(false)
  const fileInput = useRef<HTMLInputElement>(null)
  const writable = canWrite(r.access)
  const reload = () => refetch({ requestPolicy: 'network-only' })

  const rows = useMemo(() => {
    const items = [...more.items]
    const key = (n: (typeof items)[number]) =>
      sort === 'name' ? n.name.toLowerCase() : sort === 'type' ? n.type + n.name : (n.lastRevisionAt ?? n.updatedAt)
    items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    if (desc) items.reverse()
    // Folders first, as in every file manager.
    if (sort !== 'type') items.sort((a, b) => Number(isFolder(b.type)) - Number(isFolder(a.type)))
    return items
  }, [more.items, sort, desc])

  async function upload(files: FileList | File[]) {
    const list = Array.from(files)
    const start = uploads.length
    setUploads((u) => [...u, ...list.map((f) => ({ name: f.name, size: f.size, progress: 0 }))])
    await Promise.all(
      list.map(async (f, i) => {
        const set = (p: Partial<Upload>) =>
          setUploads((u) => u.map((x, j) => (j === start + i ? { ...x, ...p } : x)))
        try {
          await uploadFile('createFile', `${r.path}/${f.name}`, f, (progress) => set({ progress }))
          set({ done: true, progress: 1 })
        } catch (e) {
          set({ error: (e as Error).message })
        }
      }),
    )
    reload()
  }

  const sortHeader = (k: SortKey, label: string, className?: string) => (
    <th aria-sort={sort === k ? (desc ? 'descending' : 'ascending') : 'none'} scope="col" className={className}>
      <button
        type="button"
        className="sort"
        onClick={() => {
          if (sort === k) setDesc(!desc)
          else {
            setSort(k)
            setDesc(k === 'updated')
          }
        }}
      >
        {label}
        <span aria-hidden="true">{sort === k ? (desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  )

  return (
    <div
      className={dragging ? 'folder dropping' : 'folder'}
      onDragOver={(e) => {
        if (!writable || !e.dataTransfer.types.includes('Files')) return
        e.preventDefault()
        setDragging(true)
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false)
      }}
      onDrop={(e) => {
        if (!writable) return
        e.preventDefault()
        setDragging(false)
        if (e.dataTransfer.files.length) void upload(e.dataTransfer.files)
      }}
    >
      <Breadcrumbs path={r.path} />
      <div className="title-row">
        <h1>
          {r.name || 'Top'} <span className={`badge t-${r.type}`}>{typeLabel[r.type]}</span>
        </h1>
        <div className="toolbar">
          <Link className="button" href={'/messages' + r.path.split('/').map(encodeURIComponent).join('/')}>
            Messages
          </Link>
          {r.access === 'ADMIN' && (
            <Link className="button" href={'/permissions' + r.path.split('/').map(encodeURIComponent).join('/')}>
              Permissions
            </Link>
          )}
        </div>
      </div>
      {writable && (
        <div className="toolbar create" role="group" aria-label="Create">
          <button type="button" className="primary" onClick={() => fileInput.current?.click()}>
            Upload files
          </button>
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            aria-label="Files to upload"
            onChange={(e) => {
              if (e.target.files?.length) void upload(e.target.files)
              e.target.value = ''
            }}
          />
          <button type="button" onClick={() => setDlg({ kind: 'folder' })}>New folder</button>
          <button type="button" onClick={() => setDlg({ kind: 'sequence' })}>New sequence</button>
          <button type="button" onClick={() => setDlg({ kind: 'file' })}>New text file</button>
          <button type="button" onClick={() => setDlg({ kind: 'controller' })}>New controller</button>
          <span className="muted drop-hint">or drop files here</span>
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u, i) => (
            <li key={i}>
              <span className="name">{u.name}</span>
              <span className="muted">{fmtBytes(u.size)}</span>
              <progress max={1} value={u.progress} aria-label={`Upload of ${u.name}`} />
              {u.error ? (
                <span className="error" role="alert">{u.error}</span>
              ) : (
                <span className="muted">{u.done ? 'Done' : `${Math.round(u.progress * 100)} %`}</span>
              )}
            </li>
          ))}
          <li>
            <button type="button" className="ghost" onClick={() => setUploads([])}>Clear list</button>
          </li>
        </ul>
      )}
      <ErrorText error={error} />
      <div className="view-toggle" role="group" aria-label="View">
        {(['list', 'tiles'] as const).map((v) => (
          <button
            key={v}
            type="button"
            aria-pressed={view === v}
            onClick={() => {
              setView(v)
              localStorage.setItem('rf-view', v)
            }}
          >
            {v === 'list' ? 'List' : 'Tiles'}
          </button>
        ))}
        {view === 'tiles' && (
          <span className="sort-select">
            <label htmlFor="tile-sort">Sort</label>
            <select
              id="tile-sort"
              value={`${sort}-${desc ? 'desc' : 'asc'}`}
              onChange={(e) => {
                const [k, d] = e.target.value.split('-')
                setSort(k as SortKey)
                setDesc(d === 'desc')
              }}
            >
              <option value="name-asc">Name, A to Z</option>
              <option value="name-desc">Name, Z to A</option>
              <option value="type-asc">Type</option>
              <option value="updated-desc">Newest first</option>
              <option value="updated-asc">Oldest first</option>
            </select>
          </span>
        )}
      </div>
      {data && rows.length === 0 && (
        <p className="empty">This folder is empty.{writable && ' Create something or drop files here.'}</p>
      )}
      {rows.length > 0 && view === 'list' && (
        <div className="table-wrap">
          <table className="list">
            <caption className="sr-only">Contents of {r.path || '/'}</caption>
            <thead>
              <tr>
                {sortHeader('name', 'Name')}
                {sortHeader('type', 'Type', 'hide-narrow')}
                <th scope="col">Value</th>
                {sortHeader('updated', 'Updated', 'hide-narrow')}
                {writable && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((n) => {
                const v = live[n.path] ?? n.lastValue
                return (
                  <tr key={n.id}>
                    <td>
                      <Link href={browseURL(n.path)} className="name">
                        <span className={`icon t-${n.type}`} aria-hidden="true" />
                        {n.name}
                      </Link>
                    </td>
                    <td className="muted hide-narrow">{typeLabel[n.type]}</td>
                    <td className="value" data-path={n.path}>
                      {n.type === 'SEQUENCE' && v ? (
                        <span title={v.timestamp}>
                          {v.number != null
                            ? fmtNumber(v.number, n.sequence?.decimalPlaces, n.sequence?.units)
                            : (v.text ?? '').slice(0, 40)}
                        </span>
                      ) : n.type === 'CONTROLLER_FOLDER' ? (
                        <span className={n.controller?.online ? 'ok' : 'muted'}>
                          {n.controller?.online ? '● online' : '○ offline'}
                        </span>
                      ) : null}
                    </td>
                    <td className="muted hide-narrow">{fmtAgo(live[n.path]?.timestamp ?? n.lastRevisionAt ?? n.updatedAt)}</td>
                    {writable && (
                      <td className="row-actions">
                        <button type="button" className="ghost" onClick={() => setDlg({ kind: 'rename', path: n.path, name: n.name })} aria-label={`Rename ${n.name}`}>
                          Rename
                        </button>
                        <button type="button" className="ghost" onClick={() => setDlg({ kind: 'move', path: n.path, name: n.name })} aria-label={`Move ${n.name}`}>
                          Move
                        </button>
                        <button type="button" className="ghost danger" onClick={() => setDlg({ kind: 'delete', path: n.path, name: n.name })} aria-label={`Delete ${n.name}`}>
                          Delete
                        </button>
                      </td>
                    )}
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {rows.length > 0 && view === 'tiles' && (
        <ul className="tiles">
          {rows.map((n) => {
            const v = live[n.path] ?? n.lastValue
            return (
              <li key={n.id}>
                <Link href={browseURL(n.path)}>
                  <span className={`icon big t-${n.type}`} aria-hidden="true" />
                  <span className="name">{n.name}</span>
                  {n.type === 'SEQUENCE' && v && (
                    <span className="value">
                      {v.number != null ? fmtNumber(v.number, n.sequence?.decimalPlaces, n.sequence?.units) : (v.text ?? '').slice(0, 20)}
                    </span>
                  )}
                  <span className="muted">{typeLabel[n.type]}</span>
                </Link>
              </li>
            )
          })}
        </ul>
      )}
      <LoadMore m={more} what="items" />
      {dlg && (dlg.kind === 'folder' || dlg.kind === 'file' || dlg.kind === 'sequence' || dlg.kind === 'controller') && (
        <CreateDialog kind={dlg.kind} parent={r.path} onClose={() => setDlg(null)} onDone={reload} />
      )}
      {dlg?.kind === 'rename' && <RenameDialog path={dlg.path} name={dlg.name} onClose={() => setDlg(null)} onDone={reload} />}
      {dlg?.kind === 'move' && <MoveDialog path={dlg.path} name={dlg.name} parent={r.path} onClose={() => setDlg(null)} onDone={reload} />}
      {dlg?.kind === 'delete' && <DeleteDialog path={dlg.path} name={dlg.name} onClose={() => setDlg(null)} onDone={reload} />}
    </div>
  )
}

function CreateDialog({
  kind,
  parent,
  onClose,
  onDone,
}: {
  kind: 'folder' | 'file' | 'sequence' | 'controller'
  parent: string
  onClose: () => void
  onDone: () => void
}) {
  const [name, setName] = useState('')
  const [dataType, setDataType] = useState<SequenceDataType>('NUMERIC')
  const [units, setUnits] = useState('')
  const [decimals, setDecimals] = useState('')
  const [err, setErr] = useState('')
  const [, folder] = useMutation(CreateFolderMutation)
  const [, file] = useMutation(CreateFileMutation)
  const [, seq] = useMutation(CreateSequenceMutation)
  const [, ctrl] = useMutation(CreateControllerMutation)
  const [, navigate] = useLocation()
  const title = { folder: 'New folder', file: 'New text file', sequence: 'New sequence', controller: 'New controller' }[kind]
  return (
    <Dialog title={title} open onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const path = `${parent}/${name.trim()}`
          const res =
            kind === 'folder'
              ? await folder({ path })
              : kind === 'file'
                ? await file({ path, contentBase64: '', contentType: name.endsWith('.md') ? 'text/markdown' : 'text/plain' })
                : kind === 'controller'
                  ? await ctrl({ path })
                  : await seq({
                      input: {
                        path,
                        dataType,
                        units: units || null,
                        decimalPlaces: decimals === '' ? null : Number(decimals),
                      },
                    })
          if (res.error) return setErr(plain(res.error))
          onDone()
          onClose()
          if (kind === 'sequence' || kind === 'file') navigate(browseURL(path))
        }}
      >
        <label>
          Name
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} aria-describedby="name-help" pattern="[A-Za-z0-9._ \-]+" />
        </label>
        <p className="hint" id="name-help">Letters, digits, space, dot, dash and underscore.</p>
        {kind === 'sequence' && (
          <>
            <label>
              Data type
              <select value={dataType} onChange={(e) => setDataType(e.target.value as SequenceDataType)}>
                <option value="NUMERIC">Numbers</option>
                <option value="TEXT">Text</option>
                <option value="JSON">JSON</option>
                <option value="IMAGE">Images</option>
              </select>
            </label>
            {dataType === 'NUMERIC' && (
              <div className="row">
                <label>
                  Units
                  <input value={units} onChange={(e) => setUnits(e.target.value)} placeholder="e.g. °C" />
                </label>
                <label>
                  Decimal places
                  <input type="number" min={0} max={12} value={decimals} onChange={(e) => setDecimals(e.target.value)} />
                </label>
              </div>
            )}
          </>
        )}
        <ErrorText error={err} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary">Create</button>
        </div>
      </form>
    </Dialog>
  )
}

function RenameDialog({ path, name, onClose, onDone }: { path: string; name: string; onClose: () => void; onDone: () => void }) {
  const [value, setValue] = useState(name)
  const [err, setErr] = useState('')
  const [, rename] = useMutation(RenameMutation)
  return (
    <Dialog title={`Rename ${name}`} open onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const res = await rename({ path, name: value.trim() })
          if (res.error) return setErr(plain(res.error))
          onDone()
          onClose()
        }}
      >
        <label>
          New name
          <input required autoFocus value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <ErrorText error={err} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary">Rename</button>
        </div>
      </form>
    </Dialog>
  )
}

function MoveDialog({ path, name, parent, onClose, onDone }: { path: string; name: string; parent: string; onClose: () => void; onDone: () => void }) {
  const [value, setValue] = useState(parent)
  const [err, setErr] = useState('')
  const [, move] = useMutation(MoveMutation)
  return (
    <Dialog title={`Move ${name}`} open onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const res = await move({ path, newParent: value.trim() })
          if (res.error) return setErr(plain(res.error))
          onDone()
          onClose()
        }}
      >
        <label>
          Into folder (path)
          <input required autoFocus value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <p className="hint">Everything below {name} moves with it.</p>
        <ErrorText error={err} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary">Move</button>
        </div>
      </form>
    </Dialog>
  )
}

export function DeleteDialog({ path, name, onClose, onDone }: { path: string; name: string; onClose: () => void; onDone: () => void }) {
  const [, del] = useMutation(DeleteMutation)
  return (
    <Confirm
      title={`Delete ${name}?`}
      message={<p>{path} and everything below it will be deleted, with all stored data. This cannot be undone.</p>}
      confirmLabel="Delete"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const res = await del({ path })
        if (res.error) return plain(res.error)
        onDone()
      }}
    />
  )
}
