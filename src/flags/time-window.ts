import { DateTime, IANAZone } from 'luxon';
import type { TimeWindow } from './flag.ts';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutes(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}

/** Problems with a window's own fields, as [field, message] pairs (field relative to the window). */
export function timeWindowProblems(w: TimeWindow): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (w.from !== undefined && Number.isNaN(Date.parse(w.from))) out.push(['from', `not an ISO 8601 instant: ${w.from}`]);
  if (w.until !== undefined && Number.isNaN(Date.parse(w.until))) out.push(['until', `not an ISO 8601 instant: ${w.until}`]);
  if (w.from !== undefined && w.until !== undefined && Date.parse(w.from) >= Date.parse(w.until)) out.push(['until', 'must be after from']);
  const r = w.recurring;
  if (r) {
    if (!IANAZone.isValidZone(r.zone)) out.push(['recurring.zone', `unknown IANA time zone: ${r.zone}`]);
    if (!HHMM.test(r.start)) out.push(['recurring.start', `expected HH:MM, got ${r.start}`]);
    if (!HHMM.test(r.end)) out.push(['recurring.end', `expected HH:MM, got ${r.end}`]);
    if (r.days.length === 0) out.push(['recurring.days', 'needs at least one day']);
    r.days.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 1 || d > 7) out.push([`recurring.days.${i}`, `expected a weekday 1..7 or mon..sun, got ${d}`]);
    });
  }
  return out;
}

/** Whether the instant is inside the window, and a short reason for explanations. */
export function inTimeWindow(w: TimeWindow, nowMs: number): { active: boolean; why: string } {
  if (w.from !== undefined && nowMs < Date.parse(w.from)) return { active: false, why: `before ${w.from}` };
  if (w.until !== undefined && nowMs >= Date.parse(w.until)) return { active: false, why: `at or after ${w.until}` };
  const r = w.recurring;
  if (r) {
    const local = DateTime.fromMillis(nowMs, { zone: r.zone });
    if (!local.isValid) return { active: false, why: `invalid time zone ${r.zone}` };
    const start = minutes(r.start);
    const end = minutes(r.end);
    const m = local.hour * 60 + local.minute;
    const inHours = start <= end ? m >= start && m < end : m >= start || m < end;
    // A window that wraps past midnight belongs to the day it started on.
    const day = start > end && m < end ? ((local.weekday + 5) % 7) + 1 : local.weekday;
    const where = `${local.toFormat('ccc HH:mm')} in ${r.zone}`;
    if (!r.days.includes(day)) return { active: false, why: `${where} is not on an active day` };
    if (!inHours) return { active: false, why: `${where} is outside ${r.start}-${r.end}` };
    return { active: true, why: `${where} is inside ${r.start}-${r.end}` };
  }
  return { active: true, why: 'inside the window' };
}
