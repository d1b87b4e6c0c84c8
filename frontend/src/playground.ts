// GraphiQL, bundled and served by rhizoflex itself (no CDN), against the same-origin
// /graphql endpoint with the session cookie; websockets for subscriptions.
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import 'graphiql/style.css'

const wsURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: wsURL,
  fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
})

const defaultQuery = `# rhizoflex GraphQL API. Sign in first with
#   mutation {
#     login(login: "demo@example.com", password: "demo-password") { email }
#   }
{
  version
  me {
    email
    memberships { organization { name folderPath } }
  }
}
`

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, { fetcher, defaultQuery }),
)
