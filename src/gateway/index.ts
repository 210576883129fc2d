/** gateway: the data plane — routing, proxying to instances, deadlines, body limits, streaming. */
export { Gateway, type GatewayOptions, type InvocationSummary } from './gateway.ts';
export { routeFunction, nameFromHost, type FunctionRoute } from './route.ts';
