/** The `hitl` command's help texts: the program's and each command's, with examples. */

const EXIT_CODES = `Exit codes:
  0  done: the file is valid and every case passed; explain and replay ran
  1  a test case failed (check), or records would change (replay --fail-on-change)
  2  usage error, or the policy file is missing or invalid (the message names file:line:column)
  3  the database could not be read (replay)`;

export const PROGRAM_HELP = `hitl: policies as code for hitl approval policies.

Usage:
  hitl <command> FILE [options]

Commands:
  check FILE      validate a policy file and run its test cases
  explain FILE    show how the file's policies decide one call, and why
  replay FILE     re-evaluate stored requests (PostgreSQL, read-only) and show what would change

Options for every command:
  --json          print the result as JSON on stdout
  -h, --help      show help (hitl <command> --help for a command's)
  -v, --version   print the version

Examples:
  hitl check policies.yaml
  hitl explain policies.yaml --tool refund_payment --input '{"amount":80}' --risk irreversible
  hitl replay policies.yaml --database-url postgres://localhost/app --since 7d

${EXIT_CODES}`;

export const CHECK_HELP = `hitl check FILE [--json]

Validates FILE (YAML or JSON; .json is read as strict JSON) against the policy file schema and
the policy engine's own checks, then runs each test case under "cases:" through the same engine
createManager uses. A case passes when the outcome (and the policy, when the case names one)
is the one expected; each failure prints the expected and the actual decision with its reason.

A case:
  - call: { tool: get_user, input: { id: 7 }, confidence: 0.9, risk: read_only, threadId: t1 }
    expect: approve          # approve | review | deny
    policy: read-only-auto   # optional

Options:
  --json       the cases and their results as JSON
  -h, --help   this help

Examples:
  hitl check policies.yaml
  hitl check policies.json --json | jq '.cases[] | select(.passed | not)'

${EXIT_CODES}`;

export const EXPLAIN_HELP = `hitl explain FILE --tool NAME [--input JSON] [--confidence N] [--risk LEVEL] [--thread ID] [--json]

Shows the outcome for one call under FILE's policies, the policy that decides and why (which
rule: deny, requireExplicit, the confidence or risk threshold, the condition), which grants
(remembered decisions) could decide the call first (none under a deny policy, only deny grants
under "grants: false"), and for each earlier policy why it did not apply (its toolPattern did
not match, or its "when" was false).

Options:
  --tool NAME         the tool name (required)
  --input JSON        the call's arguments, a JSON object (default {})
  --confidence N      the model's confidence, 0..1 (default 0, as when a request has none)
  --risk LEVEL        read_only | data_modification | irreversible (default irreversible)
  --thread ID         the call's threadId, for conditions that read it
  --json              the explanation as JSON
  -h, --help          this help

Examples:
  hitl explain policies.yaml --tool get_user --confidence 0.95 --risk read_only
  hitl explain policies.yaml --tool refund_payment --input '{"amount":80}' --confidence 0.9 --risk irreversible

${EXIT_CODES}`;

export const REPLAY_HELP = `hitl replay FILE [--database-url URL] [--schema S] [--table T] [--since WHEN] [--limit N] [--fail-on-change] [--json]

Reads stored requests from a @hitl/store-postgres table in a READ ONLY transaction (nothing is
ever written), re-evaluates each one under FILE's policies, and prints what would change, with
counts. Newest first. Columns: ID, TOOL, CREATED, STORED, UNDER THE FILE, CHANGE ("outcome":
approve -> review, review -> deny, ...; "policy": the same outcome decided by another policy or
grant) and, when a grant no longer decides a request, WHY.

A request a grant (remembered decision) decided is replayed with that grant, assumed still in
force, in the manager's order: a deny policy first ("denied by policy X"), then the grant, unless
the deciding policy says grants: false ("policy X refuses grants") or needs several approvals
(the grant is one of them).

Options:
  --database-url URL  PostgreSQL connection string (default: the DATABASE_URL environment variable)
  --schema S          the store's schema (default public)
  --table T           the store's table (default hitl_requests)
  --since WHEN        only requests created since WHEN: an ISO 8601 time, or a duration back
                      from now: 90s, 30m, 24h, 7d
  --limit N           at most N requests, 1..100000 (default 1000)
  --fail-on-change    exit 1 when any request would change (its outcome or its deciding policy)
  --json              the comparison as JSON
  -h, --help          this help

Examples:
  hitl replay policies.yaml --database-url postgres://localhost/app --since 24h
  DATABASE_URL=postgres://localhost/app hitl replay policies.yaml --schema hitl --limit 500 --fail-on-change

${EXIT_CODES}`;
