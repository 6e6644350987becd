/**
 * Fault injection at named points between the steps of an operation that spans the warehouse and
 * the store: when `SLUICE_CRASH_AT` names the point, the process kills itself there (SIGKILL, no
 * cleanup), so tests stop real processes at exact places instead of after a timer. A no-op
 * otherwise.
 */
export function crashPoint(name: string): void {
  if (process.env['SLUICE_CRASH_AT'] === name) process.kill(process.pid, 'SIGKILL');
  // The other fault a process meets: it stops (SIGSTOP, a long GC pause, a frozen VM) and resumes
  // later, its leases run out meanwhile. `SLUICE_PAUSE_AT` stops it there once; SIGCONT resumes it.
  if (process.env['SLUICE_PAUSE_AT'] === name && !paused.has(name)) {
    paused.add(name);
    process.kill(process.pid, 'SIGSTOP');
  }
}

const paused = new Set<string>();
