// parseCliArguments: hitl-mcp's options and the upstream command after --, and refusals with the usage.
import { describe, expect, it } from 'vitest';
import { parseCliArguments } from './cli-args.js';

describe('parseCliArguments', () => {
  it('reads the options and the upstream command after --', () => {
    expect(
      parseCliArguments([
        '--policies',
        'p.yaml',
        '--port=3000',
        '--database-url',
        'postgres://x',
        '--',
        'npx',
        '-y',
        'server',
        '--port',
        '1',
      ]),
    ).toEqual({
      policies: 'p.yaml',
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://x',
      elicitation: false,
      command: 'npx',
      args: ['-y', 'server', '--port', '1'],
    });
    expect(parseCliArguments(['--help', '--', 'x'])).toBe('help');
    expect(parseCliArguments(['--elicitation', '--policies', 'p.yaml', '--', 'x'])).toMatchObject({
      elicitation: true,
      command: 'x',
      args: [],
    });
  });

  it('refuses what it cannot use, with the usage', () => {
    expect(() => parseCliArguments(['--', 'npx'])).toThrow(/--policies <file> is required[\s\S]*Usage: hitl-mcp/);
    expect(() => parseCliArguments(['--policies', 'p.yaml'])).toThrow(/command is missing after '--'/);
    expect(() => parseCliArguments(['--policies', 'p.yaml', '--port', 'abc', '--', 'x'])).toThrow(/--port 'abc'/);
    expect(() => parseCliArguments(['--policy', 'p.yaml', '--', 'x'])).toThrow(/unknown option '--policy'/);
  });
});
