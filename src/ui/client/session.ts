/** Who is signed in, for every view: the API client and what its key may do. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { can, type Api, type Caller, type Scope } from './api.ts';

/** The signed-in session. */
export interface Session {
  api: Api;
  caller: Caller;
  /** Whether the key has `scope` (admin has all). */
  can: (scope: Scope) => boolean;
}

/** Provided by the app shell once signed in. */
export const SessionContext = createContext<Session | undefined>(undefined);

/** The session (views are only shown when signed in). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

/** A session of `api` for `caller`. */
export function sessionOf(api: Api, caller: Caller): Session {
  return { api, caller, can: (scope) => can(caller.scopes, scope) };
}
