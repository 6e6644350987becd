import { hostname } from 'node:os';
import type { Clock } from './clock.ts';

/** How long a lease holds without renewal; holders renew it every third of that. */
export const LEASE_MS = 60_000;

/** This process as an owner of work: `host:pid`. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/** True when a process of this host with that pid is running. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether work held by `owner` until `until` may be taken over now: its lease expired, or its owner
 * is a process of this host that no longer runs. Work of a live owner is never taken.
 */
export function ownerGone(owner: string, until: string | null | undefined, clock: Clock, alive: (pid: number) => boolean = isProcessAlive): boolean {
  if (owner === processOwner()) return false;
  const i = owner.lastIndexOf(':');
  const host = owner.slice(0, i);
  const pid = Number(owner.slice(i + 1));
  if (host === hostname() && Number.isInteger(pid)) return !alive(pid);
  return until === null || until === undefined || Date.parse(until) < clock.now().getTime();
}

/** Renews a lease every LEASE_MS / 3 until stopped; the timer never keeps the process alive. */
export function keepLease(renew: (until: Date) => Promise<void>, clock: Clock): { stop(): void } {
  const timer = setInterval(() => void renew(new Date(clock.now().getTime() + LEASE_MS)).catch(() => undefined), LEASE_MS / 3);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
