/** gateway: the data plane — routing, proxying to instances, deadlines, body limits, streaming, the async 202 path. */
export { Gateway, type AsyncIntake, type GatewayOptions } from './gateway.ts';
export { Invoker, type InvocationSummary, type InvokerOptions } from './invoker.ts';
export { routeFunction, nameFromHost, type FunctionRoute } from './route.ts';
export { QueueIntake, type QueueIntakeOptions } from './async-intake.ts';
export { serveResult } from './result.ts';
export { compatRoutes, compatUrl } from './compat.ts';
export { gatewayRoutes, type GatewayRoutesDeps } from './routes.ts';
export { ApiRouteTable, apiRouteRoutes, apiRouteUrl } from './api-routes.ts';
