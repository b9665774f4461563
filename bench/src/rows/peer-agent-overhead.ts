// Peer row: what an auto-approved tool call costs inside LangChain's createAgent with no approval,
// with LangChain's humanInTheLoopMiddleware (and the checkpointer it needs), and with hitl.
import { MemorySaver } from '@langchain/langgraph';
import { compareInterleaved, formatNumber, median, type BenchContext, type Row } from '../harness.js';
import {
  ask,
  comparedVersions,
  createPeerManager,
  createTools,
  fakeModel,
  hitlAgent,
  langGraphAgent,
  plainAgent,
  ToolRuns,
} from '../peers/agents.js';

const formatMs = (us: number) => `${formatNumber(us / 1000, 3)} ms`;

/**
 * One `agent.invoke` whose model calls `get_weather` once (auto-approved by both approval setups)
 * then answers: no middleware / `humanInTheLoopMiddleware` + `MemorySaver` / hitl's
 * `approvalMiddleware`, interleaved invoke by invoke. The figure is the median over rounds of each
 * round's (setup − none) median.
 */
export async function peerAgentOverhead(context: BenchContext): Promise<Row[]> {
  const versions = comparedVersions();
  const runs = new ToolRuns();
  const tools = createTools(runs);
  const manager = createPeerManager();
  const agents = {
    none: plainAgent(fakeModel('get_weather'), tools),
    langchain: langGraphAgent(fakeModel('get_weather'), tools, new MemorySaver()),
    hitl: hitlAgent(fakeModel('get_weather'), tools, manager),
  };
  let thread = 0;
  const invoke = async (name: keyof typeof agents) => {
    const result = await agents[name].invoke(ask('weather in Paris'), { configurable: { thread_id: `t-${thread++}` } });
    const last = result.messages.at(-2);
    if (last?.content !== 'It is sunny in Paris.')
      throw new Error(`the '${name}' agent did not run get_weather: ${JSON.stringify(last?.content)}`);
  };
  // Each setup must really run the tool before it is timed.
  for (const name of ['none', 'langchain', 'hitl'] as const) await invoke(name);

  const perRound = await compareInterleaved(
    context,
    { none: () => invoke('none'), langchain: () => invoke('langchain'), hitl: () => invoke('hitl') },
    { rounds: 7, iterations: 200, warmup: 30 },
  );
  await manager.close();
  const none = perRound.none!;
  const langchain = perRound.langchain!;
  const hitl = perRound.hitl!;
  const langchainAdded = median(langchain.map((stat, round) => stat.medianUs - none[round]!.medianUs));
  const hitlAdded = median(hitl.map((stat, round) => stat.medianUs - none[round]!.medianUs));
  const invokeRatio = median(langchain.map((stat, round) => stat.medianUs / hitl[round]!.medianUs));
  const noneMedian = median(none.map((stat) => stat.medianUs));
  const langchainMedian = median(langchain.map((stat) => stat.medianUs));
  const hitlMedian = median(hitl.map((stat) => stat.medianUs));
  const hitlText = hitlAdded <= 0 ? `${formatMs(hitlAdded)} (within noise)` : `+${formatMs(hitlAdded)}`;
  return [
    {
      row: 'peer: auto-approved tool call in createAgent',
      measured: `hitl approvalMiddleware: ${formatMs(hitlMedian)} per invoke, ${hitlText} vs none`,
      baseline: `no middleware ${formatMs(noneMedian)}; LangChain humanInTheLoopMiddleware + MemorySaver ${formatMs(langchainMedian)}, +${formatMs(langchainAdded)} (${versions.text})`,
      result: `LangChain HITL adds ${formatMs(langchainAdded)} per invoke, hitl ${hitlText}; hitl's invoke ${formatNumber(invokeRatio, 2)}x faster`,
      target: 'hitl adds less than LangChain HITL',
      pass: hitlAdded < langchainAdded,
      figures: {
        noneMedianUs: noneMedian,
        langchainMedianUs: langchainMedian,
        hitlMedianUs: hitlMedian,
        langchainAddedUs: langchainAdded,
        hitlAddedUs: hitlAdded,
        langchainOverHitlInvoke: invokeRatio,
        rounds: none.length,
      },
      versions: versions.record,
    },
  ];
}
