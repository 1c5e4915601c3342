/**
 * @module bench/peers/index
 * Every peer the harness knows, in report order. clusterdns first: the
 * ratios are clusterdns ÷ each other peer.
 */

import type { Peer } from './types.ts';
import { clusterdns, clusterdnsBatch, clusterdnsNoMetrics } from './clusterdns.ts';
import { knot } from './knot.ts';
import { nsd } from './nsd.ts';
import { unbound } from './unbound.ts';
import { dnsmasq } from './dnsmasq.ts';
import { goMap } from './go-map.ts';
import { nodeFloor, nodeFloorBatch } from './node-floor.ts';

export const ALL_PEERS: readonly Peer[] = [clusterdns, clusterdnsNoMetrics, clusterdnsBatch, knot, nsd, unbound, dnsmasq, goMap, nodeFloor, nodeFloorBatch];

/** The peer the ratios are computed for. */
export const SUBJECT = clusterdns.name;
