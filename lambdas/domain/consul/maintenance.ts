/**
 * Consul maintenance mode (`consul maint`, /v1/agent/maintenance,
 * /v1/agent/service/maintenance/<id>) registers a critical check:
 * `_node_maintenance` for the node, `_service_maintenance:<service id>` for one
 * service instance. While one is present, tocsin suppresses alerts for what it
 * covers and announces entering/leaving maintenance as info notices instead.
 */

export const NODE_MAINTENANCE_CHECK = '_node_maintenance';
export const SERVICE_MAINTENANCE_PREFIX = '_service_maintenance:';

export type MaintenanceTarget = { kind: 'node'; node: string } | { kind: 'service'; node: string; serviceId: string };

export function isMaintenanceCheck(checkId: string): boolean {
  return checkId === NODE_MAINTENANCE_CHECK || checkId.startsWith(SERVICE_MAINTENANCE_PREFIX);
}

/** What a maintenance check puts into maintenance; undefined for other checks. */
export function maintenanceTarget(check: { node: string; checkId: string; serviceId?: string }): MaintenanceTarget | undefined {
  if (check.checkId === NODE_MAINTENANCE_CHECK) return { kind: 'node', node: check.node };
  if (check.checkId.startsWith(SERVICE_MAINTENANCE_PREFIX)) {
    return { kind: 'service', node: check.node, serviceId: check.serviceId || check.checkId.slice(SERVICE_MAINTENANCE_PREFIX.length) };
  }
  return undefined;
}

/** The target of a maintenance check's subject (`check/<node>/<checkId>`), else undefined. */
export function maintenanceTargetOfCheckSubject(subject: string): MaintenanceTarget | undefined {
  const m = /^check\/(.+?)\/(_node_maintenance|_service_maintenance:.+)$/.exec(subject);
  return m ? maintenanceTarget({ node: m[1] as string, checkId: m[2] as string }) : undefined;
}

const targetKey = (t: MaintenanceTarget): string => (t.kind === 'node' ? `node\u0000${t.node}` : `service\u0000${t.node}\u0000${t.serviceId}`);

/** Which nodes and service instances a snapshot shows in maintenance, with the reason given. */
export class MaintenanceSet {
  private readonly reasons = new Map<string, string>();
  private readonly targets = new Map<string, MaintenanceTarget>();

  static of(checks: Iterable<{ node: string; checkId: string; serviceId?: string; status: string; notes?: string }>): MaintenanceSet {
    const set = new MaintenanceSet();
    for (const c of checks) {
      const target = maintenanceTarget(c);
      if (target && c.status !== 'passing') set.add(target, c.notes ?? '');
    }
    return set;
  }

  add(target: MaintenanceTarget, reason: string): void {
    this.reasons.set(targetKey(target), reason);
    this.targets.set(targetKey(target), target);
  }

  has(target: MaintenanceTarget): boolean {
    return this.reasons.has(targetKey(target));
  }

  get size(): number {
    return this.reasons.size;
  }

  /**
   * Whether a check or service instance on `node` (of `serviceId`, if any) is
   * covered: the node's maintenance covers everything on it.
   */
  covering(node: string, serviceId?: string): MaintenanceTarget | undefined {
    const nodeTarget: MaintenanceTarget = { kind: 'node', node };
    if (this.has(nodeTarget)) return nodeTarget;
    if (serviceId) {
      const serviceTarget: MaintenanceTarget = { kind: 'service', node, serviceId };
      if (this.has(serviceTarget)) return serviceTarget;
    }
    return undefined;
  }

  reason(target: MaintenanceTarget): string | undefined {
    return this.reasons.get(targetKey(target));
  }

  /** Its targets and reasons, as plain data (a snapshot's stored continuation); `MaintenanceSet.from` reads them back. */
  entries(): Array<{ target: MaintenanceTarget; reason: string }> {
    return [...this.reasons].map(([key, reason]) => ({ target: this.targets.get(key) as MaintenanceTarget, reason }));
  }

  static from(entries: ReadonlyArray<{ target: MaintenanceTarget; reason: string }>): MaintenanceSet {
    const set = new MaintenanceSet();
    for (const e of entries) set.add(e.target, e.reason);
    return set;
  }
}

export function describeTarget(t: MaintenanceTarget, serviceName?: string): string {
  if (t.kind === 'node') return `node ${t.node}`;
  const name = serviceName && serviceName !== t.serviceId ? `${serviceName} [${t.serviceId}]` : t.serviceId;
  return `service ${name} on ${t.node}`;
}
