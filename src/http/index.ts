/** http: plumbing shared by the gateway and the control API. Imports core only. */
export { readBody } from './body.ts';
export { sendJson, sendError } from './respond.ts';
