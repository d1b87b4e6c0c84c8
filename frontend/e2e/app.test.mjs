// End-to-end tests of the web app: start the real server binary (bin/rhizoflex, built by
// `make build`) on a fresh SQLite database with the demo data, drive Debian's Chromium with
// playwright-core, check each page with axe-core, and save screenshots of every page at
// 1280x800 and 390 px wide under test-results/.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const bin = join(process.cwd(), 'bin', 'rhizoflex')
const shots = join(process.cwd(), 'test-results')
const demo = { login: 'demo@example.com', password: 'demo-password' }
const admin = { login: 'admin@example.com', password: 'admin-password-1' }
let server, browser, base, ctx, page

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

// api is a test client outside the browser: GraphQL over HTTP with a session cookie or a key.
async function api(query, variables = {}, auth = {}) {
  const headers = { 'Content-Type': 'application/json' }
  if (auth.cookie) headers.Cookie = auth.cookie
  if (auth.key) headers.Authorization = `Bearer ${auth.key}`
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
  const body = res.status === 401 ? { status: 401 } : await res.json()
  return { res, body }
}

async function signInClient(who) {
  const { res, body } = await api('mutation($l: String!, $p: String!) { login(login: $l, password: $p) { email } }', {
    l: who.login,
    p: who.password,
  })
  assert.equal(body.data.login.email, who.login)
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') }
}

// check runs axe-core on the page (no serious or critical violation) and saves screenshots
// at desktop and phone width.
async function check(p, name) {
  await p.waitForLoadState('networkidle').catch(() => {})
  await p.addScriptTag({ content: axeSource })
  const result = await p.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
    }))
  })
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(bad, [], `${name}: axe-core violations`)
  const size = p.viewportSize()
  // From the top: a page scrolled by a click would draw the sticky header mid-page.
  await p.evaluate(() => window.scrollTo(0, 0))
  await p.screenshot({ path: join(shots, `${name}-1280.png`), fullPage: true })
  await p.setViewportSize({ width: 390, height: 844 })
  await p.waitForTimeout(150)
  // On a phone the page fits the screen: only tables scroll sideways, inside their box.
  const wide = await p.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(wide <= 390, `${name}: the page is ${wide} px wide on a 390 px screen`)
  await p.screenshot({ path: join(shots, `${name}-390.png`), fullPage: true })
  await p.setViewportSize(size)
}

async function newSignedInPage(who) {
  const c = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const login = await (
    await c.request.post(base + '/graphql', {
      data: { query: `mutation { login(login: "${who.login}", password: "${who.password}") { email } }` },
    })
  ).json()
  assert.equal(login.data.login.email, who.login)
  return { c, p: await c.newPage() }
}

before(async () => {
  mkdirSync(shots, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'rhizoflex-e2e-'))
  const env = {
    ...process.env,
    RHIZOFLEX_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    RHIZOFLEX_DATA_DIR: dir,
    RHIZOFLEX_LOG_LEVEL: 'warn',
    // The example reader sources (bin/genreader, built by make build): their self-check
    // fills the source health page.
    RHIZOFLEX_SOURCES_DIR: join(process.cwd(), 'examples', 'sources'),
  }
  execFileSync(bin, ['demo'], { env })
  execFileSync(bin, ['create-admin', `${admin.login}:${admin.password}`], { env })
  execFileSync(bin, ['sources', 'selfcheck'], { env })
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`], { env, stdio: 'inherit' })
  await waitUp(`${base}/healthz`)
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await ctx.newPage()
})

after(async () => {
  await browser?.close()
  server?.kill('SIGTERM')
})

test('sign in with the hinted demo login; a deep link comes back after sign-in', async () => {
  await page.goto(base + '/browse/demo')
  await page.waitForURL(/\/login\?next=/)
  await page.getByText('demo-password').waitFor()
  await check(page, 'login')
  await page.getByLabel('E-mail or user name').fill(demo.login)
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').waitFor()
  await page.getByLabel('Password').fill(demo.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(base + '/browse/demo')
  await page.getByRole('link', { name: 'greenhouse' }).waitFor()
  await check(page, 'folder')
  await page.goto(base + '/')
  await page.getByRole('heading', { name: /Welcome/ }).waitFor()
  await page.getByText('Recently changed').waitFor()
  await check(page, 'home')
})

test('create a folder and a sequence; values from a test client appear live in the plot and the folder', async () => {
  await page.goto(base + '/browse/demo')
  await page.getByRole('button', { name: 'New folder' }).click()
  await page.getByRole('dialog').getByLabel('Name').fill('e2e')
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click()
  await page.getByRole('link', { name: 'e2e' }).click()
  await page.waitForURL(base + '/browse/demo/e2e')
  await page.getByText('This folder is empty.').waitFor()
  await page.getByRole('button', { name: 'New sequence' }).click()
  const dlg = page.getByRole('dialog')
  await dlg.getByLabel('Name').fill('temp')
  await dlg.getByLabel('Units').fill('degC')
  await dlg.getByLabel('Decimal places').fill('2')
  await dlg.getByRole('button', { name: 'Create' }).click()
  await page.waitForURL(base + '/browse/demo/e2e/temp')
  await page.getByText('no values yet', { exact: true }).waitFor()

  // A test client (node, its own session) writes values; the open page shows them.
  const auth = await signInClient(demo)
  const send = (v) =>
    api('mutation($v: String!) { updateSequence(path: "/demo/e2e/temp", value: $v) { timestamp } }', { v: String(v) }, auth)
  let n = 0
  const plot = page.locator('.plot')
  for (let i = 0; i < 40 && n < 2; i++) {
    await send(20 + i)
    await page.waitForTimeout(250)
    n = Number(await plot.getAttribute('data-points'))
  }
  assert.ok(n >= 2, `the plot shows ${n} points after live values`)
  const first = await page.locator('#live-value').innerText()
  assert.match(first, /^\d+\.00 degC$/)
  await send(42.125)
  await page.locator('#live-value').getByText(/42\.1[23] degC/).waitFor()
  await page.locator('#recent-values').getByText(/42\.1[23] degC/).first().waitFor()
  assert.ok(Number(await plot.getAttribute('data-points')) > n, 'the new value is plotted')
  await check(page, 'sequence')

  // Drag across the plot: the window becomes a custom one in the URL and the data is fetched.
  const box = await page.locator('.u-over').boundingBox()
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.99, box.y + box.height / 2, { steps: 5 })
  await page.mouse.up()
  await page.waitForURL(/from=\d+&to=\d+/)
  await page.locator('button[aria-pressed=true]', { hasText: 'Custom' }).waitFor()
  // The zoomed window survives a reload.
  const zoomed = page.url()
  await page.reload()
  await page.getByRole('heading', { name: /temp/ }).waitFor()
  assert.equal(page.url(), zoomed)
  await page.getByRole('button', { name: 'Last hour' }).click()

  // The folder lists the sequence with its value, which follows new values without a reload.
  await page.goto(base + '/browse/demo/e2e')
  const cell = page.locator('td.value[data-path="/demo/e2e/temp"]')
  await cell.getByText(/42\.1[23] degC/).waitFor()
  let seen = false
  for (let i = 0; i < 40 && !seen; i++) {
    await send(-3.5)
    await page.waitForTimeout(250)
    seen = (await cell.innerText()).includes('-3.50 degC')
  }
  assert.ok(seen, 'the folder shows the live value')

  // Settings change how values show; a value recorded on the page joins the table.
  await page.goto(base + '/browse/demo/e2e/temp')
  await page.locator('.plot canvas').waitFor()
  await page.getByLabel('Units').fill('K')
  await page.getByLabel('Decimal places').fill('1')
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByRole('status').getByText('Saved.').waitFor()
  await page.locator('#live-value').getByText('-3.5 K').waitFor()
  await page.getByLabel('Record a value').fill('not a number')
  await page.getByRole('button', { name: 'Record' }).click()
  await page.locator('.record').getByRole('alert').waitFor()
  await page.getByLabel('Record a value').fill('300.25')
  await page.getByRole('button', { name: 'Record' }).click()
  await page.locator('#recent-values').getByText('300.3 K').first().waitFor()
  // The window's CSV download (the das stream URL) holds the values, with the session cookie.
  const csvHref = await page.locator('a', { hasText: 'CSV' }).getAttribute('href')
  const csv = await ctx.request.get(csvHref)
  assert.equal(csv.status(), 200)
  assert.match(csv.headers()['content-type'], /^text\/csv/)
  assert.match(await csv.text(), /^time \(UTC\),temp \(K\)\r\n[^]*,3\.0025000e\+02\r\n$/)

  // The sequence page draws a million points: time from data arrival to the drawn plot.
  for (const band of [false, true]) {
    const bench = await page.evaluate((b) => window.rhizoflexPlotBench(1_000_000, b), band)
    const what = band ? 'mean line with min-max band' : 'one line'
    console.log(`plot: ${bench.points} points (${what}) from data arrival to drawn plot in ${bench.ms.toFixed(0)} ms (headless Chromium)`)
  }
})

test('sequence page: custom window, das2 and das3 downloads carry the values, Autoplot URI and curl line', async () => {
  await page.goto(base + '/browse/demo/e2e/temp')
  await page.locator('.plot canvas').waitFor()
  await page.getByText('Download and links').click()
  // The window's streams hold the stored value 300.25 (binary: a little-endian double).
  const value = Buffer.alloc(8)
  value.writeDoubleLE(300.25)
  const das2 = await ctx.request.get(await page.locator('a', { hasText: 'das2 stream' }).getAttribute('href'))
  assert.equal(das2.status(), 200)
  const das2Body = Buffer.from(await das2.body())
  assert.equal(das2Body.subarray(0, 4).toString(), '[00]')
  assert.match(das2Body.toString('latin1'), /yLabel="temp \(K\)"/)
  assert.ok(das2Body.includes(value), 'the das2 stream carries 300.25')
  const das3 = await ctx.request.get(await page.locator('a', { hasText: 'das3 stream' }).getAttribute('href'))
  assert.equal(das3.status(), 200)
  const das3Body = Buffer.from(await das3.body())
  assert.equal(das3Body.subarray(0, 4).toString(), '|Sx|')
  assert.ok(das3Body.includes(value), 'the das3 stream carries 300.25')
  // The Autoplot URI names the das2 server's dataset for the window; the curl line is the
  // CSV of the same window, and with the session it answers the values.
  const autoplot = await page.locator('.links-list code').first().innerText()
  assert.match(autoplot, new RegExp(`^vap\\+das2server:${base}/das/server\\?dataset=demo/e2e/temp&start_time=\\S+Z&end_time=\\S+Z$`))
  const curl = await page.locator('.links-list code').nth(1).innerText()
  const curlURL = curl.match(/^curl -u :\$RHIZOFLEX_KEY '([^']+)'$/)[1]
  assert.ok(curlURL.startsWith(`${base}/das/source/demo/e2e/temp/flex?`), curl)
  const csv = await ctx.request.get(curlURL)
  assert.equal(csv.status(), 200)
  assert.match(await csv.text(), /,3\.0025000e\+02\r\n$/)
  await check(page, 'sequence-links')

  // A custom window: from and to typed in; one around the values shows them, one a year
  // back shows none, and the window is in the URL.
  await page.getByRole('button', { name: 'Custom' }).click()
  await page.waitForURL(/from=\d+&to=\d+/)
  const local = (t) => {
    const d = new Date(t)
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset())
    return d.toISOString().slice(0, 16)
  }
  const now = Date.now()
  await page.getByLabel('From', { exact: true }).fill(local(now - 400 * 86400e3))
  await page.getByLabel('To', { exact: true }).fill(local(now - 365 * 86400e3))
  await page.getByRole('button', { name: 'Show' }).click()
  await page.getByText('No values in this window.').waitFor()
  const from = Number(new URL(page.url()).searchParams.get('from'))
  assert.ok(Math.abs(from * 1000 - (now - 400 * 86400e3)) < 120e3, `custom from ${from}`)
  await check(page, 'sequence-custom')
  await page.getByLabel('From', { exact: true }).fill(local(now - 2 * 3600e3))
  await page.getByLabel('To', { exact: true }).fill(local(now + 3600e3))
  await page.getByRole('button', { name: 'Show' }).click()
  await page.waitForFunction(() => Number(document.querySelector('.plot')?.getAttribute('data-points')) > 0)
  const csvHref = await page.locator('a', { hasText: 'CSV' }).getAttribute('href')
  assert.match(csvHref, /read\.time\.min=\S+Z&read\.time\.max=\S+Z/)
})

test('upload files (picker and drag and drop) and download one byte-exact', async () => {
  await page.goto(base + '/browse/demo/e2e')
  const bytes = randomBytes(300 * 1024)
  await page.locator('input[type=file]').setInputFiles({ name: 'data.bin', mimeType: 'application/octet-stream', buffer: bytes })
  await page.locator('.uploads').getByText('Done').waitFor()
  await page.getByRole('link', { name: 'data.bin' }).waitFor()
  // Drag and drop two files at once onto the folder.
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer()
    d.items.add(new File(['# Lab notes\n\nFirst *draft*.\n'], 'notes.md', { type: 'text/markdown' }))
    d.items.add(new File(['time,temp\n2026-01-01,20.5\n2026-01-02,21.25\n'], 'table.csv', { type: 'text/csv' }))
    return d
  })
  await page.locator('.folder').dispatchEvent('dragover', { dataTransfer: dt })
  await page.locator('.folder').dispatchEvent('drop', { dataTransfer: dt })
  await page.getByRole('link', { name: 'notes.md' }).waitFor()
  await page.getByRole('link', { name: 'table.csv' }).waitFor()

  await page.getByRole('link', { name: 'data.bin' }).click()
  await page.waitForURL(base + '/browse/demo/e2e/data.bin')
  const href = await page.locator('#revisions a', { hasText: 'Download' }).first().getAttribute('href')
  const got = await ctx.request.get(new URL(href, base).toString())
  assert.equal(got.status(), 200)
  assert.ok(Buffer.from(await got.body()).equals(bytes), 'downloaded bytes differ from uploaded ones')
  await check(page, 'file-binary')

  await page.goto(base + '/browse/demo/e2e/table.csv')
  await page.locator('table.csv').getByRole('cell', { name: '21.25' }).waitFor()
  await check(page, 'file-csv')
})

test('edit a text file: the save is a new revision, both are listed', async () => {
  await page.goto(base + '/browse/demo/e2e/notes.md')
  await page.locator('.markdown h1', { hasText: 'Lab notes' }).waitFor()
  await page.locator('.markdown em', { hasText: 'draft' }).waitFor()
  await check(page, 'file-markdown')
  await page.getByRole('button', { name: 'Edit' }).click()
  await page.getByLabel('Contents of notes.md').fill('# Lab notes\n\nSecond version with <script>alert(1)</script>.\n')
  await check(page, 'file-edit')
  await page.getByRole('button', { name: 'Save as new revision' }).click()
  await page.locator('.markdown', { hasText: 'Second version' }).waitFor()
  await page.locator('#revisions tbody tr').nth(1).waitFor()
  assert.equal(await page.locator('#revisions tbody tr').count(), 2)
  // Markdown cannot carry script into the page.
  assert.equal(await page.locator('.markdown script').count(), 0)
  await page.reload()
  await page.locator('.markdown', { hasText: 'Second version' }).waitFor()
})

test('rename, move and delete with confirmation', async () => {
  await page.goto(base + '/browse/demo/e2e')
  await page.getByRole('button', { name: 'Rename table.csv' }).click()
  await page.getByRole('dialog').getByLabel('New name').fill('table2.csv')
  await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click()
  await page.getByRole('link', { name: 'table2.csv' }).waitFor()
  await page.getByRole('button', { name: 'Move table2.csv' }).click()
  await page.getByRole('dialog').getByLabel('Into folder (path)').fill('/demo/nowhere')
  await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click()
  await page.getByRole('dialog').getByRole('alert').waitFor()
  await page.getByRole('dialog').getByLabel('Into folder (path)').fill('/demo/notes')
  await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click()
  await page.getByRole('link', { name: 'table2.csv' }).waitFor({ state: 'detached' })
  await page.goto(base + '/browse/demo/notes')
  await page.getByRole('button', { name: 'Delete table2.csv' }).click()
  await page.getByRole('dialog').getByText('cannot be undone').waitFor()
  await check(page, 'delete-confirm')
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
  await page.getByText('This folder is empty.').waitFor()
})

test('folder browser: tile view and sort, in both views', async () => {
  await page.goto(base + '/browse/demo/e2e')
  const names = (sel) => page.locator(sel).allInnerTexts()
  await page.getByRole('link', { name: 'notes.md' }).waitFor()
  // List view: the Name header sorts; a second click reverses.
  const asc = await names('table.list tbody td:first-child a')
  assert.deepEqual(asc, [...asc].sort((a, b) => a.localeCompare(b)))
  await page.getByRole('button', { name: 'Name', exact: true }).click()
  await page.locator('th[aria-sort=descending]').waitFor()
  assert.deepEqual(await names('table.list tbody td:first-child a'), [...asc].reverse())
  // Tiles: the same items, sorted with the Sort choice.
  await page.getByRole('button', { name: 'Tiles', exact: true }).click()
  await page.locator('.tiles').waitFor()
  await page.getByLabel('Sort', { exact: true }).selectOption('name-asc')
  assert.deepEqual(await names('.tiles .name'), asc)
  await page.getByLabel('Sort', { exact: true }).selectOption('name-desc')
  assert.deepEqual(await names('.tiles .name'), [...asc].reverse())
  // Newest first: the sequence that just took a value leads.
  const auth = await signInClient(demo)
  await api('mutation { updateSequence(path: "/demo/e2e/temp", value: "1") { timestamp } }', {}, auth)
  await page.reload()
  await page.locator('.tiles').waitFor()
  await page.getByLabel('Sort', { exact: true }).selectOption('updated-desc')
  assert.equal((await names('.tiles .name'))[0], 'temp')
  await check(page, 'folder-tiles')
  // The view is remembered; back to the list for the other tests.
  await page.reload()
  await page.locator('.tiles').waitFor()
  await page.getByRole('button', { name: 'List', exact: true }).click()
  await page.locator('table.list').waitFor()
})

test('home lists the recently changed resources at any depth', async () => {
  const auth = await signInClient(demo)
  const made = await api(
    'mutation { createSequence(input: {path: "/demo/e2e/a/b/c/deep", dataType: NUMERIC, createParents: true}) { id } }',
    {},
    auth,
  )
  assert.ok(made.body.data, JSON.stringify(made.body))
  await api('mutation { updateSequence(path: "/demo/e2e/a/b/c/deep", value: "7") { timestamp } }', {}, auth)
  await page.goto(base + '/')
  const first = page.locator('#recent li').first()
  await first.getByRole('link', { name: '/demo/e2e/a/b/c/deep' }).waitFor()
  await check(page, 'home-recent')
})

test('lists longer than a page load more: folder contents, messages, sequence values', async () => {
  const auth = await signInClient(demo)
  const r = await api('mutation { createFolder(path: "/demo/paging") { id } }', {}, auth)
  assert.ok(r.body.data, JSON.stringify(r.body))
  // 501 folders (one more than a page) and 101 messages (one more than a page), in batches.
  for (let i = 0; i < 501; i += 50) {
    const fields = []
    for (let j = i; j < Math.min(i + 50, 501); j++) fields.push(`f${j}: createFolder(path: "/demo/paging/f${String(j).padStart(3, '0')}") { id }`)
    const b = await api(`mutation { ${fields.join(' ')} }`, {}, auth)
    assert.ok(!b.body.errors, JSON.stringify(b.body.errors))
  }
  for (let i = 0; i < 101; i += 50) {
    const fields = []
    for (let j = i; j < Math.min(i + 50, 101); j++)
      fields.push(`m${j}: sendMessage(path: "/demo/paging", type: "page_test", parameters: {n: ${j}}) { id }`)
    const b = await api(`mutation { ${fields.join(' ')} }`, {}, auth)
    assert.ok(!b.body.errors, JSON.stringify(b.body.errors))
  }
  await page.goto(base + '/browse/demo/paging')
  const rows = page.locator('table.list tbody tr')
  await page.getByRole('link', { name: 'f499' }).waitFor()
  assert.equal(await rows.count(), 500)
  assert.equal(await page.getByRole('link', { name: 'f500' }).count(), 0)
  await check(page, 'folder-load-more')
  await page.getByRole('button', { name: 'Load more items' }).click()
  await page.getByRole('link', { name: 'f500' }).waitFor()
  assert.equal(await rows.count(), 501)
  assert.equal(await page.getByRole('button', { name: 'Load more items' }).count(), 0)

  await page.goto(base + '/messages/demo/paging')
  const items = page.locator('#messages li')
  await items.nth(99).waitFor()
  assert.equal(await items.count(), 100)
  // Newest first: the first message sent is on the second page.
  assert.equal(await page.locator('#messages li', { hasText: '"n": 0' }).count(), 0)
  await page.getByRole('button', { name: 'Load more messages' }).click()
  await page.locator('#messages li', { hasText: '"n": 0' }).waitFor()
  assert.equal(await items.count(), 101)

  // A sequence's table shows the newest 20 values; older ones load on request.
  await api('mutation { createSequence(input: {path: "/demo/paging/counts", dataType: NUMERIC}) { id } }', {}, auth)
  const t0 = Date.now() - 3600e3
  const values = Array.from({ length: 30 }, (_, i) => ({ path: '/demo/paging/counts', value: String(1000 + i), timestamp: new Date(t0 + i * 1000).toISOString() }))
  const stored = await api('mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }', { v: values }, auth)
  assert.equal(stored.body.data?.updateSequences, 30, JSON.stringify(stored.body))
  await page.goto(base + '/browse/demo/paging/counts')
  const valueRows = page.locator('#recent-values tbody tr')
  await page.locator('#recent-values').getByRole('cell', { name: /^1029(\.0+)?$/ }).waitFor()
  assert.equal(await valueRows.count(), 20)
  assert.equal(await page.locator('#recent-values').getByRole('cell', { name: /^1000(\.0+)?$/ }).count(), 0)
  await page.getByRole('button', { name: 'Load more older values' }).click()
  await page.locator('#recent-values').getByRole('cell', { name: /^1000(\.0+)?$/ }).waitFor()
  assert.equal(await valueRows.count(), 30)
  await check(page, 'sequence-older-values')
})

test('create a key (secret shown once), use it, revoke it', async () => {
  await page.goto(base + '/account')
  await page.getByLabel('Name').fill('e2e key')
  await page.getByRole('button', { name: 'Create key' }).click()
  const secret = await page.locator('#key-secret').innerText()
  assert.ok(secret.length > 20, 'a secret is shown')
  const row = page.locator('#keys tr', { hasText: 'e2e key' })
  await row.waitFor()
  await check(page, 'account')
  const me = await api('{ me { email } }', {}, { key: secret })
  assert.equal(me.body.data.me.email, demo.login)
  await row.getByRole('button', { name: 'Revoke key e2e key' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click()
  await row.getByText('revoked').waitFor()
  const after = await api('{ me { email } }', {}, { key: secret })
  assert.equal(after.res.status, 401)
  // The secret is not shown again after a reload.
  await page.reload()
  await page.locator('#keys tr', { hasText: 'e2e key' }).waitFor()
  assert.equal(await page.locator('#key-secret').count(), 0)
})

test('change password: mistakes are told in plain words next to the form', async () => {
  await page.goto(base + '/account')
  await page.getByLabel('Current password').fill('not-my-password')
  await page.getByLabel('New password', { exact: true }).fill('another-password-1')
  await page.getByLabel('New password again').fill('another-password-2')
  await page.getByRole('button', { name: 'Change password' }).click()
  await page.getByText('The new passwords do not match.').waitFor()
  await page.getByLabel('New password again').fill('another-password-1')
  await page.getByRole('button', { name: 'Change password' }).click()
  const told = page.locator('form', { has: page.getByRole('button', { name: 'Change password' }) }).getByRole('alert')
  await told.filter({ hasNotText: 'do not match' }).waitFor()
  assert.match(await told.innerText(), /password/i)
  // The old password still works.
  await signInClient(demo)
})

test('send a message and see it; a message from another client arrives live', async () => {
  await page.goto(base + '/messages/demo/e2e')
  await page.getByText('No messages yet.').waitFor()
  await page.getByLabel('Type', { exact: true }).fill('set_relay')
  await page.getByLabel('Parameters (JSON)').fill('{"relay": 2}')
  await page.getByRole('button', { name: 'Send' }).click()
  await page.locator('#messages li', { hasText: 'set_relay' }).waitFor()
  await page.getByLabel('Parameters (JSON)').fill('{bad')
  await page.getByRole('button', { name: 'Send' }).click()
  await page.getByText('Parameters must be JSON').waitFor()
  const auth = await signInClient(demo)
  let seen = false
  for (let i = 0; i < 40 && !seen; i++) {
    await api('mutation { sendMessage(path: "/demo/e2e", type: "from_node", parameters: {n: 1}) { id } }', {}, auth)
    await page.waitForTimeout(250)
    seen = (await page.locator('#messages li', { hasText: 'from_node' }).count()) > 0
  }
  assert.ok(seen, 'a message from another client shows without a reload')
  await check(page, 'messages')
})

test('controllers, organization and permissions pages', async () => {
  await page.goto(base + '/controllers')
  await page.getByRole('link', { name: '/demo/lab-controller' }).waitFor()
  await check(page, 'controllers')
  // Watchdog settings are saved and shown again.
  await page.getByRole('button', { name: 'Watchdog settings of /demo/lab-controller' }).click()
  const dlg = page.getByRole('dialog')
  await dlg.getByLabel(/Minutes without a watchdog/).fill('15')
  await dlg.getByLabel('E-mail addresses of users to tell').fill('demo@example.com')
  await dlg.getByRole('button', { name: 'Save' }).click()
  const ctlRow = page.locator('tr', { has: page.getByRole('link', { name: '/demo/lab-controller' }) })
  await ctlRow.getByText('15 min').waitFor()
  await page.reload()
  await page.getByRole('button', { name: 'Watchdog settings of /demo/lab-controller' }).click()
  assert.equal(await dlg.getByLabel(/Minutes without a watchdog/).inputValue(), '15')
  assert.equal(await dlg.getByLabel('E-mail addresses of users to tell').inputValue(), 'demo@example.com')
  await dlg.getByRole('button', { name: 'Cancel' }).click()
  // The log tail opens in the page; entries written by the controller appear live.
  await page.getByRole('button', { name: 'Log of /demo/lab-controller' }).click()
  const log = page.getByRole('region', { name: 'Log of /demo/lab-controller' })
  await log.waitFor()
  const auth = await signInClient(demo)
  let seen = false
  for (let i = 0; i < 40 && !seen; i++) {
    await api('mutation { updateSequence(path: "/demo/lab-controller/log", value: "e2e: relay 2 closed") { timestamp } }', {}, auth)
    await page.waitForTimeout(250)
    seen = (await log.getByText('e2e: relay 2 closed').count()) > 0
  }
  assert.ok(seen, 'a log entry shows in the open log tail without a reload')
  await check(page, 'controllers-log')
  await page.goto(base + '/org/demo')
  await page.locator('#members').getByText(demo.login).waitFor()
  await check(page, 'organization')
  await page.goto(base + '/permissions/demo/notes')
  await page.getByText('No grants on this resource.').waitFor()
  await page.getByLabel('Grant to').selectOption('public')
  await page.getByRole('button', { name: 'Grant' }).click()
  await page.getByRole('cell', { name: 'Everyone (public)' }).waitFor()
  await check(page, 'permissions')
})

test('system admin creates a user; that non-member is refused the organization', async () => {
  const { c, p } = await newSignedInPage(admin)
  await p.goto(base + '/admin')
  await p.getByRole('heading', { name: 'Users' }).waitFor()
  const form = p.locator('form', { has: p.getByRole('button', { name: 'Create user' }) })
  await form.getByLabel('E-mail').fill('stranger@example.com')
  await form.getByLabel('Full name').fill('Stranger')
  await form.getByLabel('Password').fill('stranger-password')
  await form.getByRole('button', { name: 'Create user' }).click()
  await p.getByText('Created stranger@example.com.').waitFor()
  await p.getByRole('cell', { name: 'stranger@example.com' }).waitFor()
  await check(p, 'admin')
  // Source health: the example sources' self-check (run before the server started).
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Source health' }).click()
  await p.waitForURL(base + '/admin/sources')
  const wave = p.locator('#source-health tr', { hasText: 'Example/Waveform' }).first()
  await wave.getByText('pass').waitFor()
  assert.match(await wave.innerText(), /\d+ ms/)
  assert.equal(await p.locator('#source-health tbody tr').count(), 4)
  await check(p, 'source-health')
  await c.close()

  const s = await newSignedInPage({ login: 'stranger@example.com', password: 'stranger-password' })
  await s.p.goto(base + '/browse/demo/e2e/temp')
  await s.p.getByText('Nothing is at /demo/e2e/temp, or you do not have access to it.').waitFor()
  await check(s.p, 'refused')
  await s.p.goto(base + '/org/demo')
  await s.p.getByText('There is no organization demo, or you are not a member.').waitFor()
  await s.p.goto(base + '/admin')
  await s.p.getByText('Only system admins see this page.').waitFor()
  await s.p.goto(base + '/admin/sources')
  await s.p.getByText('Only system admins see this page.').waitFor()
  assert.equal(await s.p.getByRole('link', { name: 'Source health' }).count(), 0)
  assert.equal(await s.p.locator('#source-health').count(), 0)
  // Home lists nothing of an organization the stranger is not in.
  await s.p.goto(base + '/')
  await s.p.getByRole('heading', { name: 'Recently changed' }).waitFor()
  await s.p.getByText('Nothing here yet.').waitFor()
  assert.equal(await s.p.locator('#recent a[href^="/browse/demo"]').count(), 0)
  // The public grant of the permissions test lets anyone read /demo/notes, not change it.
  await s.p.goto(base + '/browse/demo/notes')
  await s.p.getByText('This folder is empty.').waitFor()
  assert.equal(await s.p.getByRole('button', { name: 'New folder' }).count(), 0)

  // The organization's admin adds the stranger, promotes them, and removes them again.
  await page.goto(base + '/org/demo')
  await page.getByLabel('Add a member by e-mail').fill('nobody@example.com')
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  await page.locator('.add-member').getByRole('alert').waitFor()
  await page.getByLabel('Add a member by e-mail').fill('stranger@example.com')
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  const row = page.locator('#members tr', { hasText: 'stranger@example.com' })
  await row.waitFor()
  await s.p.goto(base + '/browse/demo/e2e/temp')
  await s.p.locator('.plot').waitFor()
  await row.getByRole('button', { name: 'Make admin' }).click()
  await row.getByText('admin', { exact: true }).waitFor()
  await row.getByRole('button', { name: 'Remove stranger@example.com' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click()
  await row.waitFor({ state: 'detached' })
  await s.p.reload()
  await s.p.getByText('Nothing is at /demo/e2e/temp, or you do not have access to it.').waitFor()
  await s.c.close()
})

test('sign out ends the session', async () => {
  await page.goto(base + '/account')
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(/\/login/)
  await page.goto(base + '/account')
  await page.waitForURL(/\/login\?next=%2Faccount/)
})

test('a session ended elsewhere sends the person to sign in, then back', async () => {
  const { c, p } = await newSignedInPage(demo)
  await p.goto(base + '/controllers')
  await p.getByRole('heading', { name: 'Controllers' }).waitFor()
  const out = await (await c.request.post(base + '/graphql', { data: { query: 'mutation { logout }' } })).json()
  assert.equal(out.data.logout, true)
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click()
  await p.waitForURL(/\/login\?next=%2Faccount/)
  await p.getByLabel('E-mail or user name').fill(demo.login)
  await p.getByLabel('Password').fill(demo.password)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.waitForURL(base + '/account')
  await p.getByRole('heading', { name: 'My keys' }).waitFor()
  await c.close()
})

test('unknown app paths show the app, program paths stay 404, assets are cached', async () => {
  const { c, p } = await newSignedInPage(demo)
  await p.goto(base + '/no/such/page')
  await p.getByRole('heading', { name: 'Page not found' }).waitFor()
  for (const path of ['/api/v1/nothing', '/hapi/nothing', '/graphql/nothing', '/assets/nothing.js']) {
    assert.equal((await fetch(base + path)).status, 404, path)
  }
  const asset = (await (await fetch(base + '/')).text()).match(/\/assets\/main-[^"]+\.js/)[0]
  const r = await fetch(base + asset)
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  await c.close()
})

test('playground runs a query with the session cookie; the app never loads its code', async () => {
  const { c, p } = await newSignedInPage(demo)
  const failed = []
  p.on('requestfailed', (r) => failed.push(r.url()))
  await p.goto(base + '/playground')
  await p.locator('.graphiql-query-editor').getByText('memberships').first().waitFor()
  await p.locator('.graphiql-execute-button').click()
  const result = p.locator('.result-window')
  await result.getByText('demo@example.com').waitFor()
  assert.match(await result.innerText(), /"name": "demo"/)
  assert.deepEqual(failed.filter((u) => !u.startsWith(base)), [], 'requests left the server')
  await p.screenshot({ path: join(shots, 'playground-1280.png') })
  const loaded = []
  const q = await c.newPage()
  q.on('request', (r) => loaded.push(r.url()))
  await q.goto(base + '/browse/demo/greenhouse/temperature')
  await q.locator('.plot canvas').waitFor()
  assert.deepEqual(loaded.filter((u) => /playground|graphiql|codemirror/i.test(u)), [])
  await c.close()
})
