import { useMemo, useState } from 'react'
import { useMutation, useQuery, useSubscription } from 'urql'
import { useParams } from 'wouter'
import { FolderMessagesSubscription, MessagesQuery, SendMessageMutation } from '../ops'
import type { MessagesQuery as MessagesData } from '../gql/graphql'
import { fetchOnce } from '../client'
import { Breadcrumbs, ErrorText, LoadMore, fmtTime, pathFromParam, useMore, useTitle } from '../ui'

type Msg = NonNullable<MessagesData['resource']>['messages']['edges'][number]['node']

const messagesPage = 100

function messagesOf(r: MessagesData['resource'] | undefined) {
  return r ? { items: r.messages.edges.map((e) => e.node), hasNext: r.messages.pageInfo.hasNextPage, end: r.messages.pageInfo.endCursor } : undefined
}

export default function MessagesPage() {
  const path = pathFromParam(useParams()['*'])
  useTitle(`Messages of ${path}`)
  const [filter, setFilter] = useState('')
  const types = useMemo(() => {
    const t = filter.split(/[\s,]+/).filter(Boolean)
    return t.length ? t : null
  }, [filter])
  const [{ data, error }] = useQuery({ query: MessagesQuery, variables: { path, types, first: messagesPage }, requestPolicy: 'network-only' })
  const first = useMemo(() => messagesOf(data?.resource), [data])
  const more = useMore(first, path + '\u0000' + (types ?? []).join(','), async (after) => {
    const d = await fetchOnce(MessagesQuery, { path, types, first: messagesPage, after })
    return messagesOf(d.resource) ?? { items: [], hasNext: false }
  })
  const [live, setLive] = useState<Msg[]>([])
  const [sub] = useSubscription({ query: FolderMessagesSubscription, variables: { path, types } }, (_p, d) => {
    setLive((l) => [d.folderMessages, ...l].slice(0, 500))
    return d
  })
  const seen = new Set<string>()
  const list = [...live, ...more.items].filter((m) => {
    if (types && !types.includes(m.type)) return false
    if (seen.has(m.id)) return false
    seen.add(m.id)
    return true
  })
  const [type, setType] = useState('')
  const [params, setParams] = useState('{}')
  const [paramErr, setParamErr] = useState('')
  const [sent, send] = useMutation(SendMessageMutation)
  if (data && !data.resource)
    return (
      <>
        <Breadcrumbs path={path} />
        <h1>Messages</h1>
        <p className="error" role="alert">Nothing is at {path}, or you do not have access to it.</p>
      </>
    )
  return (
    <>
      <Breadcrumbs path={path} />
      <h1>Messages of {path}</h1>
      <div className="two-col wide-left">
        <section className="card" aria-labelledby="list-h">
          <div className="card-head">
            <h2 id="list-h">Messages</h2>
            <label className="inline">
              Types
              <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="all (or e.g. status, alarm)" />
            </label>
          </div>
          <p className="muted live-state">{sub.error ? 'Live updates stopped.' : 'New messages appear as they arrive.'}</p>
          <ErrorText error={error} />
          <ErrorText error={sub.error} />
          <ol className="messages" aria-live="polite" id="messages">
            {list.map((m) => (
              <li key={m.id}>
                <div className="msg-head">
                  <span className="pill">{m.type}</span>
                  <span className="muted">{fmtTime(m.timestamp)}</span>
                  <span className="muted">{m.senderUser?.email ?? m.senderController?.path ?? ''}</span>
                </div>
                {m.parameters != null && Object.keys(m.parameters).length > 0 && <pre>{JSON.stringify(m.parameters, null, 2)}</pre>}
              </li>
            ))}
            {list.length === 0 && data && <li className="muted">No messages yet.</li>}
          </ol>
          <LoadMore m={more} what="messages" />
        </section>
        {data?.resource && (data.resource as { id: string }) && (
          <section className="card" aria-labelledby="send-h">
            <h2 id="send-h">Send a message</h2>
            <form
              onSubmit={async (e) => {
                e.preventDefault()
                let p: unknown
                try {
                  p = params.trim() ? JSON.parse(params) : null
                } catch {
                  return setParamErr('Parameters must be JSON, for example {"relay": 1}.')
                }
                setParamErr('')
                const r = await send({ path, type: type.trim(), parameters: p })
                if (!r.error) setParams('{}')
              }}
            >
              <label>
                Type
                <input required value={type} onChange={(e) => setType(e.target.value)} pattern="[A-Za-z0-9_.\-]{1,40}" placeholder="e.g. set_relay" />
              </label>
              <label>
                Parameters (JSON)
                <textarea rows={5} value={params} onChange={(e) => setParams(e.target.value)} aria-describedby="param-err" spellCheck={false} />
              </label>
              <ErrorText error={paramErr} id="param-err" />
              <ErrorText error={sent.error} />
              <div className="actions">
                <button type="submit" className="primary" disabled={sent.fetching}>Send</button>
              </div>
            </form>
          </section>
        )}
      </div>
    </>
  )
}
