/** How the dashboard words times, risk and confidence. */

export function formatLeft(expiresAt: string | undefined, now = Date.now()): { text: string; urgent: boolean } {
  if (!expiresAt) return { text: 'no deadline', urgent: false };
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return { text: 'expired', urgent: true };
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  // Seconds only in the last 10 minutes: 100 countdowns do not redraw the page every second.
  const text = h > 0 ? `${h}h ${m}m left` : total > 600 ? `${m}m left` : `${m > 0 ? `${m}m ` : ''}${s}s left`;
  return { text, urgent: ms < 60_000 };
}

export function riskClass(risk: unknown): string {
  return risk === 'read_only' || risk === 'data_modification' || risk === 'irreversible' ? risk : 'unknown';
}

export function riskLabel(risk: unknown): string {
  if (risk === 'read_only') return 'read only';
  if (risk === 'data_modification') return 'data modification';
  if (risk === 'irreversible') return 'irreversible';
  return 'risk not given (treated as irreversible)';
}

/** Irreversible, or not said (which the gate treats as irreversible). */
export function isIrreversible(risk: unknown): boolean {
  return riskClass(risk) === 'irreversible' || riskClass(risk) === 'unknown';
}

export function confidenceLabel(confidence: unknown): string {
  if (typeof confidence !== 'number') return 'confidence not given';
  return `confidence ${Math.round(confidence * 100)}%`;
}

export type ConfidenceLevel = 'low' | 'medium' | 'high' | 'unknown';

export function confidenceLevel(confidence: unknown): ConfidenceLevel {
  if (typeof confidence !== 'number') return 'unknown';
  if (confidence < 0.5) return 'low';
  if (confidence < 0.8) return 'medium';
  return 'high';
}

/** One formatter for the page (`toLocaleString` builds a new one on every call: slow for 1,000 cards); the same output. */
let timeFormat: Intl.DateTimeFormat | undefined;

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  timeFormat ??= new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return timeFormat.format(time);
}

/** Pretty JSON, as shown and edited. */
export function pretty(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}
