import { useState } from 'react'
import { useMutation } from 'urql'
import { LoginMutation } from '../ops'
import { ErrorText, useTitle } from '../ui'
import { useMe } from '../me'
import { Redirect } from 'wouter'

export function LoginPage() {
  useTitle('Sign in')
  const me = useMe()
  const [login, setLogin] = useState('')
  const [password, setPassword] = useState('')
  const [{ fetching, error }, run] = useMutation(LoginMutation)
  const next = new URLSearchParams(location.search).get('next') || '/'
  const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/'
  if (me) return <Redirect to={safeNext} replace />
  return (
    <div className="login">
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault()
          const r = await run({ login, password })
          // A full load: the cache and the websocket start over as the signed-in user.
          if (r.data) location.assign(safeNext)
        }}
      >
        <h1>Sign in</h1>
        <label>
          E-mail or user name
          <input autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={error ? 'login-error' : undefined}
          />
        </label>
        <ErrorText error={error} id="login-error" />
        <button className="primary" type="submit" disabled={fetching}>
          {fetching ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">
          First run? The demo data (<code>make run</code>) has the user <code>demo@example.com</code> with the
          password <code>demo-password</code>.
        </p>
      </form>
    </div>
  )
}
