import { useQuery } from 'urql'
import { Link } from 'wouter'
import { RecentQuery } from '../ops'
import { useMe } from '../me'
import { ErrorText, browseURL, fmtAgo, typeLabel, useTitle } from '../ui'

function Recent({ path }: { path: string }) {
  const [{ data, error }] = useQuery({ query: RecentQuery, variables: { path } })
  const items = [...(data?.resource?.descendants ?? [])]
    .sort((a, b) => (b.lastRevisionAt ?? b.updatedAt).localeCompare(a.lastRevisionAt ?? a.updatedAt))
    .slice(0, 8)
  return (
    <>
      <ErrorText error={error} />
      {items.length === 0 && data && <p className="muted">Nothing here yet.</p>}
      <ul className="recent">
        {items.map((r) => (
          <li key={r.id}>
            <span className={`badge t-${r.type}`}>{typeLabel[r.type]}</span>
            <Link href={browseURL(r.path)}>{r.path}</Link>
            <span className="muted">{fmtAgo(r.lastRevisionAt ?? r.updatedAt)}</span>
          </li>
        ))}
      </ul>
    </>
  )
}

export function HomePage() {
  useTitle('Home')
  const me = useMe()
  if (!me) return null
  return (
    <>
      <h1>Welcome, {me.fullName || me.email}</h1>
      {me.memberships.length === 0 && (
        <p className="muted">You do not belong to an organization yet. Ask an organization admin to add you.</p>
      )}
      <div className="grid">
        {me.memberships.map((m) => (
          <section className="card" key={m.id} aria-labelledby={`org-${m.id}`}>
            <div className="card-head">
              <h2 id={`org-${m.id}`}>
                <Link href={browseURL(m.organization.folderPath)}>{m.organization.fullName || m.organization.name}</Link>
              </h2>
              {m.isAdmin && <span className="pill">admin</span>}
            </div>
            <p className="links">
              <Link href={browseURL(m.organization.folderPath)}>Browse files and data</Link>
              <Link href={'/messages' + m.organization.folderPath}>Messages</Link>
              <Link href={`/org/${encodeURIComponent(m.organization.name)}`}>Members</Link>
            </p>
            <h3>Recently changed</h3>
            <Recent path={m.organization.folderPath} />
          </section>
        ))}
      </div>
    </>
  )
}
