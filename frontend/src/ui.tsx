// Small shared pieces: error text, confirmation dialog, breadcrumbs, formatting.
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { Link } from 'wouter'
import type { CombinedError } from 'urql'
import { plain } from './client'

export function browseURL(path: string): string {
  return '/browse' + path.split('/').map(encodeURIComponent).join('/')
}

export function pathFromParam(p: string | undefined): string {
  if (!p) return '/'
  return '/' + p.split('/').filter(Boolean).map(decodeURIComponent).join('/')
}

export function ErrorText({ error, id }: { error?: CombinedError | Error | string | null; id?: string }) {
  if (!error) return null
  return (
    <p className="error" role="alert" id={id}>
      {typeof error === 'string' ? error : plain(error)}
    </p>
  )
}

export function Breadcrumbs({ path }: { path: string }) {
  const parts = path.split('/').filter(Boolean)
  return (
    <nav aria-label="Breadcrumb" className="crumbs">
      <ol>
        <li>
          <Link href="/">Home</Link>
        </li>
        {parts.map((p, i) => {
          const sub = '/' + parts.slice(0, i + 1).join('/')
          const last = i === parts.length - 1
          return (
            <li key={sub}>
              {last ? (
                <span aria-current="page">{p}</span>
              ) : (
                <Link href={browseURL(sub)}>{p}</Link>
              )}
            </li>
          )
        })}
      </ol>
    </nav>
  )
}

// Dialog is a modal <dialog>: focus moves into it and Escape closes it.
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string
  open: boolean
  onClose: () => void
  children: ReactNode
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal()
    if (!open && d.open) d.close()
  }, [open])
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="dialog-title" className="dialog">
      {open && (
        <>
          <h2 id="dialog-title">{title}</h2>
          {children}
        </>
      )}
    </dialog>
  )
}

export function Confirm({
  title,
  message,
  confirmLabel,
  danger,
  onConfirm,
  onClose,
}: {
  title: string
  message: ReactNode
  confirmLabel: string
  danger?: boolean
  onConfirm: () => Promise<string | void>
  onClose: () => void
}) {
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  return (
    <Dialog title={title} open onClose={onClose}>
      <div>{message}</div>
      <ErrorText error={err} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className={danger ? 'danger' : 'primary'}
          disabled={busy}
          onClick={async () => {
            setBusy(true)
            const e = await onConfirm()
            setBusy(false)
            if (e) setErr(e)
            else onClose()
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  )
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

export function fmtTime(t?: string | null): string {
  if (!t) return '—'
  return dateFmt.format(new Date(t))
}

export function fmtAgo(t?: string | null): string {
  if (!t) return '—'
  const s = (Date.now() - new Date(t).getTime()) / 1000
  if (s < 5) return 'just now'
  if (s < 60) return `${Math.round(s)} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

export function fmtNumber(n: number | null | undefined, decimals?: number | null, units?: string | null): string {
  if (n == null) return '—'
  const s = decimals != null ? n.toFixed(decimals) : String(Math.round(n * 1e6) / 1e6)
  return units ? `${s} ${units}` : s
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

export const typeLabel: Record<string, string> = {
  FOLDER: 'Folder',
  ORGANIZATION_FOLDER: 'Organization',
  CONTROLLER_FOLDER: 'Controller',
  FILE: 'File',
  SEQUENCE: 'Sequence',
  APP: 'App',
}

export function isFolder(type: string): boolean {
  return type === 'FOLDER' || type === 'ORGANIZATION_FOLDER' || type === 'CONTROLLER_FOLDER'
}

export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · rhizoflex` : 'rhizoflex'
  }, [title])
}

// A page of a connection: its items and where the next page starts.
export type Page<T> = { items: T[]; hasNext: boolean; end?: string | null }

// useMore extends the first page of a connection (from useQuery) with the pages after it,
// fetched on request ("Load more"). The extra pages belong to key (the list's identity and
// the first page's end): a different list or a changed first page starts over.
export function useMore<T>(first: Page<T> | undefined, key: string, fetchPage: (after: string) => Promise<Page<T>>) {
  const [state, setState] = useState<(Page<T> & { key: string }) | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const k = key + '\u0000' + (first?.end ?? '')
  const cur = state && state.key === k ? state : null
  const items = useMemo(() => [...(first?.items ?? []), ...(cur?.items ?? [])], [first, cur])
  const hasNext = cur ? cur.hasNext : !!first?.hasNext
  const end = cur ? cur.end : first?.end
  async function more() {
    if (!end) return
    setBusy(true)
    setError('')
    try {
      const p = await fetchPage(end)
      setState({ key: k, items: [...(cur?.items ?? []), ...p.items], hasNext: p.hasNext, end: p.end })
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
    setBusy(false)
  }
  return { items, hasNext, more, busy, error }
}

export function LoadMore({ m, what }: { m: { hasNext: boolean; more: () => Promise<void>; busy: boolean; error: string }; what: string }) {
  if (!m.hasNext && !m.error) return null
  return (
    <div className="load-more">
      {m.hasNext && (
        <button type="button" onClick={() => void m.more()} disabled={m.busy}>
          {m.busy ? 'Loading…' : `Load more ${what}`}
        </button>
      )}
      <ErrorText error={m.error} />
    </div>
  )
}
