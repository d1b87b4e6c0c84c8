import { gql } from './api'
import './style.css'

interface Status {
  version: string
  me: { email: string; fullName: string } | null
}

async function main(): Promise<void> {
  const app = document.getElementById('app')!
  app.innerHTML = `<header><h1>rhizoflex</h1><span id="version"></span></header>
    <main><p id="who">Loading…</p>
    <ul>
      <li><a href="/playground">GraphQL playground</a>: explore the API and run queries in the browser</li>
      <li>GraphQL endpoint for programs: <code id="endpoint"></code> (POST JSON
        <code>{"query": "..."}</code>; subscriptions over a websocket on the same address;
        see docs/API.md)</li>
    </ul></main>`
  // The endpoint answers POSTs, not a browser's GET, so it is shown rather than linked.
  document.getElementById('endpoint')!.textContent = `${location.origin}/graphql`
  try {
    const s = await gql<Status>('{ version me { email fullName } }')
    document.getElementById('version')!.textContent = `version ${s.version}`
    document.getElementById('who')!.textContent = s.me
      ? `Signed in as ${s.me.fullName || s.me.email}`
      : 'Not signed in.'
  } catch (e) {
    document.getElementById('who')!.textContent = `Server unreachable: ${(e as Error).message}`
  }
}

void main()
