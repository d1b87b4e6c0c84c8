import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { useParams } from 'wouter'
import { GrantMutation, PermissionsQuery, RevokePermissionMutation } from '../ops'
import type { AccessLevel } from '../gql/graphql'
import { plain } from '../client'
import { Breadcrumbs, ErrorText, pathFromParam, useTitle } from '../ui'

export default function PermissionsPage() {
  const path = pathFromParam(useParams()['*'])
  useTitle(`Permissions of ${path}`)
  const [{ data, error }, refetch] = useQuery({ query: PermissionsQuery, variables: { path }, requestPolicy: 'network-only' })
  const [kind, setKind] = useState<'user' | 'org' | 'public'>('user')
  const [who, setWho] = useState('')
  const [level, setLevel] = useState<AccessLevel>('READ')
  const [grant, runGrant] = useMutation(GrantMutation)
  const [, revoke] = useMutation(RevokePermissionMutation)
  const [revokeErr, setRevokeErr] = useState('')
  const r = data?.resource
  const reload = () => refetch({ requestPolicy: 'network-only' })
  return (
    <>
      <Breadcrumbs path={path} />
      <h1>Permissions of {path}</h1>
      <ErrorText error={error} />
      {data && !r && <p className="error" role="alert">Nothing is at {path}, or you do not have access to it.</p>}
      {r && r.access !== 'ADMIN' && <p className="error" role="alert">Only admins of {path} see and change its permissions.</p>}
      {r && r.access === 'ADMIN' && (
        <section className="card">
          <p className="muted">Grants apply to {path} and everything below it. Organization members also have the access their organization gives.</p>
          <div className="table-wrap">
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">Who</th>
                  <th scope="col">Access</th>
                  <th scope="col"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {r.permissions.map((p) => (
                  <tr key={p.id}>
                    <td>{p.granteeType === 'PUBLIC' ? 'Everyone (public)' : p.user ? p.user.email : `organization ${p.organization?.name}`}</td>
                    <td>{p.level.toLowerCase()}</td>
                    <td>
                      <button
                        type="button"
                        className="ghost danger"
                        onClick={async () => {
                          const x = await revoke({ id: p.id })
                          setRevokeErr(x.error ? plain(x.error) : '')
                          reload()
                        }}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
                {r.permissions.length === 0 && (
                  <tr>
                    <td colSpan={3} className="muted">No grants on this resource.</td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <ErrorText error={revokeErr} />
          <form
            className="row grant"
            onSubmit={async (e) => {
              e.preventDefault()
              const grantee = kind === 'public' ? { public: true } : kind === 'user' ? { userEmail: who.trim() } : { organization: who.trim() }
              const x = await runGrant({ path, grantee, level })
              if (!x.error) {
                setWho('')
                reload()
              }
            }}
          >
            <label>
              Grant to
              <select value={kind} onChange={(e) => setKind(e.target.value as 'user')}>
                <option value="user">a user</option>
                <option value="org">an organization</option>
                <option value="public">everyone (public)</option>
              </select>
            </label>
            {kind !== 'public' && (
              <label>
                {kind === 'user' ? 'E-mail' : 'Organization name'}
                <input required value={who} onChange={(e) => setWho(e.target.value)} />
              </label>
            )}
            <label>
              Access
              <select value={level} onChange={(e) => setLevel(e.target.value as AccessLevel)}>
                <option value="READ">read</option>
                <option value="WRITE">write</option>
                <option value="ADMIN">admin</option>
              </select>
            </label>
            <button type="submit" className="primary" disabled={grant.fetching}>Grant</button>
            <ErrorText error={grant.error} />
          </form>
        </section>
      )}
    </>
  )
}
