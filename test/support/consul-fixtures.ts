/**
 * Consul watch inputs built to ../shared/docs/handler-inputs.md: one line of
 * compact JSON from Go's json.Encoder (HTML-escaped <, >, &, U+2028, U+2029) plus "\n".
 */

export function goJsonLine(value: unknown): string {
  const escaped = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `${escaped}\n`;
}

export interface HealthCheckFixture {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  ExposedPort: number;
  Definition: Record<string, unknown>;
  CreateIndex: number;
  ModifyIndex: number;
}

/** A HealthCheck with Consul's field order; override what the test is about. */
export function healthCheck(overrides: Partial<HealthCheckFixture> = {}): HealthCheckFixture {
  const node = overrides.Node ?? 'web-1';
  return {
    Node: node,
    CheckID: 'service:web',
    Name: "Service 'web' check",
    Status: 'passing',
    Notes: '',
    Output: 'HTTP GET http://127.0.0.1:8080/health: 200 OK Output: ok',
    ServiceID: 'web',
    ServiceName: 'web',
    ServiceTags: ['v1', 'primary'],
    Type: 'http',
    ExposedPort: 0,
    Definition: { Interval: '10s', Timeout: '5s', DeregisterCriticalServiceAfter: '0s', HTTP: 'http://127.0.0.1:8080/health', Header: null, Method: '', Body: '', TLSServerName: '', TLSSkipVerify: false, TCP: '', TCPUseTLS: false, UDP: '', GRPC: '', OSService: '', GRPCUseTLS: false },
    CreateIndex: 10,
    ModifyIndex: 10,
    ...overrides,
  };
}

/** `count` passing checks across nodes: a large steady-state snapshot. */
export function largeSnapshot(count: number, baseIndex = 100): HealthCheckFixture[] {
  return Array.from({ length: count }, (_, i) =>
    healthCheck({
      Node: `node-${Math.floor(i / 10)}`,
      CheckID: `service:svc-${i % 10}`,
      Name: `Service 'svc-${i % 10}' check`,
      ServiceID: `svc-${i % 10}`,
      ServiceName: `svc-${i % 10}`,
      CreateIndex: baseIndex,
      ModifyIndex: baseIndex + (i % 50),
    }),
  );
}

// ---------------------------------------------------------------------------
// Every other Consul watch type (handler-inputs.md, "Consul watches" table).

/** Go's `[]byte` JSON encoding: standard base64 with padding; null for a nil slice. */
export function b64(value: string | Uint8Array | null): string | null {
  if (value === null) return null;
  return Buffer.from(typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('base64');
}

/** Bytes that are not UTF-8 (a gzip header and friends). */
export const BINARY_BYTES = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]);

export interface KvPairFixture {
  Key: string;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Flags: number;
  Value: string | null;
  Session: string;
}

/** A KVPair (key / keyprefix watches) whose Value is the base64 of `value` (text or bytes). */
export function kvPair(key: string, value: string | Uint8Array | null, overrides: Partial<KvPairFixture> = {}): KvPairFixture {
  return { Key: key, CreateIndex: 100, ModifyIndex: 100, LockIndex: 0, Flags: 0, Value: b64(value), Session: '', ...overrides };
}

export interface UserEventFixture {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

/** A UserEvent (event watch). IDs are UUIDs in Consul; `n` makes a stable one. */
export function userEvent(n: number, overrides: Partial<UserEventFixture> & { payload?: string | Uint8Array | null } = {}): UserEventFixture {
  const { payload, ...rest } = overrides;
  const hex = n.toString(16).padStart(12, '0');
  return {
    ID: `5f1e2d3c-0000-4000-8000-${hex}`,
    Name: 'deploy',
    Payload: b64(payload === undefined ? `release ${n}` : payload),
    NodeFilter: '',
    ServiceFilter: '',
    TagFilter: '',
    Version: 1,
    LTime: n,
    ...rest,
  };
}

/** What an agent holds at start: the last `count` (at most 256) events, in arrival (not LTime) order. */
export function eventBuffer(count = 256, firstLTime = 1): UserEventFixture[] {
  const events = Array.from({ length: count }, (_, i) => userEvent(firstLTime + i));
  // Gossip delivers out of order: swap neighbours so arrival order differs from LTime order.
  for (let i = 0; i + 1 < events.length; i += 7) [events[i], events[i + 1]] = [events[i + 1]!, events[i]!];
  return events;
}

/** /v1/catalog/services: `{name: [tags]}`. Go encodes a nil tag slice as null. */
export function catalogServices(services: Record<string, string[] | null>): Record<string, string[] | null> {
  return { ...services };
}

export interface CatalogNodeFixture {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** A /v1/catalog/nodes entry; TaggedAddresses include IPv6 literals as agents report them. */
export function catalogNode(name: string, overrides: Partial<CatalogNodeFixture> = {}): CatalogNodeFixture {
  return {
    ID: '7f0c2a3e-1111-4a2b-9c3d-000000000001',
    Node: name,
    Address: '10.0.0.11',
    Datacenter: 'dc1',
    TaggedAddresses: { lan: '10.0.0.11', lan_ipv4: '10.0.0.11', lan_ipv6: '2001:db8::11', wan: '203.0.113.11', wan_ipv4: '203.0.113.11', wan_ipv6: '2001:db8:ffff::11' },
    Meta: { 'consul-network-segment': '', rack: 'r1' },
    CreateIndex: 10,
    ModifyIndex: 10,
    ...overrides,
  };
}

export interface ServiceFixture {
  ID: string;
  Service: string;
  Tags: string[] | null;
  Address: string;
  TaggedAddresses: Record<string, { Address: string; Port: number }> | null;
  Meta: Record<string, string> | null;
  Port: number;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** The `Service` of a /v1/health/service entry. */
export function serviceFixture(id: string, overrides: Partial<ServiceFixture> = {}): ServiceFixture {
  return {
    ID: id,
    Service: 'web',
    Tags: ['v1', 'primary'],
    Address: '10.0.0.11',
    TaggedAddresses: { lan_ipv4: { Address: '10.0.0.11', Port: 8080 }, wan_ipv6: { Address: '2001:db8::11', Port: 8080 } },
    Meta: { version: '1.4.2' },
    Port: 8080,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    CreateIndex: 20,
    ModifyIndex: 20,
    ...overrides,
  };
}

/** A node's serfHealth check (every node has one; it belongs to every instance on the node). */
export function serfHealth(node: string, overrides: Partial<HealthCheckFixture> = {}): HealthCheckFixture {
  return healthCheck({
    Node: node,
    CheckID: 'serfHealth',
    Name: 'Serf Health Status',
    Output: 'Agent alive and reachable',
    ServiceID: '',
    ServiceName: '',
    ServiceTags: [],
    Type: '',
    Definition: {},
    ...overrides,
  });
}

/** `consul maint -enable [-reason R]`: Consul registers this critical check. */
export function nodeMaintenance(node: string, reason = '', modifyIndex = 500): HealthCheckFixture {
  return healthCheck({
    Node: node,
    CheckID: '_node_maintenance',
    Name: 'Node Maintenance Mode',
    Status: 'critical',
    Notes: reason || 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.',
    Output: '',
    ServiceID: '',
    ServiceName: '',
    ServiceTags: [],
    Type: 'maintenance',
    Definition: {},
    CreateIndex: modifyIndex,
    ModifyIndex: modifyIndex,
  });
}

/** `consul maint -enable -service <id>`: Consul registers this critical check on the instance. */
export function serviceMaintenance(node: string, serviceId: string, serviceName: string, reason = '', modifyIndex = 500): HealthCheckFixture {
  return healthCheck({
    Node: node,
    CheckID: `_service_maintenance:${serviceId}`,
    Name: 'Service Maintenance Mode',
    Status: 'critical',
    Notes: reason || 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.',
    Output: '',
    ServiceID: serviceId,
    ServiceName: serviceName,
    ServiceTags: [],
    Type: 'maintenance',
    Definition: {},
    CreateIndex: modifyIndex,
    ModifyIndex: modifyIndex,
  });
}

/** A TTL check whose TTL ran out: Consul's own output wording (agent/checks/check.go). */
export function expiredTtlCheck(overrides: Partial<HealthCheckFixture> = {}, lastOutput = 'heartbeat ok'): HealthCheckFixture {
  return healthCheck({
    CheckID: 'service:worker-ttl',
    Name: 'worker heartbeat',
    Status: 'critical',
    Notes: 'The worker must PUT /v1/agent/check/pass every 30s',
    Output: lastOutput ? `TTL expired (last output before timeout follows): ${lastOutput}` : 'TTL expired',
    ServiceID: 'worker-1',
    ServiceName: 'worker',
    ServiceTags: [],
    Type: 'ttl',
    Definition: { Interval: '0s', Timeout: '0s', DeregisterCriticalServiceAfter: '0s', HTTP: '', Header: null, Method: '', Body: '', TLSServerName: '', TLSSkipVerify: false, TCP: '', TCPUseTLS: false, UDP: '', GRPC: '', OSService: '', GRPCUseTLS: false },
    ...overrides,
  });
}

export interface ServiceEntryFixture {
  Node: CatalogNodeFixture;
  Service: ServiceFixture;
  Checks: HealthCheckFixture[];
}

/**
 * A /v1/health/service entry: the node, the instance and its checks (the node's
 * serfHealth plus one service check unless given).
 */
export function serviceEntry(node: string, serviceId: string, opts: { service?: Partial<ServiceFixture>; node?: Partial<CatalogNodeFixture>; checks?: HealthCheckFixture[]; status?: string; index?: number } = {}): ServiceEntryFixture {
  const index = opts.index ?? 20;
  const service = serviceFixture(serviceId, { CreateIndex: 20, ModifyIndex: 20, ...opts.service });
  return {
    Node: catalogNode(node, opts.node),
    Service: service,
    Checks: opts.checks ?? [
      serfHealth(node, { ModifyIndex: 10, CreateIndex: 10 }),
      healthCheck({ Node: node, CheckID: `service:${serviceId}`, ServiceID: serviceId, ServiceName: service.Service, Status: opts.status ?? 'passing', ModifyIndex: index, CreateIndex: 20 }),
    ],
  };
}

export interface AgentServiceFixture {
  Kind?: string;
  ID: string;
  Service: string;
  Tags: string[] | null;
  Meta: Record<string, string> | null;
  Port: number;
  Address: string;
  TaggedAddresses?: Record<string, { Address: string; Port: number }>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
  ContentHash: string;
  Datacenter: string;
}

/** /v1/agent/service/<id>: no Raft indexes (omitempty), a ContentHash instead. */
export function agentService(id: string, overrides: Partial<AgentServiceFixture> = {}): AgentServiceFixture {
  return {
    ID: id,
    Service: 'web',
    Tags: ['v1'],
    Meta: { version: '1.4.2' },
    Port: 8080,
    Address: '',
    TaggedAddresses: { lan_ipv4: { Address: '10.0.0.11', Port: 8080 }, wan_ipv6: { Address: '2001:db8::11', Port: 8080 } },
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    ContentHash: '3e8f2b1c9d4a5f60',
    Datacenter: 'dc1',
    ...overrides,
  };
}

/** An envelope as the shim builds it for a Consul watch: stdin verbatim (Go's JSON line). */
export function consulEnvelope(
  type: string,
  body: unknown,
  opts: { cluster?: string; index?: string | null; scope?: string; node?: string; sentAt?: string } = {},
): import('../../lambdas/domain/types').Envelope {
  return {
    v: 1,
    cluster: opts.cluster ?? 'prod',
    source: 'consul',
    type,
    ...(opts.scope ? { scope: opts.scope } : {}),
    node: opts.node ?? 'agent-1',
    index: opts.index === undefined ? null : opts.index,
    sentAt: opts.sentAt ?? new Date().toISOString(),
    body: goJsonLine(body),
    bodyEncoding: 'utf8',
  };
}
