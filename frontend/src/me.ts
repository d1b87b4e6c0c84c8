// The signed-in user, shared by every page.
import { createContext, useContext } from 'react'
import type { MeQuery as MeData } from './gql/graphql'

export type Me = NonNullable<MeData['me']>
export const MeContext = createContext<Me | null>(null)
export const useMe = () => useContext(MeContext)
