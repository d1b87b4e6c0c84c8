import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { Link } from 'wouter'
import { AdminQuery, CreateOrganizationMutation, CreateUserMutation, UsersQuery } from '../ops'
import { fetchOnce } from '../client'
import { useMe } from '../me'
import { ErrorText, LoadMore, fmtAgo, fmtTime, useMore, useTitle } from '../ui'

const usersPage = 200

export default function AdminPage() {
  useTitle('System admin')
  const me = useMe()!
  const [{ data, error }] = useQuery({ query: AdminQuery, pause: !me.systemAdmin })
  const [u] = useQuery({ query: UsersQuery, variables: { first: usersPage }, pause: !me.systemAdmin })
  const first = u.data && {
    items: u.data.users.edges.map((e) => e.node),
    hasNext: u.data.users.pageInfo.hasNextPage,
    end: u.data.users.pageInfo.endCursor,
  }
  const more = useMore(first, 'users', async (after) => {
    const d = await fetchOnce(UsersQuery, { first: usersPage, after })
    return { items: d.users.edges.map((e) => e.node), hasNext: d.users.pageInfo.hasNextPage, end: d.users.pageInfo.endCursor }
  })
  if (!me.systemAdmin)
    return (
      <>
        <h1>System admin</h1>
        <p className="error" role="alert">Only system admins see this page.</p>
      </>
    )
  const users = more.items
  const orgs = data?.organizations ?? []
  return (
    <>
      <div className="title-row">
        <h1>System admin</h1>
        <div className="toolbar">
          <Link className="button" href="/admin/sources">Source health</Link>
        </div>
      </div>
      <ErrorText error={error} />
      <ErrorText error={u.error} />
      <div className="stats" role="list">
        <div role="listitem" className="stat"><span className="big">{users.length}{more.hasNext ? '+' : ''}</span> users</div>
        <div role="listitem" className="stat"><span className="big">{orgs.length}</span> organizations</div>
        <div role="listitem" className="stat"><span className="big">{users.filter((u) => u.systemAdmin).length}</span> system admins</div>
      </div>
      <div className="two-col">
        <NewUser />
        <NewOrg />
      </div>
      <section className="card" aria-labelledby="orgs-h">
        <h2 id="orgs-h">Organizations</h2>
        <div className="table-wrap">
          <table className="list">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Full name</th><th scope="col">Members</th></tr>
            </thead>
            <tbody>
              {orgs.map((o) => (
                <tr key={o.id}>
                  <td><Link href={`/org/${encodeURIComponent(o.name)}`}>{o.name}</Link></td>
                  <td>{o.fullName}</td>
                  <td className="num">{o.members.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card" aria-labelledby="users-h">
        <h2 id="users-h">Users</h2>
        <div className="table-wrap">
          <table className="list">
            <thead>
              <tr><th scope="col">E-mail</th><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last sign-in</th><th scope="col">Role</th></tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>{u.fullName}</td>
                  <td>{fmtTime(u.createdAt)}</td>
                  <td>{fmtAgo(u.lastLogin)}</td>
                  <td>{u.systemAdmin ? <span className="pill">system admin</span> : 'user'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <LoadMore m={more} what="users" />
      </section>
    </>
  )
}

function NewUser() {
  const [email, setEmail] = useState('')
  const [fullName, setFullName] = useState('')
  const [password, setPassword] = useState('')
  const [done, setDone] = useState('')
  const [{ error, fetching }, run] = useMutation(CreateUserMutation)
  return (
    <section className="card" aria-labelledby="nu-h">
      <h2 id="nu-h">New user</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await run({ input: { email: email.trim(), fullName: fullName.trim() || null, password } })
          if (r.data) {
            setDone(`Created ${r.data.createUser.email}.`)
            setEmail('')
            setFullName('')
            setPassword('')
          }
        }}
      >
        <label>E-mail <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <label>Full name <input value={fullName} onChange={(e) => setFullName(e.target.value)} /></label>
        <label>Password <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <ErrorText error={error} />
        <div className="actions">
          {done && <span className="ok" role="status">{done}</span>}
          <button type="submit" className="primary" disabled={fetching}>Create user</button>
        </div>
      </form>
    </section>
  )
}

function NewOrg() {
  const [name, setName] = useState('')
  const [fullName, setFullName] = useState('')
  const [done, setDone] = useState('')
  const [{ error, fetching }, run] = useMutation(CreateOrganizationMutation)
  return (
    <section className="card" aria-labelledby="no-h">
      <h2 id="no-h">New organization</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await run({ name: name.trim(), fullName: fullName.trim() || null })
          if (r.data) {
            setDone(`Created ${r.data.createOrganization.name}.`)
            setName('')
            setFullName('')
          }
        }}
      >
        <label>Short name (its folder) <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Full name <input value={fullName} onChange={(e) => setFullName(e.target.value)} /></label>
        <ErrorText error={error} />
        <div className="actions">
          {done && <span className="ok" role="status">{done}</span>}
          <button type="submit" className="primary" disabled={fetching}>Create organization</button>
        </div>
      </form>
    </section>
  )
}
