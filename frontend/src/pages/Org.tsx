import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { Link, useParams } from 'wouter'
import { AddMemberMutation, OrganizationQuery, RemoveMemberMutation, SetMemberAdminMutation } from '../ops'
import { plain } from '../client'
import { useMe } from '../me'
import { Confirm, ErrorText, browseURL, useTitle } from '../ui'

export default function OrgPage() {
  const name = decodeURIComponent(useParams().name ?? '')
  useTitle(`Organization ${name}`)
  const me = useMe()!
  const [{ data, error }, refetch] = useQuery({ query: OrganizationQuery, variables: { name } })
  const [email, setEmail] = useState('')
  const [admin, setAdmin] = useState(false)
  const [add, runAdd] = useMutation(AddMemberMutation)
  const [, setAdminFlag] = useMutation(SetMemberAdminMutation)
  const [, remove] = useMutation(RemoveMemberMutation)
  const [rowErr, setRowErr] = useState<Record<string, string>>({})
  const [confirm, setConfirm] = useState<string | null>(null)
  const org = data?.organization
  const reload = () => refetch({ requestPolicy: 'network-only' })
  if (data && !org)
    return (
      <>
        <h1>Organization</h1>
        <p className="error" role="alert">There is no organization {name}, or you are not a member.</p>
      </>
    )
  const isAdmin = me.systemAdmin || org?.members.some((m) => m.user.email === me.email && m.isAdmin)
  return (
    <>
      <h1>{org?.fullName || name}</h1>
      <ErrorText error={error} />
      {org && (
        <p className="links">
          <Link href={browseURL(org.folderPath)}>Files and data</Link>
          <Link href={'/permissions' + org.folderPath}>Permissions of the organization folder</Link>
        </p>
      )}
      <section className="card" aria-labelledby="members-h">
        <h2 id="members-h">Members</h2>
        <div className="table-wrap">
          <table className="list" id="members">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                {isAdmin && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {org?.members.map((m) => (
                <tr key={m.id}>
                  <td>{m.user.fullName}</td>
                  <td>{m.user.email}</td>
                  <td>{m.isAdmin ? <span className="pill">admin</span> : 'member'}</td>
                  {isAdmin && (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="ghost"
                        onClick={async () => {
                          const r = await setAdminFlag({ organization: name, email: m.user.email, admin: !m.isAdmin })
                          setRowErr({ [m.id]: r.error ? plain(r.error) : '' })
                          reload()
                        }}
                      >
                        {m.isAdmin ? 'Make member' : 'Make admin'}
                      </button>
                      <button type="button" className="ghost danger" onClick={() => setConfirm(m.user.email)} aria-label={`Remove ${m.user.email}`}>
                        Remove
                      </button>
                      {rowErr[m.id] && <span className="error" role="alert">{rowErr[m.id]}</span>}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {isAdmin && (
          <form
            className="row add-member"
            onSubmit={async (e) => {
              e.preventDefault()
              const r = await runAdd({ organization: name, email: email.trim(), admin })
              if (!r.error) {
                setEmail('')
                setAdmin(false)
                reload()
              }
            }}
          >
            <label>
              Add a member by e-mail
              <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label className="check">
              <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> admin
            </label>
            <button type="submit" className="primary" disabled={add.fetching}>Add</button>
            <ErrorText error={add.error} />
          </form>
        )}
      </section>
      {confirm && (
        <Confirm
          title={`Remove ${confirm}?`}
          message={<p>They lose access to everything the organization shares.</p>}
          confirmLabel="Remove"
          danger
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            const r = await remove({ organization: name, email: confirm })
            if (r.error) return plain(r.error)
            reload()
          }}
        />
      )}
    </>
  )
}
