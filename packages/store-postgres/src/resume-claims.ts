/** The PostgreSQL store's resume claims: claimResume, renewResume, completeResume and listUnresumed on the claims table of migration 6. */
import type { ApprovalStore, ResumeClaim, UnresumedPage, UnresumedQuery } from '@hitl/core';
import { invalidInput, normalizeUnresumedQuery, validateResumeClaimArguments } from '@hitl/core/internal';
import { rowToStored } from './records.js';
import type { RecordRow } from './records.js';
import { buildResumeClaimSql } from './resume-claim-sql.js';
import type { StatementRunner } from './statement-runner.js';

const cursorPattern = /^r(0|[1-9][0-9]{0,18})$/;

type ResumeClaimMethods = Required<Pick<ApprovalStore, 'claimResume' | 'renewResume' | 'completeResume' | 'listUnresumed'>>;
type ClaimRow = { request_id: string; owner: string; attempt: string; lease_ms: string };
const rowToClaim = (row: ClaimRow): ResumeClaim => ({
  requestId: row.request_id,
  owner: row.owner,
  attempt: Number(row.attempt),
  leaseExpiresAt: new Date(Number(row.lease_ms)).toISOString(),
});

export function createResumeClaims(options: {
  schema: string;
  table: string;
  tableName: string;
  run: StatementRunner['run'];
  ensureReady(): Promise<void>;
}): ResumeClaimMethods {
  const { run, ensureReady, tableName } = options;
  const sql = buildResumeClaimSql(options.schema, options.table);
  return {
    async claimResume(requestId: string, owner: string, leaseMs: number): Promise<ResumeClaim | undefined> {
      validateResumeClaimArguments(requestId, owner, leaseMs);
      await ensureReady();
      const [row] = await run<ClaimRow>('claim a resume', sql.claim, [requestId, owner, leaseMs]);
      return row ? rowToClaim(row) : undefined;
    },

    async renewResume(requestId: string, owner: string, leaseMs: number): Promise<ResumeClaim | undefined> {
      validateResumeClaimArguments(requestId, owner, leaseMs);
      await ensureReady();
      const [row] = await run<ClaimRow>('renew a resume claim', sql.renew, [requestId, owner, leaseMs]);
      return row ? rowToClaim(row) : undefined;
    },

    async completeResume(requestId: string, owner: string): Promise<boolean> {
      validateResumeClaimArguments(requestId, owner);
      await ensureReady();
      const rows = await run('complete a resume', sql.complete, [requestId, owner]);
      return rows.length === 1;
    },

    async listUnresumed(query: UnresumedQuery): Promise<UnresumedPage> {
      const { resumeWith, limit, cursor } = normalizeUnresumedQuery(query);
      let after = '0';
      if (cursor !== undefined) {
        const match = cursorPattern.exec(cursor);
        if (!match) throw invalidInput('cursor', cursor, 'is not a cursor returned by listUnresumed');
        after = match[1] as string;
      }
      await ensureReady();
      const rows = await run<RecordRow>('list unresumed requests', sql.unresumed, [resumeWith, after, limit + 1]);
      const page = rows.slice(0, limit).map((row) => rowToStored(row, tableName));
      const result: UnresumedPage = { items: page.map((stored) => stored.record) };
      const last = page.at(-1);
      if (rows.length > limit && last) result.nextCursor = `r${last.changeSeq}`;
      return result;
    },
  };
}
