/**
 * The sockets a process (and its descendants) listens on, from Linux's /proc: socket
 * inodes of /proc/<pid>/fd matched against /proc/<pid>/net/{tcp,tcp6,udp,udp6}.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcSocket {
  pid: number;
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
  /** tcp: LISTEN; udp: unconnected (it receives from anyone). Connected client sockets are left out. */
  listening: true;
}

/** `pid` and every process below it (tsx or npm may run the pipeline in a child). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i] as number) ?? []));
  return tree;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** /proc/net hex address (32-bit words in host order, little-endian here) to text. */
export function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${bytes.slice(12).join('.')}`;
  return text;
}

const TCP_LISTEN = '0A';

export function listeningSockets(rootPid: number): ProcSocket[] {
  const found: ProcSocket[] = [];
  for (const pid of processTree(rootPid)) {
    let inodes: Set<string>;
    try {
      inodes = socketInodes(pid);
    } catch {
      continue; // exited meanwhile
    }
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
      const lines = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8').trim().split('\n').slice(1);
      for (const line of lines) {
        const f = line.trim().split(/\s+/);
        const [local, remote, state, inode] = [f[1] as string, f[2] as string, f[3] as string, f[9] as string];
        if (!inodes.has(inode)) continue;
        const [addrHex, portHex] = local.split(':') as [string, string];
        const unconnected = /^0+:0000$/.test(remote);
        if (proto.startsWith('tcp') ? state !== TCP_LISTEN : !unconnected) continue;
        found.push({ pid, proto, address: procAddress(addrHex), port: parseInt(portHex, 16), listening: true });
      }
    }
  }
  return found;
}

export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\./.test(v4) || address === '::1';
}
