import { StrictMode, Suspense, lazy } from 'react'
import { createRoot } from 'react-dom/client'
import { Provider, useQuery, useMutation } from 'urql'
import { Link, Route, Switch, useLocation, Redirect } from 'wouter'
import { client } from './client'
import { MeQuery, LogoutMutation } from './ops'
import { MeContext, type Me } from './me'
import { ErrorText } from './ui'
import { LoginPage } from './pages/Login'
import { HomePage } from './pages/Home'
import { BrowsePage } from './pages/Browse'
import './style.css'

const MessagesPage = lazy(() => import('./pages/Messages'))
const AccountPage = lazy(() => import('./pages/Account'))
const ControllersPage = lazy(() => import('./pages/Controllers'))
const OrgPage = lazy(() => import('./pages/Org'))
const PermissionsPage = lazy(() => import('./pages/Permissions'))
const AdminPage = lazy(() => import('./pages/Admin'))
const SourceHealthPage = lazy(() => import('./pages/SourceHealth'))


function Header({ me, version }: { me: Me | null; version?: string }) {
  const [, logout] = useMutation(LogoutMutation)
  const [loc] = useLocation()
  const cur = (p: string) => (loc === p || loc.startsWith(p + '/') ? 'page' : undefined)
  return (
    <header className="top">
      <Link href="/" className="brand" aria-label="rhizoflex home">
        <span className="logo" aria-hidden="true" />
        rhizoflex
      </Link>
      {me && (
        <nav aria-label="Main">
          <Link href="/" aria-current={loc === '/' ? 'page' : undefined}>Home</Link>
          <Link href="/controllers" aria-current={cur('/controllers')}>Controllers</Link>
          <Link href="/account" aria-current={cur('/account')}>Account</Link>
          {me.systemAdmin && <Link href="/admin" aria-current={loc === '/admin' ? 'page' : undefined}>Admin</Link>}
          {me.systemAdmin && <Link href="/admin/sources" aria-current={cur('/admin/sources')}>Source health</Link>}
          <a href="/playground">API</a>
        </nav>
      )}
      <div className="who">
        {version && <span className="version" title="Server version">v{version}</span>}
        {me && (
          <>
            <span className="user">{me.fullName || me.email}</span>
            <button
              type="button"
              className="ghost"
              onClick={async () => {
                await logout({})
                location.assign('/login')
              }}
            >
              Sign out
            </button>
          </>
        )}
      </div>
    </header>
  )
}

function Shell() {
  const [{ data, error, fetching }] = useQuery({ query: MeQuery, requestPolicy: 'network-only' })
  const [loc] = useLocation()
  if (fetching && !data) return <p className="loading">Loading…</p>
  if (error && !data)
    return (
      <main className="page">
        <ErrorText error={error} />
      </main>
    )
  const me = data?.me ?? null
  if (!me && loc !== '/login') return <Redirect to={`/login?next=${encodeURIComponent(loc + location.search)}`} replace />
  return (
    <MeContext.Provider value={me}>
      <a href="#main" className="skip">Skip to content</a>
      <Header me={me} version={data?.version} />
      <main id="main" className="page" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Switch>
            <Route path="/login" component={LoginPage} />
            <Route path="/" component={HomePage} />
            <Route path="/browse/*?" component={BrowsePage} />
            <Route path="/messages/*?" component={MessagesPage} />
            <Route path="/permissions/*?" component={PermissionsPage} />
            <Route path="/account" component={AccountPage} />
            <Route path="/controllers" component={ControllersPage} />
            <Route path="/org/:name" component={OrgPage} />
            <Route path="/admin" component={AdminPage} />
            <Route path="/admin/sources" component={SourceHealthPage} />
            <Route>
              <h1>Page not found</h1>
              <p>
                Nothing is at this address. <Link href="/">Go home</Link>.
              </p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </MeContext.Provider>
  )
}

createRoot(document.getElementById('app')!).render(
  <StrictMode>
    <Provider value={client}>
      <Shell />
    </Provider>
  </StrictMode>,
)
