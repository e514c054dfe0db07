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
