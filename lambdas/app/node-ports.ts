/**
 * What the node incidents and the service impact read and keep (domain/nodes/node-incident.ts,
 * domain/consul/service-impact.ts): a node's service instances, and each service's healthy
 * and total instances as its `service` watch last saw them.
 */
import type { ServiceHealth } from '../domain/consul/service-impact';

/** One service instance a node carries, as stored: a `service` watch's instance record, or a stored check naming it. */
export interface NodeInstance {
  serviceName: string;
  serviceId: string;
  /** Counted healthy by its service's last `service` watch snapshot (false: unhealthy, or only known from a check). */
  healthy: boolean;
}

export interface NodeCatalog {
  /**
   * The nodes' service instances. A few nodes: per node one Query of its instance records and
   * one of its stored checks; many at once (a rack failing): one Query of each kind for the
   * whole cluster, whatever the number of nodes.
   */
  carried(cluster: string, nodes: readonly string[]): Promise<Map<string, NodeInstance[]>>;
  /** The services' health as last recorded (one BatchGetItem per 100 services). */
  serviceHealth(cluster: string, services: readonly string[]): Promise<Map<string, ServiceHealth>>;
  /** Records a service's health from a `service` watch snapshot at `index`; an older index changes nothing (absent: last writer wins). */
  putServiceHealth(cluster: string, health: ServiceHealth, index: number | undefined): Promise<void>;
}
