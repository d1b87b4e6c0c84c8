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
      <li><a href="/playground">GraphQL playground</a></li>
      <li><a href="/graphql">GraphQL endpoint</a></li>
    </ul></main>`
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
