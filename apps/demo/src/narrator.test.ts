// The demo's narration: colours only on a terminal without NO_COLOR, long values clipped once, orphaned requests marked.
import { createManager } from '@hitl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { clip, colorWanted, createNarrator } from './narrator.js';

const managers: ReturnType<typeof createManager>[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

describe('narration', () => {
  it('uses colours only on a terminal without NO_COLOR', () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, {})).toBe(false);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
  });

  it('prints no ANSI escapes unless asked, and cuts long values once with a marker', async () => {
    const manager = createManager({ policies: [{ name: 'outbound', toolPattern: 'send_*', requireExplicit: true }] });
    managers.push(manager);
    const lines: string[] = [];
    const narrator = createNarrator({
      manager,
      dashboardUrl: () => 'http://localhost/hitl/',
      print: (line) => lines.push(line),
      runPrefix: 'abc123',
    });
    const run = narrator.startRun('langchain', 'langchain', '12345');
    expect(run.id).toBe('abc123-run1');
    const record = await manager.submit({
      toolName: 'send_email',
      input: {},
      riskLevel: 'irreversible',
      metadata: { toolCallId: `${run.id}:call-1` },
    });
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'x'.repeat(60_000), respondedBy: 'alice' });
    narrator.close();

    const output = lines.join('\n');
    expect(output.includes('\u001b[')).toBe(false);
    expect(output.length).toBeLessThan(2_000);
    expect(output).toContain('more characters]');
    expect(lines.at(-1)).toContain('[abc123-run1 langchain] ❌ send_email rejected by alice');
  });

  it('marks requests of runs that are not in this process as orphaned', async () => {
    const manager = createManager({ policies: [{ name: 'outbound', toolPattern: 'send_*', requireExplicit: true }] });
    managers.push(manager);
    const lines: string[] = [];
    const narrator = createNarrator({ manager, dashboardUrl: () => '', print: (line) => lines.push(line) });
    await manager.submit({ toolName: 'send_email', input: {}, riskLevel: 'irreversible', metadata: { toolCallId: 'ffffff-run1:call-1' } });
    narrator.close();
    expect(lines.at(-1)).toContain('[orphaned');
  });

  it('clip leaves short text alone', () => {
    expect(clip('short')).toBe('short');
    expect(clip('abcdef', 3)).toBe('abc… [3 more characters]');
  });
});
