/** http: plumbing shared by the gateway and the control API (bodies, answers, route declarations and the one matcher). Imports core (and zod) only. */
export { readBody } from './body.ts';
export { BodyBudget } from './body-budget.ts';
export { answerClientError, type ClientErrorKind } from './client-errors.ts';
export { sendJson, sendError } from './respond.ts';
export {
  checkQuery,
  queryOf,
  decodeJson,
  jsonBody,
  type BodyDecl,
  type Route,
  type RouteAlias,
  type RouteDecl,
  type RouteContext,
  type RouteHandler,
} from './route.ts';
export { compilePath, RouteTable, type Lookup } from './route-table.ts';
