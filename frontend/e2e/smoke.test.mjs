// End-to-end smoke test of the web pages: starts the real server binary (bin/rhizoflex,
// built by `make build`) on a fresh SQLite database with demo data, drives Debian's
// Chromium with playwright-core, and saves screenshots under test-results/.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { chromium } from 'playwright-core'

const bin = join(process.cwd(), 'bin', 'rhizoflex')
const shots = join(process.cwd(), 'test-results')
let server, browser, base

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function waitUp(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`server at ${url} did not come up`)
}

before(async () => {
  mkdirSync(shots, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'rhizoflex-e2e-'))
  const env = {
    ...process.env,
    RHIZOFLEX_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    RHIZOFLEX_DATA_DIR: dir,
    RHIZOFLEX_LOG_LEVEL: 'warn',
  }
  execFileSync(bin, ['demo'], { env })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`], { env, stdio: 'inherit' })
  await waitUp(`${base}/healthz`)
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

after(async () => {
  await browser?.close()
  server?.kill('SIGTERM')
})

test('home page shows the version and the sign-in state', async () => {
  const page = await browser.newPage()
  await page.goto(base + '/')
  await page.getByText('Not signed in.').waitFor()
  assert.match(await page.locator('#version').innerText(), /^version /)
  // Every link on the home page leads somewhere a person can use (none to /graphql's 422).
  const hrefs = await page.locator('main a').evaluateAll((as) => as.map((a) => a.href))
  assert.ok(hrefs.length > 0, 'the home page has no links')
  for (const href of hrefs) {
    const r = await fetch(href)
    assert.ok(r.status < 400, `${href} answers ${r.status}`)
  }
  assert.equal(await page.locator('#endpoint').innerText(), `${base}/graphql`)
  await page.screenshot({ path: join(shots, 'home.png') })
  await page.close()
})

test('playground runs a query against the server, with the session cookie', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const failed = []
  page.on('requestfailed', (r) => failed.push(r.url()))
  // Sign in through the context's request API: it shares the browser's cookie jar, so
  // the page opens signed in on its first load. (Reloading GraphiQL right after its first
  // load races its tab store and can come back with an empty second tab.)
  const login = await (await context.request.post(base + '/graphql', {
    data: { query: 'mutation { login(login: "demo@example.com", password: "demo-password") { email } }' },
  })).json()
  assert.equal(login.data.login.email, 'demo@example.com')
  await page.goto(base + '/playground')
  // GraphiQL fills its editor a moment after the page loads (the editor's code comes
  // later); executing before that sends an empty document.
  await page.locator('.graphiql-query-editor').getByText('memberships').first().waitFor()
  await page.locator('.graphiql-execute-button').click()
  const result = page.locator('.result-window')
  await result.getByText('demo@example.com').waitFor()
  const text = await result.innerText()
  assert.match(text, /"version"/)
  assert.match(text, /"name": "demo"/)
  assert.deepEqual(failed.filter((u) => !u.startsWith(base)), [], 'requests left the server')
  await page.screenshot({ path: join(shots, 'playground.png') })
  await context.close()
})
