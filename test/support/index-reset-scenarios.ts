/**
 * A cluster rebuilt (data dirs wiped: indexes restart small) under every snapshot watch
 * type, built to handler-inputs.md: the old index space in the millions, then the first
 * snapshot of the new space, then the new space moving on. Used by the http-route
 * integration test and the shim end-to-end test (docs/consul.md, "Indexes that go backwards").
 */
import { catalogNode, catalogServices, healthCheck, kvPair, serviceEntry, type HealthCheckFixture } from './consul-fixtures';

export type SnapshotWatch = 'checks' | 'key' | 'keyprefix' | 'services' | 'nodes' | 'service';

export interface Delivery {
  body: unknown;
  index: number;
  /** Titles of the alerts it raises, sorted. */
  alerts: string[];
}

export interface ResetScenario {
  type: SnapshotWatch;
  scope: string;
  /** The old index space, delivered by one agent in order. */
  history: Delivery[];
  /**
   * A second agent's older view, a few indexes behind the last of `history`: applied, it
   * would change things (a late or out-of-order delivery must not).
   */
  older: { body: unknown; index: number };
  /** The first snapshot after the rebuild: what really changed relative to the stored state alerts, once. */
  reset: Delivery;
  /** The new space moves on above the reset's index (far below the old watermark). */
  next: Delivery;
}

/** A node-level check (no service), named after its id: titles read "CRITICAL: check b on web-1". */
export function check(id: string, status: string, createIndex: number, modifyIndex: number): HealthCheckFixture {
  return healthCheck({ Node: 'web-1', CheckID: id, Name: `check ${id}`, Status: status, Output: `${status} output`, ServiceID: '', ServiceName: '', ServiceTags: [], Type: 'script', CreateIndex: createIndex, ModifyIndex: modifyIndex });
}

const instance = (node: string, id: string, status: string, createIndex: number, modifyIndex: number) =>
  serviceEntry(node, id, {
    node: { CreateIndex: createIndex, ModifyIndex: createIndex },
    service: { CreateIndex: createIndex, ModifyIndex: createIndex },
    checks: [
      healthCheck({ Node: node, CheckID: 'serfHealth', Name: 'Serf Health Status', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '', CreateIndex: createIndex, ModifyIndex: createIndex }),
      healthCheck({ Node: node, CheckID: `service:${id}`, ServiceID: id, ServiceName: 'web', Status: status, CreateIndex: createIndex, ModifyIndex: modifyIndex }),
    ],
  });

const node = (name: string, createIndex: number, modifyIndex: number, over: Parameters<typeof catalogNode>[1] = {}) => catalogNode(name, { CreateIndex: createIndex, ModifyIndex: modifyIndex, ...over });

export const RESET_SCENARIOS: ResetScenario[] = [
  {
    type: 'checks',
    scope: 'checks',
    history: [
      {
        index: 5_000_010,
        body: [
          check('a', 'passing', 4_000_000, 4_000_000),
          check('b', 'critical', 4_000_001, 5_000_001),
          check('c', 'passing', 4_000_002, 4_000_002),
          check('d', 'critical', 4_000_003, 5_000_005),
          check('e', 'warning', 4_000_004, 5_000_010),
        ],
        alerts: ['CRITICAL: check b on web-1', 'CRITICAL: check d on web-1', 'WARNING: check e on web-1'],
      },
    ],
    older: {
      index: 5_000_007,
      body: [
        check('a', 'critical', 4_000_000, 5_000_006),
        check('b', 'passing', 4_000_001, 5_000_006),
        check('c', 'passing', 4_000_002, 4_000_002),
        check('d', 'critical', 4_000_003, 5_000_005),
      ],
    },
    reset: {
      index: 12,
      body: [
        check('a', 'passing', 3, 3), // still passing: silent
        check('b', 'passing', 4, 9), // stored critical, now passing: resolves
        check('c', 'critical', 5, 10), // was passing: alerts
        check('d', 'critical', 6, 6), // still critical, already alerted: silent
        check('f', 'critical', 8, 11), // new and critical: alerts
        // e (warning) is gone: resolves
      ],
      alerts: ['CRITICAL: check c on web-1', 'CRITICAL: check f on web-1', 'RESOLVED: check b on web-1', 'RESOLVED: check e on web-1'],
    },
    next: {
      index: 20,
      body: [check('a', 'passing', 3, 3), check('b', 'passing', 4, 9), check('c', 'critical', 5, 10), check('d', 'passing', 6, 20), check('f', 'critical', 8, 11)],
      alerts: ['RESOLVED: check d on web-1'],
    },
  },
  {
    type: 'key',
    scope: 'flag',
    history: [
      { index: 4_000_000, body: kvPair('flags/x', 'on', { CreateIndex: 3_999_000, ModifyIndex: 4_000_000 }), alerts: [] },
      { index: 4_000_100, body: kvPair('flags/x', 'off', { CreateIndex: 3_999_000, ModifyIndex: 4_000_100 }), alerts: ['INFO: key flags/x changed'] },
    ],
    older: { index: 4_000_000, body: kvPair('flags/x', 'on', { CreateIndex: 3_999_000, ModifyIndex: 4_000_000 }) },
    // Re-created by the provisioning after the rebuild, with its old default.
    reset: { index: 7, body: kvPair('flags/x', 'on', { CreateIndex: 7, ModifyIndex: 7 }), alerts: ['INFO: key flags/x changed'] },
    next: { index: 9, body: null, alerts: ['INFO: key flags/x deleted'] },
  },
  {
    type: 'keyprefix',
    scope: 'app',
    history: [
      {
        index: 3_000_010,
        body: [
          kvPair('app/a', 'one', { CreateIndex: 3_000_001, ModifyIndex: 3_000_001 }),
          kvPair('app/b', 'bee', { CreateIndex: 3_000_002, ModifyIndex: 3_000_002 }),
          kvPair('app/c', 'sea', { CreateIndex: 3_000_003, ModifyIndex: 3_000_010 }),
        ],
        alerts: [],
      },
      {
        index: 3_000_020,
        body: [
          kvPair('app/a', 'two', { CreateIndex: 3_000_001, ModifyIndex: 3_000_020 }),
          kvPair('app/b', 'bee', { CreateIndex: 3_000_002, ModifyIndex: 3_000_002 }),
          kvPair('app/c', 'sea', { CreateIndex: 3_000_003, ModifyIndex: 3_000_010 }),
        ],
        alerts: ['INFO: key app/a changed'],
      },
    ],
    older: {
      index: 3_000_015,
      body: [kvPair('app/a', 'one', { CreateIndex: 3_000_001, ModifyIndex: 3_000_001 }), kvPair('app/c', 'sea', { CreateIndex: 3_000_003, ModifyIndex: 3_000_010 })],
    },
    reset: {
      index: 15,
      body: [
        kvPair('app/a', 'three', { CreateIndex: 4, ModifyIndex: 14 }), // changed relative to the stored "two"
        kvPair('app/b', 'bee', { CreateIndex: 5, ModifyIndex: 5 }), // unchanged: silent
        kvPair('app/d', 'dee', { CreateIndex: 15, ModifyIndex: 15 }), // new
        // app/c is gone
      ],
      alerts: ['INFO: key app/a changed', 'INFO: key app/c deleted', 'INFO: key app/d created'],
    },
    next: {
      index: 30,
      body: [
        kvPair('app/a', 'three', { CreateIndex: 4, ModifyIndex: 14 }),
        kvPair('app/b', 'bee', { CreateIndex: 5, ModifyIndex: 5 }),
        kvPair('app/d', 'dee', { CreateIndex: 15, ModifyIndex: 15 }),
        kvPair('app/e', 'ee', { CreateIndex: 30, ModifyIndex: 30 }),
      ],
      alerts: ['INFO: key app/e created'],
    },
  },
  {
    type: 'services',
    scope: 'services',
    history: [
      { index: 2_000_000, body: catalogServices({ consul: [], web: ['v1'], api: ['grpc'] }), alerts: [] },
      { index: 2_000_050, body: catalogServices({ consul: [], web: ['v1', 'canary'], api: ['grpc'] }), alerts: ['INFO: service web tags changed (+canary)'] },
    ],
    older: { index: 2_000_000, body: catalogServices({ consul: [], web: ['v1'] }) },
    reset: {
      index: 10,
      body: catalogServices({ consul: [], web: ['v1', 'canary'], db: null }),
      alerts: ['INFO: service api deregistered', 'INFO: service db registered'],
    },
    next: { index: 25, body: catalogServices({ consul: [], web: ['v1', 'canary'], db: null, cache: [] }), alerts: ['INFO: service cache registered'] },
  },
  {
    type: 'nodes',
    scope: 'nodes',
    history: [
      { index: 1_500_000, body: [node('n1', 1_000_001, 1_000_001), node('n2', 1_000_002, 1_000_002), node('n3', 1_000_003, 1_000_003)], alerts: [] },
      {
        index: 1_500_100,
        body: [node('n1', 1_000_001, 1_000_001), node('n2', 1_000_002, 1_500_100, { Address: '10.0.0.99' }), node('n3', 1_000_003, 1_000_003)],
        alerts: ['INFO: node n2 updated (Address)'],
      },
    ],
    older: { index: 1_500_000, body: [node('n1', 1_000_001, 1_000_001), node('n2', 1_000_002, 1_000_002)] },
    reset: {
      index: 20,
      body: [node('n1', 5, 5), node('n2', 6, 6, { Address: '10.0.0.12' }), node('n4', 7, 20)],
      alerts: ['INFO: node n2 updated (Address)', 'INFO: node n3 left the catalog', 'INFO: node n4 joined the catalog'],
    },
    next: {
      index: 30,
      body: [node('n1', 5, 30, { Meta: { rack: 'r2' } }), node('n2', 6, 6, { Address: '10.0.0.12' }), node('n4', 7, 20)],
      alerts: ['INFO: node n1 updated (Meta)'],
    },
  },
  {
    type: 'service',
    scope: 'web',
    history: [
      {
        index: 2_500_000,
        body: [instance('web-1', 'web-1a', 'passing', 2_000_000, 2_000_000), instance('web-2', 'web-2a', 'critical', 2_000_001, 2_500_000)],
        alerts: ['CRITICAL: service web instance web-2a on web-2 is critical'],
      },
      {
        index: 2_500_100,
        body: [instance('web-1', 'web-1a', 'critical', 2_000_000, 2_500_100), instance('web-2', 'web-2a', 'critical', 2_000_001, 2_500_000)],
        alerts: ['CRITICAL: service web instance web-1a on web-1 is critical'],
      },
    ],
    older: { index: 2_500_000, body: [instance('web-1', 'web-1a', 'passing', 2_000_000, 2_000_000)] },
    reset: {
      index: 30,
      body: [instance('web-1', 'web-1a', 'critical', 10, 25), instance('web-2', 'web-2a', 'passing', 11, 11), instance('web-3', 'web-3a', 'passing', 30, 30)],
      alerts: ['INFO: service web instance web-3a on web-3 registered', 'RESOLVED: service web instance web-2a on web-2 is passing again'],
    },
    next: {
      index: 40,
      body: [instance('web-1', 'web-1a', 'passing', 10, 40), instance('web-2', 'web-2a', 'passing', 11, 11), instance('web-3', 'web-3a', 'passing', 30, 30)],
      alerts: ['RESOLVED: service web instance web-1a on web-1 is passing again'],
    },
  },
];

/**
 * A `keyprefix` list whose newest key is deleted: its index drops to the newest key left
 * (the deleted key's tombstone no longer counts). A normal deletion, not a rebuild.
 */
export const NEWEST_KEY_DELETED = {
  scope: 'jobs',
  baseline: { index: 200, body: [kvPair('jobs/a', '1', { CreateIndex: 100, ModifyIndex: 100 }), kvPair('jobs/b', '2', { CreateIndex: 200, ModifyIndex: 200 })] },
  created: {
    index: 300,
    body: [kvPair('jobs/a', '1', { CreateIndex: 100, ModifyIndex: 100 }), kvPair('jobs/b', '2', { CreateIndex: 200, ModifyIndex: 200 }), kvPair('jobs/c', '3', { CreateIndex: 300, ModifyIndex: 300 })],
    alerts: ['INFO: key jobs/c created'],
  },
  deleted: { index: 200, body: [kvPair('jobs/a', '1', { CreateIndex: 100, ModifyIndex: 100 }), kvPair('jobs/b', '2', { CreateIndex: 200, ModifyIndex: 200 })], alerts: ['INFO: key jobs/c deleted'] },
  next: {
    index: 400,
    body: [kvPair('jobs/a', '1', { CreateIndex: 100, ModifyIndex: 100 }), kvPair('jobs/b', '2', { CreateIndex: 200, ModifyIndex: 200 }), kvPair('jobs/d', '4', { CreateIndex: 400, ModifyIndex: 400 })],
    alerts: ['INFO: key jobs/d created'],
  },
};
