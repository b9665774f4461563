// What every durable-resume agent process does with its MODE: pause one run and stay up until
// killed, pause COUNT runs and exit, or run a resumer until SIGTERM. Events are JSON lines on stdout.
import process from 'node:process';
import { setInterval } from 'node:timers';

export const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

/**
 * @param {{ pause(index: number): Promise<void>, createResumer(onResumed: (run: { threadId: string, requestIds: string[], claim: { attempt: number } }) => void): { start(): Promise<void>, close(): Promise<void>, owner: string }, close(): Promise<void> }} agent
 */
export async function runMode(agent) {
  const { MODE, FIRST = '0', COUNT = '1' } = process.env;
  if (MODE === 'pause') {
    await agent.pause(Number(FIRST));
    // Stay up, paused, until the test kills this process.
    setInterval(() => undefined, 60_000);
  } else if (MODE === 'pause-many') {
    const first = Number(FIRST);
    const indexes = Array.from({ length: Number(COUNT) }, (_, offset) => first + offset);
    for (let start = 0; start < indexes.length; start += 8)
      await Promise.all(indexes.slice(start, start + 8).map((index) => agent.pause(index)));
    say({ done: true });
    await agent.close();
  } else if (MODE === 'resumer') {
    const resumer = agent.createResumer(({ threadId, requestIds, claim }) =>
      say({ resumed: threadId, requestIds, attempt: claim.attempt }),
    );
    await resumer.start();
    say({ ready: true, owner: resumer.owner });
    process.on('SIGTERM', () => {
      void (async () => {
        await resumer.close();
        await agent.close();
        process.exit(0);
      })();
    });
  } else {
    throw new Error(`unknown MODE ${MODE}`);
  }
}
