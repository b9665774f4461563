// Slack text helpers: escaping, cutting and summarising untrusted values for mrkdwn.
/** Escapes the three characters Slack's mrkdwn gives meaning to, so data cannot ping (`<!channel>`) or link. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `text` to at most `max` characters, marking the cut with `…`. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Inline code that cannot be closed early by a backtick in the data; escaped after cutting. */
export function inlineCode(text: string, max = 200): string {
  return `\`${escapeText(cut(text, max).replace(/`/g, "'"))}\``;
}

const MASKED = '••••••';

function maskDeep(value: unknown, masked: ReadonlySet<string>, depth: number): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, masked, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = masked.has(key.toLowerCase()) ? MASKED : maskDeep(item, masked, depth + 1);
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Not JSON (a cycle, a bigint): describe the type rather than call a toString the value may own.
    return `[${typeof value}]`;
  }
}

/**
 * A readable summary of a tool's input for a Slack message: one line per top-level key (at most
 * `maxKeys`), values cut to `maxValue` characters, keys named in `mask` (at any depth, compared
 * case-insensitively) replaced by `••••••`, everything escaped for mrkdwn.
 */
export function summarizeInput(
  input: Record<string, unknown> | undefined,
  { mask = [], maxKeys = 12, maxValue = 120 }: { mask?: readonly string[]; maxKeys?: number; maxValue?: number } = {},
): string {
  if (input === undefined || Object.keys(input).length === 0) return '_no input_';
  const masked = new Set(mask.map((key) => key.toLowerCase()));
  const entries = Object.entries(maskDeep(input, masked, 0) as Record<string, unknown>);
  const lines = entries.slice(0, maxKeys).map(([key, value]) => `*${escapeText(cut(key, 60))}*: ${inlineCode(show(value), maxValue)}`);
  if (entries.length > maxKeys) lines.push(`_…and ${entries.length - maxKeys} more_`);
  return cut(lines.join('\n'), 2_900);
}
