/** gateway: the data plane — routing, proxying to instances, deadlines, body limits, streaming, the async 202 path. */
export {
  Gateway,
  type AsyncIntake,
  type BufferedInvocation,
  type BufferedResult,
  type GatewayOptions,
  type InvocationSummary,
} from './gateway.ts';
export { routeFunction, nameFromHost, type FunctionRoute } from './route.ts';
export { QueueIntake, type QueueIntakeOptions } from './async-intake.ts';
export { serveResult } from './result.ts';
export { compatRoutes, compatUrl } from './compat.ts';
export { gatewayRoutes, type GatewayRoutesDeps } from './routes.ts';
