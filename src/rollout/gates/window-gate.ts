import { DateTime } from 'luxon';
import type { FreezeWindow, WeeklySlot, WindowGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';

const DAY = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function inSlot(local: DateTime, slot: WeeklySlot): boolean {
  const hm = local.toFormat('HH:mm');
  return (slot.days as readonly number[]).includes(local.weekday) && hm >= slot.from && hm < slot.to;
}

function inFreeze(local: DateTime, f: FreezeWindow): boolean {
  if (f.kind === 'weekly') return inSlot(local, f);
  if (f.kind === 'range') {
    const t = local.toMillis();
    return t >= DateTime.fromISO(f.from).toMillis() && t < DateTime.fromISO(f.to).toMillis();
  }
  const md = local.toFormat('MM-dd');
  return f.from <= f.to ? md >= f.from && md <= f.to : md >= f.from || md <= f.to;
}

function describeFreeze(f: FreezeWindow): string {
  if (f.kind === 'weekly') return `${f.days.map((d) => DAY[d]).join(',')} ${f.from}-${f.to}`;
  return `${f.from} .. ${f.to}`;
}

/**
 * Time windows, judged on the wall clock of the gate's IANA zone (so a 09:00–16:00 slot follows
 * daylight-saving changes): passes only inside an allowed slot (or always, when none is listed),
 * never inside a freeze window, and only when no run is in flight (a batch boundary). Slots are
 * half-open: 16:00 is outside 09:00–16:00. Annual freezes include both end days.
 */
export function evaluateWindowGate(spec: WindowGateSpec, ctx: GateContext): GateOutcome {
  const local = DateTime.fromJSDate(ctx.now, { zone: spec.zone });
  const localText = `${DAY[local.weekday]} ${local.toFormat('yyyy-MM-dd HH:mm')} ${spec.zone} (UTC${local.toFormat('ZZ')})`;
  const allowed = spec.allow.length === 0 || spec.allow.some((s) => inSlot(local, s));
  const freeze = spec.freeze.find((f) => inFreeze(local, f));
  const inputs = { now: ctx.now.toISOString(), local: localText, zone: spec.zone, allowed, freeze: freeze ?? null, runInFlight: ctx.runInFlight };
  if (freeze) return outcome('wait', `inside freeze window ${describeFreeze(freeze)} at ${localText}`, inputs);
  if (!allowed) return outcome('wait', `outside allowed windows (${spec.allow.map((s) => `${s.days.map((d) => DAY[d]).join(',')} ${s.from}-${s.to}`).join('; ')}) at ${localText}`, inputs);
  if (ctx.runInFlight) return outcome('wait', `inside an allowed window at ${localText}, but a run is in flight; waiting for the batch boundary`, inputs);
  return outcome('pass', `inside an allowed window at ${localText}`, inputs);
}
