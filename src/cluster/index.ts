/**
 * cluster: what makes several nodes on one store one service (docs/scale-out.md): the change
 * feed each node follows, built code shared by content hash, the scheduler's leadership.
 */
export { BuildShare, type BuildShareOptions } from './build-share.ts';
export { ChangeFeed, type ChangeFeedOptions } from './change-feed.ts';
export { LeaderLease, type LeaderGain, type LeaderLeaseOptions } from './leader.ts';
export { StoreHealth, type StoreHealthView } from './store-health.ts';
