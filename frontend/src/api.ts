// A minimal GraphQL client for the same-origin /graphql endpoint (cookie session).
export interface GraphQLError {
  message: string
  extensions?: { code?: string }
}

export class APIError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data?: T; errors?: GraphQLError[] }
  if (body.errors?.length) {
    const e = body.errors[0]
    throw new APIError(e.message, e.extensions?.code ?? 'INTERNAL')
  }
  if (!body.data) throw new APIError(`HTTP ${res.status}`, 'INTERNAL')
  return body.data
}
