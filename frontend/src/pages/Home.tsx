import { useQuery } from 'urql'
import { Link } from 'wouter'
import { RecentQuery } from '../ops'
import { useMe } from '../me'
import { ErrorText, browseURL, fmtAgo, fmtTime, typeLabel, useTitle } from '../ui'

// Recent lists the most recently changed resources the viewer may read, in every
// organization and everything shared with them, at any depth.
function Recent() {
  const [{ data, error }] = useQuery({ query: RecentQuery, variables: { first: 15 }, requestPolicy: 'cache-and-network' })
  const items = data?.recentResources ?? []
  return (
    <section className="card" aria-labelledby="recent-h">
      <h2 id="recent-h">Recently changed</h2>
      <ErrorText error={error} />
      {items.length === 0 && data && <p className="muted">Nothing here yet.</p>}
      <ul className="recent" id="recent">
        {items.map((r) => (
          <li key={r.id}>
            <span className={`badge t-${r.type}`}>{typeLabel[r.type]}</span>
            <Link href={browseURL(r.path)}>{r.path}</Link>
            <span className="muted" title={fmtTime(r.lastRevisionAt ?? r.updatedAt)}>{fmtAgo(r.lastRevisionAt ?? r.updatedAt)}</span>
          </li>
        ))}
      </ul>
    </section>
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
      <div className="two-col wide-left">
        <Recent />
        <div className="stack">
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
            </section>
          ))}
        </div>
      </div>
    </>
  )
}
