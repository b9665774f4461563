/**
 * Signed one-click decision links: tokens for a reviewer and a request, and the router that confirms them.
 * Over 300 lines because signing, verifying and the confirming router share one closure over the key and base URL.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { HitlError, type ApprovalRecord, type Manager } from '@hitl/core';
import { invalidInput, isPlainObject } from '@hitl/core/internal';
import express, { type Request, type Response, type Router } from 'express';
import { jwtVerify } from 'jose';
import { pageSecurity, renderConfirmPage, renderMessagePage } from './decision-page.js';
import type { ReviewAction, Reviewer } from './review-router.js';

/**
 * Options of {@link createDecisionLinks}.
 *
 * @example
 * ```ts
 * const options: DecisionLinksOptions = { secret: process.env.HITL_LINK_SECRET!, baseUrl: 'https://agents.example.com/hitl/decide', ttlMs: 3_600_000 };
 * ```
 */
export interface DecisionLinksOptions {
  /** The HMAC key the tokens are signed with: at least 32 bytes (a string is taken as UTF-8). */
  secret: string | Uint8Array;
  /** Where `router()` is mounted, as reviewers reach it: links are `<baseUrl>/<token>`. */
  baseUrl: string | URL;
  /** How long a link works; never past the request's own expiry. Default 24 hours. */
  ttlMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * Remembers which tokens were used, so each works once. The default is in memory, per process;
 * pass a shared one (Redis `SET NX PX`, a table with a unique key) when several instances serve links.
 *
 * @example
 * ```ts
 * const usedTokens: UsedTokenStore = { use: async (id, expiresAtMs) => (await redis.set(`hitl:link:${id}`, '1', { NX: true, PXAT: expiresAtMs })) === 'OK' };
 * ```
 */
export interface UsedTokenStore {
  /** Marks the token id used; `true` if it was unused until now. */
  use(tokenId: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/**
 * Options of {@link DecisionLinks.router}.
 *
 * @example
 * ```ts
 * const options: DecisionLinksRouterOptions = { manager, authorize: (reviewer, record) => record.request.requestedBy !== reviewer.id };
 * ```
 */
export interface DecisionLinksRouterOptions {
  manager: Manager;
  /** Whether the link's reviewer may still see / take this decision (checked on every GET and POST). Default: yes. */
  authorize?: (reviewer: Reviewer, record: ApprovalRecord, action: ReviewAction) => boolean | Promise<boolean>;
  /** Where used token ids are remembered. Default: in memory. */
  usedTokens?: UsedTokenStore;
}

/**
 * The three links of one reviewer for one request.
 *
 * @example
 * ```ts
 * const { approve, reject, view }: ReviewerLinks = decisionLinks.links(record, 'alice@example.com');
 * ```
 */
export interface ReviewerLinks {
  /** Opens a page to confirm approving. */
  approve: string;
  /** Opens a page to confirm rejecting (with an optional reason). */
  reject: string;
  /** Opens a page with both choices. */
  view: string;
}

/**
 * What {@link createDecisionLinks} returns.
 *
 * @example
 * ```ts
 * const decisionLinks: DecisionLinks = createDecisionLinks({ secret, baseUrl: 'https://agents.example.com/hitl/decide' });
 * app.use('/hitl/decide', decisionLinks.router({ manager }));
 * ```
 */
export interface DecisionLinks {
  /** Signed links for `reviewerId` to decide `record` (a pending record with its `inputHash`). */
  links(record: ApprovalRecord, reviewerId: string): ReviewerLinks;
  /** The Express router serving the links; mount it at `baseUrl`'s path. */
  router(options: DecisionLinksRouterOptions): Router;
}

type LinkKind = 'approve' | 'reject' | 'view';

interface LinkClaims {
  sub: string;
  rid: string;
  ih: string;
  dec: LinkKind;
  jti: string;
  exp: number;
}

const ISSUER = 'hitl';
const AUDIENCE = 'hitl-decision-link';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function createMemoryUsedTokens(): UsedTokenStore {
  const used = new Map<string, number>();
  return {
    use(tokenId, expiresAtMs) {
      const nowMs = Date.now();
      for (const [id, until] of used) if (until < nowMs) used.delete(id);
      if (used.has(tokenId)) return false;
      used.set(tokenId, expiresAtMs);
      return true;
    },
  };
}

class LinkFailure extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly record?: ApprovalRecord,
  ) {
    super(message);
  }
}

/**
 * Signed, single-use decision links for email or any chat: per reviewer and request, an approve, a
 * reject and a view URL. Each token is a compact JWS (HS256; verified with `jose`) binding the
 * request id, its input hash, the reviewer, the decision and an expiry. Opening a link (GET) only
 * shows a confirmation page — mail scanners and link previews prefetch URLs — and the page's
 * button POSTs the token back to decide. A token is refused once used, when the request's input
 * changed, when it expired, or when `authorize` says no.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createDecisionLinks } from '@hitl/express';
 * import express from 'express';
 *
 * const manager = createManager();
 * const decisionLinks = createDecisionLinks({ secret: 'a-secret-of-at-least-32-bytes-long!!', baseUrl: 'http://localhost:3000/hitl/decide' });
 * const app = express();
 * app.use('/hitl/decide', decisionLinks.router({ manager }));
 *
 * const record = await manager.submit({ toolName: 'delete_user', input: { id: 7 } });
 * console.log(decisionLinks.links(record, 'alice@example.com').approve);
 * manager.close();
 * ```
 */
export function createDecisionLinks(options: DecisionLinksOptions): DecisionLinks {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { secret, baseUrl, ttlMs = 24 * 60 * 60_000, now = Date.now } = options;
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(key instanceof Uint8Array) || key.byteLength < 32)
    throw invalidInput('secret', '(hidden)', 'must be a string or bytes of at least 32 bytes');
  if (!(typeof ttlMs === 'number' && ttlMs > 0 && Number.isFinite(ttlMs)))
    throw invalidInput('ttlMs', ttlMs, 'must be a positive finite number of milliseconds');
  let base: URL;
  try {
    base = new URL(baseUrl instanceof URL ? baseUrl.href : String(baseUrl));
  } catch {
    throw invalidInput('baseUrl', baseUrl, 'must be an absolute http(s) URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw invalidInput('baseUrl', baseUrl, 'must be an absolute http(s) URL');
  const basePath = base.pathname.replace(/\/+$/, '');
  const prefix = `${base.origin}${basePath}/`;

  // Signing is synchronous (the contract returns strings) with node:crypto's HMAC; the token is a
  // standard compact JWS, and verification — algorithm pinning, constant-time compare, expiry,
  // audience — is jose's.
  const sign = (claims: LinkClaims): string => {
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, iat: Math.floor(now() / 1000), ...claims }));
    const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  };

  const links = (record: ApprovalRecord, reviewerId: string): ReviewerLinks => {
    if (!isPlainObject(record) || typeof record.request?.id !== 'string' || typeof record.inputHash !== 'string') {
      throw invalidInput('record', record, 'must be an ApprovalRecord (from submit or get)');
    }
    if (typeof reviewerId !== 'string' || reviewerId.trim() === '')
      throw invalidInput('reviewerId', reviewerId, 'must be a non-empty reviewer id');
    const expiresAtMs = Math.min(now() + ttlMs, record.expiresAt === undefined ? Infinity : Date.parse(record.expiresAt));
    const exp = Math.floor(expiresAtMs / 1000);
    const make = (dec: LinkKind) =>
      `${prefix}${sign({ sub: reviewerId, rid: record.request.id, ih: record.inputHash, dec, jti: randomUUID(), exp })}`;
    return { approve: make('approve'), reject: make('reject'), view: make('view') };
  };

  const verify = async (token: unknown): Promise<LinkClaims> => {
    if (typeof token !== 'string' || token.length > 4_096) throw new LinkFailure(400, 'Invalid link', 'This link is malformed.');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'jti', 'sub'],
      });
      const claims = payload as Partial<LinkClaims>;
      if (
        typeof claims.rid !== 'string' ||
        typeof claims.ih !== 'string' ||
        (claims.dec !== 'approve' && claims.dec !== 'reject' && claims.dec !== 'view')
      ) {
        throw new Error('missing claims');
      }
      return claims as LinkClaims;
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw new LinkFailure(
        401,
        expired ? 'Link expired' : 'Invalid link',
        expired ? 'This link has expired. Open the request in the dashboard instead.' : 'This link is not valid.',
      );
    }
  };

  const router = ({ manager, authorize, usedTokens = createMemoryUsedTokens() }: DecisionLinksRouterOptions): Router => {
    if (typeof manager?.respond !== 'function') throw invalidInput('manager', manager, 'must be a hitl Manager');
    if (authorize !== undefined && typeof authorize !== 'function')
      throw invalidInput('authorize', authorize, 'must be a function (reviewer, record, action) => boolean');

    const check = async (claims: LinkClaims, action: ReviewAction): Promise<ApprovalRecord> => {
      const record = await manager.get(claims.rid);
      if (record === undefined) throw new LinkFailure(404, 'Request not found', 'This request no longer exists.');
      if (record.inputHash !== claims.ih)
        throw new LinkFailure(409, 'Request changed', "The request's input changed after this link was sent; this link cannot decide it.");
      if (authorize && (await authorize({ id: claims.sub }, record, action)) !== true) {
        throw new LinkFailure(403, 'Not allowed', `${claims.sub} may not ${action} this request.`);
      }
      if (record.status !== 'pending') throw decidedFailure(record);
      return record;
    };

    const send = (response: Response, status: number, render: (nonce: string) => string) => {
      const { nonce, csp } = pageSecurity();
      response
        .status(status)
        .set({
          'content-security-policy': csp,
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
          'x-content-type-options': 'nosniff',
          'x-robots-tag': 'noindex',
        })
        .type('html')
        .send(render(nonce));
    };
    const fail = (response: Response, error: unknown) => {
      if (error instanceof LinkFailure) {
        send(response, error.status, (nonce) =>
          renderMessagePage({ title: error.title, message: error.message, ...(error.record ? { record: error.record } : {}), nonce }),
        );
        return;
      }
      send(response, 500, (nonce) =>
        renderMessagePage({ title: 'Something went wrong', message: 'The decision could not be recorded. Try again.', nonce }),
      );
    };

    const linkRouter = express.Router();
    // GET shows; it never decides and never uses the token up (prefetchers open links).
    linkRouter.get('/:token', async (request: Request, response: Response) => {
      try {
        const token = request.params.token;
        const claims = await verify(token);
        const record = await check(claims, 'view');
        const decisions = claims.dec === 'view' ? (['approve', 'reject'] as const) : [claims.dec];
        send(response, 200, (nonce) => renderConfirmPage({ record, token: token as string, decisions, action: `${basePath}/`, nonce }));
      } catch (error) {
        fail(response, error);
      }
    });
    // The confirmation form posts the token in the body: no cookie is involved, so there is nothing to forge cross-site.
    linkRouter.post('/', express.urlencoded({ extended: false, limit: '16kb' }), async (request: Request, response: Response) => {
      try {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const claims = await verify(body.token);
        const decision = claims.dec === 'view' ? body.decision : claims.dec;
        if (decision !== 'approve' && decision !== 'reject') throw new LinkFailure(400, 'Invalid decision', 'Choose approve or reject.');
        if (claims.dec !== 'view' && body.decision !== undefined && body.decision !== claims.dec)
          throw new LinkFailure(400, 'Invalid decision', `This link can only ${claims.dec}.`);
        await check(claims, decision);
        if (!(await usedTokens.use(claims.jti, claims.exp * 1000)))
          throw new LinkFailure(409, 'Link already used', 'This link was already used; each link works once.');
        const feedback = typeof body.feedback === 'string' && body.feedback.trim() !== '' ? body.feedback.slice(0, 2_000) : undefined;
        let record: ApprovalRecord;
        try {
          record = await manager.respond(claims.rid, {
            decision,
            respondedBy: claims.sub,
            ...(feedback === undefined ? {} : { feedback }),
            metadata: { channel: 'decision-link' },
          });
        } catch (error) {
          if (HitlError.is(error, 'conflict')) {
            const current = await manager.get(claims.rid);
            // Still pending: this reviewer approved already (four eyes), and the error says so.
            if (current?.status === 'pending') throw new LinkFailure(409, 'Already approved', error.message, current);
            if (current !== undefined) throw decidedFailure(current);
          }
          if (HitlError.is(error, 'forbidden')) throw new LinkFailure(403, 'Not allowed', error.message);
          throw error;
        }
        const verb = decision === 'approve' ? 'Approved' : 'Rejected';
        // One approval of several: the request still waits for another approver, and the page says so.
        const message =
          record.status === 'pending'
            ? `Your approval is recorded, ${claims.sub}. The request still needs another approver before it runs. You can close this page.`
            : `${verb} by ${claims.sub}. You can close this page.`;
        send(response, 200, (nonce) => renderMessagePage({ title: verb, message, record, nonce }));
      } catch (error) {
        fail(response, error);
      }
    });
    return linkRouter;
  };

  return { links, router };
}

function decidedFailure(record: ApprovalRecord): LinkFailure {
  const by = record.response?.respondedBy ?? (record.response?.automatic ? 'a policy' : 'someone');
  const message =
    record.status === 'expired' || record.status === 'cancelled'
      ? `This request was ${record.status}.`
      : `Already decided by ${by}: ${record.status}.`;
  return new LinkFailure(409, 'Already decided', message, record);
}
