// The GraphQL client: urql with the graphcache normalized cache, queries and mutations over
// HTTP POST (session cookie), subscriptions over graphql-ws on the same /graphql address.
import { Client, fetchExchange, subscriptionExchange, mapExchange, CombinedError, type AnyVariables, type TypedDocumentNode } from 'urql'
import { cacheExchange } from '@urql/exchange-graphcache'
import { createClient as createWSClient } from 'graphql-ws'

const wsURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`

export const ws = createWSClient({
  url: wsURL,
  lazy: true,
  retryAttempts: Infinity,
  shouldRetry: () => true,
})

// Types without an id are embedded in their parent, not normalized.
const embedded = () => null
const keys = Object.fromEntries(
  [
    'SequenceInfo', 'SequenceValue', 'SequenceValueConnection', 'SequenceValueEdge', 'SeriesBucket',
    'FileRevisionConnection', 'FileRevisionEdge', 'ResourceConnection', 'ResourceEdge', 'UserConnection',
    'UserEdge', 'PageInfo', 'MessageConnection', 'MessageEdge', 'ControllerInfo', 'SequenceUpdate',
    'CreatedKey', 'OutgoingMessageConnection', 'OutgoingMessageEdge',
  ].map((t) => [t, embedded]),
)

export const client = new Client({
  url: '/graphql',
  fetchOptions: { credentials: 'same-origin' },
  requestPolicy: 'cache-and-network',
  exchanges: [
    // A session that ended (signed out elsewhere, expired) sends the person to sign in and
    // back to the page they were on.
    mapExchange({
      onError(error, operation) {
        const expired = error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')
        if (expired && operation.kind !== 'mutation' && location.pathname !== '/login') {
          location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`)
        }
      },
    }),
    cacheExchange({
      keys,
      updates: {
        Mutation: {
          // Lists the cache cannot extend by itself are fetched again.
          createKey: (_r, _a, cache) => cache.invalidate('Query', 'keys'),
          createUser: (_r, _a, cache) =>
            cache
              .inspectFields('Query')
              .filter((f) => f.fieldName === 'users')
              .forEach((f) => cache.invalidate('Query', 'users', f.arguments ?? undefined)),
          createOrganization: (_r, _a, cache) => cache.invalidate('Query', 'organizations'),
        },
      },
    }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || '' }
        return {
          subscribe(sink) {
            const unsubscribe = ws.subscribe(input, sink)
            return { unsubscribe }
          },
        }
      },
    }),
  ],
})

// plain turns an API error into words a person can act on.
export function plain(err: CombinedError | Error | undefined | null): string {
  if (!err) return ''
  if (err instanceof CombinedError) {
    if (err.networkError) return 'The server cannot be reached. Check your connection and try again.'
    const g = err.graphQLErrors[0]
    if (g) {
      const code = (g.extensions?.code as string | undefined) ?? ''
      if (code === 'UNAUTHENTICATED') return 'Please sign in first.'
      if (code === 'FORBIDDEN') return `Not allowed: ${g.message}`
      return g.message
    }
  }
  return err.message
}

// uploadFile sends a file with the GraphQL multipart request spec, reporting progress.
export function uploadFile(
  mutation: 'createFile' | 'writeFile',
  path: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  const query =
    mutation === 'createFile'
      ? 'mutation($path: String!, $content: Upload, $type: String) { createFile(path: $path, content: $content, contentType: $type) { id } }'
      : 'mutation($path: String!, $content: Upload, $type: String) { writeFile(path: $path, content: $content, contentType: $type) { id } }'
  const form = new FormData()
  form.append('operations', JSON.stringify({ query, variables: { path, content: null, type: file.type || null } }))
  form.append('map', JSON.stringify({ 0: ['variables.content'] }))
  form.append('0', file, file.name)
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', '/graphql')
    xhr.withCredentials = true
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    xhr.onerror = () => reject(new Error('The upload was cut off. Check your connection and try again.'))
    xhr.onload = () => {
      if (xhr.status === 413) return reject(new Error('The file is larger than the server accepts.'))
      try {
        const body = JSON.parse(xhr.responseText) as { errors?: { message: string }[] }
        if (body.errors?.length) return reject(new Error(body.errors[0].message))
      } catch {
        return reject(new Error(`The server answered ${xhr.status}.`))
      }
      onProgress(1)
      resolve()
    }
    xhr.send(form)
  })
}

// fetchOnce runs a query outside a component (a further page of a list), from the server;
// an error comes back as an Error with plain words.
export async function fetchOnce<D, V extends AnyVariables>(query: TypedDocumentNode<D, V>, variables: V): Promise<D> {
  const r = await client.query(query, variables, { requestPolicy: 'network-only' }).toPromise()
  if (r.error) throw new Error(plain(r.error))
  if (!r.data) throw new Error('The server sent no answer.')
  return r.data
}
