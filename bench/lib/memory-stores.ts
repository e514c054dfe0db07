/** In-memory SubjectStore / ScopeStore with the DynamoDB adapters' semantics, for CPU-only measurements. */
import type { ScopeRecord, ScopeReset, ScopeStore, ScopeUpdate, SubjectRecord, SubjectStore, SubjectWrite } from '../../lambdas/app/ports';

interface Item {
  record: SubjectRecord<unknown>;
}

export class MemorySubjectStore implements SubjectStore {
  items = new Map<string, Item>();

  private k(cluster: string, subject: string): string {
    return `${cluster}\u0000${subject}`;
  }

  async get<S>(cluster: string, subject: string): Promise<SubjectRecord<S> | undefined> {
    return this.items.get(this.k(cluster, subject))?.record as SubjectRecord<S> | undefined;
  }

  async getMany<S>(cluster: string, subjects: string[]): Promise<Map<string, SubjectRecord<S>>> {
    const out = new Map<string, SubjectRecord<S>>();
    for (const s of subjects) {
      const item = this.items.get(this.k(cluster, s));
      if (item) out.set(s, item.record as SubjectRecord<S>);
    }
    return out;
  }

  async put<S>(cluster: string, subject: string, expectedRev: number | undefined, next: SubjectWrite<S>): Promise<boolean> {
    const key = this.k(cluster, subject);
    const cur = this.items.get(key)?.record;
    if (expectedRev === undefined ? cur !== undefined : cur?.rev !== expectedRev || cur.pending !== undefined) return false;
    const record: SubjectRecord<unknown> = { state: next.state, rev: (expectedRev ?? 0) + 1 };
    if (next.pending) record.pending = next.pending;
    this.items.set(key, { record });
    return true;
  }

  async claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean> {
    const rec = this.items.get(this.k(cluster, subject))?.record;
    if (!rec?.pending || rec.pending.entry.alert.id !== alertId || rec.pending.leaseUntil > nowMs) return false;
    rec.pending = { ...rec.pending, leaseUntil };
    return true;
  }

  async clearPending(cluster: string, subject: string, alertId: string): Promise<void> {
    const rec = this.items.get(this.k(cluster, subject))?.record;
    if (rec?.pending?.entry.alert.id === alertId) delete rec.pending;
  }

  snapshot(): Map<string, Item> {
    return new Map([...this.items].map(([k, v]) => [k, { record: { ...v.record } }]));
  }

  restore(saved: Map<string, Item>): void {
    this.items = new Map([...saved].map(([k, v]) => [k, { record: { ...v.record } }]));
  }
}

export class MemoryScopeStore implements ScopeStore {
  scopes = new Map<string, ScopeRecord>();

  async getScope(cluster: string, scope: string): Promise<ScopeRecord> {
    const s = this.scopes.get(`${cluster}\u0000${scope}`);
    return { watermark: s?.watermark ?? 0, active: new Set(s?.active ?? []), ...(s?.epoch ? { epoch: s.epoch } : {}), ...(s?.last ? { last: { ...s.last } } : {}) };
  }

  async updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void> {
    const key = `${cluster}\u0000${scope}`;
    const cur = this.scopes.get(key) ?? { watermark: 0, active: new Set<string>() };
    if (cur.watermark > update.watermark || (cur.epoch ?? 0) !== (update.epoch ?? 0)) return;
    const active = new Set(cur.active);
    update.addActive.forEach((s) => active.add(s));
    update.removeActive.forEach((s) => active.delete(s));
    const last = update.last ?? cur.last;
    this.scopes.set(key, { watermark: update.watermark, active, ...(cur.epoch ? { epoch: cur.epoch } : {}), ...(last ? { last } : {}) });
  }

  async resetScope(cluster: string, scope: string, reset: ScopeReset): Promise<boolean> {
    const key = `${cluster}\u0000${scope}`;
    const cur = this.scopes.get(key) ?? { watermark: 0, active: new Set<string>() };
    if (cur.watermark !== reset.from.watermark || (cur.epoch ?? 0) !== reset.from.epoch) return false;
    this.scopes.set(key, { watermark: reset.watermark, active: new Set(reset.active), epoch: reset.epoch, last: { ...reset.last } });
    return true;
  }

  snapshot(): Map<string, ScopeRecord> {
    return new Map([...this.scopes].map(([k, v]) => [k, { ...v, active: new Set(v.active) }]));
  }

  restore(saved: Map<string, ScopeRecord>): void {
    this.scopes = new Map([...saved].map(([k, v]) => [k, { ...v, active: new Set(v.active) }]));
  }
}
