/** http: plumbing shared by the gateway and the control API. Imports core only. */
export { readBody } from './body.ts';
export { BodyBudget } from './body-budget.ts';
export { answerClientError, type ClientErrorKind } from './client-errors.ts';
export { sendJson, sendError } from './respond.ts';
