/**
 * Service impact: how many instances of a service are healthy now. An instance is healthy
 * when its health (the worst of its checks, node checks such as serfHealth included, as
 * Consul's /v1/health/service reports it) is passing and it is not in maintenance.
 * Alerts about an instance carry the count (`healthyInstances`, `healthyFraction`, which
 * rules match on) and say it in a detail line ("web: 2 of 3 healthy").
 */
export interface ServiceHealth {
  service: string;
  healthy: number;
  total: number;
}

export interface InstanceHealthView {
  serviceName: string;
  health: string;
  inMaintenance?: boolean;
  maintenance?: unknown;
}

export const isHealthyInstance = (i: InstanceHealthView): boolean => i.health === 'passing' && !i.inMaintenance && i.maintenance === undefined;

/** Healthy and total instances per service name, from the instances listed. */
export function serviceHealthOf(instances: readonly InstanceHealthView[]): Map<string, ServiceHealth> {
  const out = new Map<string, ServiceHealth>();
  for (const i of instances) {
    const h = out.get(i.serviceName) ?? { service: i.serviceName, healthy: 0, total: 0 };
    h.total++;
    if (isHealthyInstance(i)) h.healthy++;
    out.set(i.serviceName, h);
  }
  return out;
}

/** The facts rules match on; a service with no instance has no fraction. */
export function impactFacts(h: ServiceHealth | undefined): { healthyInstances?: number; healthyFraction?: number } {
  if (!h) return {};
  return { healthyInstances: h.healthy, ...(h.total > 0 ? { healthyFraction: Math.round((h.healthy / h.total) * 1e4) / 1e4 } : {}) };
}

/** "web: 2 of 3 healthy". */
export const impactLine = (h: ServiceHealth): string => `${h.service}: ${h.healthy} of ${h.total} healthy`;

/**
 * Healthy instances left once the instances of `lost` (a failed node's) are taken out:
 * those still counted healthy in `h` are not healthy any more.
 */
export function instancesLeft(h: ServiceHealth, lostStillCountedHealthy: number): ServiceHealth {
  return { ...h, healthy: Math.max(0, h.healthy - lostStillCountedHealthy) };
}
