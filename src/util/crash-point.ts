/**
 * Fault injection at named points between the steps of an operation that spans the warehouse and
 * the store: when `SLUICE_CRASH_AT` names the point, the process kills itself there (SIGKILL, no
 * cleanup), so tests stop real processes at exact places instead of after a timer. A no-op
 * otherwise.
 */
export function crashPoint(name: string): void {
  if (process.env['SLUICE_CRASH_AT'] === name) process.kill(process.pid, 'SIGKILL');
}
