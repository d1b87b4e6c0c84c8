import { useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { ChangePasswordMutation, CreateKeyMutation, KeysQuery, RevokeKeyMutation } from '../ops'
import { plain } from '../client'
import { useMe } from '../me'
import { Confirm, ErrorText, fmtAgo, fmtTime, useTitle } from '../ui'

export default function AccountPage() {
  useTitle('Account')
  const me = useMe()
  if (!me) return null
  return (
    <>
      <h1>Account</h1>
      <p className="muted">
        {me.fullName} · {me.email}
        {me.userName && ` · ${me.userName}`}
        {me.systemAdmin && ' · system admin'}
      </p>
      <div className="two-col">
        <PasswordForm />
        <CreateKey />
      </div>
      <KeyList />
    </>
  )
}

function PasswordForm() {
  const [cur, setCur] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [err, setErr] = useState('')
  const [ok, setOk] = useState(false)
  const [{ fetching }, run] = useMutation(ChangePasswordMutation)
  return (
    <section className="card" aria-labelledby="pw-h">
      <h2 id="pw-h">Change password</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          setOk(false)
          setErr('')
          if (next !== again) return setErr('The new passwords do not match.')
          const r = await run({ current: cur, next })
          if (r.error) return setErr(plain(r.error))
          setErr('')
          setOk(true)
          setCur('')
          setNext('')
          setAgain('')
        }}
      >
        <label>
          Current password
          <input type="password" autoComplete="current-password" required value={cur} onChange={(e) => setCur(e.target.value)} />
        </label>
        <label>
          New password
          <input type="password" autoComplete="new-password" required minLength={8} value={next} onChange={(e) => setNext(e.target.value)} />
        </label>
        <label>
          New password again
          <input type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
        </label>
        <ErrorText error={err} />
        <div className="actions">
          {ok && <span className="ok" role="status">Password changed.</span>}
          <button type="submit" className="primary" disabled={fetching}>Change password</button>
        </div>
      </form>
    </section>
  )
}

function CreateKey() {
  const me = useMe()!
  const [name, setName] = useState('')
  const [org, setOrg] = useState('')
  const [controller, setController] = useState('')
  const [secret, setSecret] = useState('')
  const [copied, setCopied] = useState(false)
  const [{ error, fetching }, run] = useMutation(CreateKeyMutation)
  return (
    <section className="card" aria-labelledby="key-h">
      <h2 id="key-h">New API key</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          setCopied(false)
          const r = await run(
            { input: { name: name.trim(), organization: org || null, asController: controller.trim() || null } })
          if (r.data) {
            setSecret(r.data.createKey.secret)
            setName('')
          }
        }}
      >
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. greenhouse logger" />
        </label>
        <label>
          Organization
          <select value={org} onChange={(e) => setOrg(e.target.value)}>
            <option value="">Any (acts as me everywhere)</option>
            {me.memberships.map((m) => (
              <option key={m.id} value={m.organization.name}>
                Only {m.organization.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Acts as controller (optional path)
          <input value={controller} onChange={(e) => setController(e.target.value)} placeholder="/org/controllers/pump" />
        </label>
        <ErrorText error={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={fetching}>Create key</button>
        </div>
      </form>
      {secret && (
        <div className="secret" role="status">
          <p>
            <strong>Copy the key now.</strong> It is shown only once.
          </p>
          <div className="row">
            <code id="key-secret">{secret}</code>
            <button
              type="button"
              onClick={async () => {
                await navigator.clipboard?.writeText(secret).catch(() => {})
                setCopied(true)
              }}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="ghost" onClick={() => setSecret('')}>Done</button>
          </div>
        </div>
      )}
    </section>
  )
}

function KeyList() {
  const [{ data, error }, refetch] = useQuery({ query: KeysQuery })
  const [, revoke] = useMutation(RevokeKeyMutation)
  const [confirm, setConfirm] = useState<{ id: string; name: string } | null>(null)
  const keys = data?.keys ?? []
  return (
    <section className="card" aria-labelledby="keys-h">
      <h2 id="keys-h">My keys</h2>
      <ErrorText error={error} />
      <div className="table-wrap">
        <table className="list" id="keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} className={k.revokedAt ? 'revoked' : ''}>
                <td>{k.name}</td>
                <td><code>{k.prefix}…</code></td>
                <td>
                  {k.asController ? `controller ${k.asController.path}` : k.asUser ? k.asUser.email : ''}
                  {k.organization && ` in ${k.organization.name}`}
                </td>
                <td>{fmtTime(k.createdAt)}</td>
                <td>{fmtAgo(k.lastUsedAt)}</td>
                <td>{k.revokedAt ? <span className="muted">revoked {fmtAgo(k.revokedAt)}</span> : <span className="ok">active</span>}</td>
                <td>
                  {!k.revokedAt && (
                    <button type="button" className="ghost danger" onClick={() => setConfirm({ id: k.id, name: k.name })} aria-label={`Revoke key ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {keys.length === 0 && data && (
              <tr>
                <td colSpan={7} className="muted">No keys yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {confirm && (
        <Confirm
          title={`Revoke ${confirm.name}?`}
          message={<p>Programs using this key stop working at once. This cannot be undone.</p>}
          confirmLabel="Revoke key"
          danger
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            const r = await revoke({ id: confirm.id })
            if (r.error) return plain(r.error)
            refetch({ requestPolicy: 'network-only' })
          }}
        />
      )}
    </section>
  )
}
