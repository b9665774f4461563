// Memory row: heap held per pending request (100,000 with a 200-byte input), the inputs' own cost subtracted.
import { createManager } from '@hitl/core';
import { formatNumber, settledHeap, type BenchContext, type Row } from '../harness.js';

function inputOf(index: number): Record<string, unknown> {
  const input = { user_id: `user-${String(index).padStart(8, '0')}`, reason: '', requested_by: 'support-agent' };
  input.reason = 'x'.repeat(200 - JSON.stringify(input).length);
  return input;
}

/**
 * Heap held by 100,000 pending requests with a 200-byte input each, against an empty manager; the
 * inputs' own cost (the same 100,000 inputs held in an array) is reported and subtracted.
 */
export async function memoryPerRequest(context: BenchContext): Promise<Row[]> {
  const count = context.smoke ? 2_000 : 100_000;
  if (JSON.stringify(inputOf(1)).length !== 200) throw new Error('the input should be 200 bytes of JSON');

  const beforeInputs = await settledHeap();
  const inputs = Array.from({ length: count }, (_, index) => inputOf(index));
  const inputsHeap = (await settledHeap()) - beforeInputs;
  const inputBytes = inputsHeap / count;
  inputs.length = 0;

  const manager = createManager({
    timeoutMs: 3_600_000,
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
  });
  const empty = await settledHeap();
  for (let index = 0; index < count; index++) {
    await manager.submit({
      toolName: 'delete_user',
      description: 'Delete a customer account',
      input: inputOf(index),
      riskLevel: 'irreversible',
      confidence: 0.85,
    });
  }
  const full = await settledHeap();
  const pending = (await manager.list({ status: 'pending', limit: 1 })).items.length;
  await manager.close();
  if (pending !== 1) throw new Error('the requests should be pending');

  const perRequest = (full - empty) / count;
  const beyond = perRequest - inputBytes;
  const totalMb = (full - empty) / 1024 / 1024;
  return [
    {
      row: 'memory per pending request',
      measured: `${formatNumber(perRequest, 0)} B each (${formatNumber(totalMb, 1)} MB for ${formatNumber(count, 0)})`,
      baseline: `empty manager; the input alone ${formatNumber(inputBytes, 0)} B`,
      result: `${formatNumber(beyond / 1024, 2)} kB beyond the input`,
      target: '≤ 1.5 kB each beyond the input; ≤ 150 MB for 100,000',
      pass: beyond <= 1536 && (context.smoke || totalMb <= 150),
      figures: { requests: count, bytesPerRequest: perRequest, inputBytes, bytesBeyondInput: beyond, totalMb },
    },
  ];
}
