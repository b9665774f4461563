/**
 * Compares the two maintained CEL libraries for JavaScript on what hitl's policy conditions need:
 * compile time, evaluation time over a `PolicyCall`, conformance on our edge cases, and how each
 * behaves under hostile expressions. Not part of `pnpm bench`; run it on its own:
 *
 *   pnpm --filter @hitl/bench build && node --expose-gc bench/dist/cel/cel-compare.js [--smoke]
 *
 * Figures land in packages/core/docs/cel-choice.md by hand.
 */
import { Environment } from '@marcbachmann/cel-js';
import { CelScalar, celEnv, isCelError, mapType, parse as bufParse, plan as bufPlan } from '@bufbuild/cel';
import { compareLatency, formatUs, median, type BenchContext } from '../harness.js';

type Outcome = { value: unknown } | { error: string };
interface Library {
  name: string;
  /** Parses (and type-checks, where the library can) once; returns an evaluator. */
  compile(source: string): (call: Record<string, unknown>) => Outcome;
}

const marc: Library = {
  name: '@marcbachmann/cel-js',
  compile(source) {
    const env = marcEnv;
    const evaluate = env.parse(source);
    const checked = evaluate.check();
    if (!checked.valid) throw checked.error;
    return (call) => {
      try {
        return { value: evaluate(call) };
      } catch (error) {
        return { error: (error as Error).message.split('\n')[0] ?? '' };
      }
    };
  },
};

const marcEnv = new Environment({ limits: { maxDepth: 32, maxAstNodes: 512 } })
  .registerVariable('toolName', 'string')
  .registerVariable('input', 'map')
  .registerVariable('confidence', 'double')
  .registerVariable('riskLevel', 'string')
  .registerVariable('requestedBy', 'dyn')
  .registerVariable('threadId', 'dyn')
  .registerVariable('runId', 'dyn')
  .registerVariable('metadata', 'map');

const dynMap = mapType(CelScalar.STRING, CelScalar.DYN);
const bufEnv = celEnv({
  variables: {
    toolName: CelScalar.STRING,
    input: dynMap,
    confidence: CelScalar.DOUBLE,
    riskLevel: CelScalar.STRING,
    requestedBy: CelScalar.DYN,
    threadId: CelScalar.DYN,
    runId: CelScalar.DYN,
    metadata: dynMap,
  },
});

const buf: Library = {
  name: '@bufbuild/cel',
  compile(source) {
    // 0.6 exports no type checker from its public entry: parse + plan is all a caller can do.
    const evaluate = bufPlan(bufEnv, bufParse(source));
    return (call) => {
      try {
        const value = evaluate(call as never);
        return isCelError(value) ? { error: value.message } : { value };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
  },
};

const libraries = [marc, buf];

const call = {
  toolName: 'get_refund',
  input: {
    amount: 50,
    currency: 'EUR',
    to: ['ann@ourco.com', 'bob@ourco.com', 'cy@ourco.com'],
    x: { y: 1 },
    label: '50',
    nothing: null,
    nested: { a: { b: { c: [1, 2, 3] } } },
  },
  confidence: 0.9,
  riskLevel: 'data_modification',
  requestedBy: 'alice',
  threadId: 'thread-1',
  runId: null,
  metadata: {},
};

const typical = [
  'input.amount <= 100 && input.currency == "EUR"',
  'input.to.all(a, a.endsWith("@ourco.com"))',
  'has(input.x) && input.x.y == 1',
  'toolName.startsWith("get_")',
];

/** expected: true/false = that boolean, 'error' = an evaluation error, 'compile' = refused when compiling. */
const conformance: [string, boolean | 'error' | 'compile'][] = [
  ['input.amount <= 100 && input.currency == "EUR"', true],
  ['input.missing > 1', 'error'],
  ['has(input.missing)', false],
  ['input.label <= 100', 'error'],
  ['input.nothing == null', true],
  ['input.nothing > 1', 'error'],
  ['input.amount <= 100', true],
  ['input.amount == 50', true],
  ['input.amount + 1 == 51', 'error'],
  ['input.amount + 1.0 == 51.0', true],
  ['input.nested.a.b.c[2] == 3', true],
  ['input.nested.a.b.c.size() == 3', true],
  ['input.to.all(a, a.endsWith("@ourco.com"))', true],
  ['input.to.exists(a, a == "bob@ourco.com")', true],
  ['input.to.exists_one(a, a.startsWith("b"))', true],
  ['input.to.map(a, a.size()).all(n, n > 3)', true],
  ['input.to.filter(a, a.startsWith("a")).size() == 1', true],
  ['input.missing > 1 || true', true],
  ['input.missing > 1 && false', false],
  ['threadId == "thread-1"', true],
  ['runId == null', true],
  ['has(metadata.reason)', false],
  ['confidence >= 0.8 && riskLevel != "irreversible"', true],
  ['input.amount <=', 'compile'],
  ['toolName + 1', 'compile'],
  ['toolName > 1', 'compile'],
  ['undeclared == 1', 'compile'],
];

async function measureCompile(library: Library, source: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < runs; index++) {
    const start = performance.now();
    library.compile(source);
    times.push((performance.now() - start) * 1000);
  }
  return median(times);
}

function timeOnce(task: () => unknown): number {
  const start = performance.now();
  task();
  return performance.now() - start;
}

function conformanceReport(): void {
  console.log('\n## conformance (expected | per library)');
  for (const [source, expected] of conformance) {
    const cells = libraries.map((library) => {
      let actual: boolean | 'error' | 'compile' | string;
      try {
        const outcome = library.compile(source)(call);
        actual = 'error' in outcome ? 'error' : typeof outcome.value === 'boolean' ? outcome.value : `value ${String(outcome.value)}`;
      } catch {
        actual = 'compile';
      }
      return `${actual === expected ? 'ok' : 'DIFFERS'} (${String(actual)})`;
    });
    console.log(`| \`${source}\` | ${String(expected)} | ${cells.join(' | ')} |`);
  }
}

function hostileReport(smoke: boolean): void {
  console.log('\n## hostile expressions (one run each, wall clock)');
  const bigList = Array.from({ length: smoke ? 10_000 : 1_000_000 }, (_, index) => index);
  const thousand = Array.from({ length: 1000 }, (_, index) => index);
  const cases: [string, () => unknown][] = [];
  for (const library of libraries) {
    cases.push([`${library.name}: parse 1,000 nested parentheses`, () => library.compile(`${'('.repeat(1000)}1${')'.repeat(1000)} == 1`)]);
    cases.push([`${library.name}: parse 4,000 '!'`, () => library.compile(`${'!'.repeat(4000)}true`)]);
    cases.push([`${library.name}: parse 1 MB string literal`, () => library.compile(`"${'a'.repeat(1_000_000)}" == toolName`)]);
    const all = library.compile('input.list.all(x, x >= 0)');
    cases.push([
      `${library.name}: all() over ${bigList.length.toLocaleString('en-US')} elements`,
      () => all({ ...call, input: { list: bigList } }),
    ]);
    const nested = library.compile('input.list.all(a, input.list.all(b, a + b >= 0))');
    cases.push([`${library.name}: nested all() over 1,000 × 1,000 elements`, () => nested({ ...call, input: { list: thousand } })]);
    const literal = `[${Array.from({ length: 10 }, (_, index) => index).join(',')}]`;
    cases.push([
      `${library.name}: 6 nested all() over a 10-element literal (1e6 steps, no input)`,
      () => library.compile(`${`${literal}.all(a, `.repeat(6)}true${')'.repeat(6)}`)(call),
    ]);
  }
  for (const [name, task] of cases) {
    try {
      const ms = timeOnce(task);
      console.log(`| ${name} | ${ms.toFixed(1)} ms |`);
    } catch (error) {
      console.log(`| ${name} | refused: ${(error as Error).message.split('\n')[0]?.slice(0, 80)} |`);
    }
  }
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const context: BenchContext = { smoke, log: (message) => console.error(message) };
  console.log(`Node ${process.version}`);
  console.log('\n## compile (parse + check where available), median µs');
  for (const source of typical) {
    const cells: string[] = [];
    for (const library of libraries) cells.push(formatUs(await measureCompile(library, source, smoke ? 50 : 2000)));
    console.log(`| \`${source}\` | ${cells.join(' | ')} |`);
  }
  console.log('\n## evaluate over a PolicyCall, median (p99)');
  for (const source of typical) {
    const tasks: Record<string, () => unknown> = {};
    for (const library of libraries) {
      const evaluate = library.compile(source);
      const outcome = evaluate(call);
      if (!('value' in outcome) || outcome.value !== true) throw new Error(`${library.name}: '${source}' gave ${JSON.stringify(outcome)}`);
      tasks[library.name] = () => evaluate(call);
    }
    const stats = await compareLatency(context, tasks);
    console.log(
      `| \`${source}\` | ${libraries.map((library) => `${formatUs(stats[library.name]!.medianUs)} (${formatUs(stats[library.name]!.p99Us)})`).join(' | ')} |`,
    );
  }
  conformanceReport();
  hostileReport(smoke);
}

await main();
