/** `@hitl/cli`: policy files as code (parse, load, watch) and the error that points into them. */
export { loadPolicies, loadPolicyFile, parsePolicies, parsePolicyFile, MAX_POLICY_FILE_LENGTH } from './policy-file.js';
export type { FilePolicy, ParsePolicyOptions, PolicyCase, PolicyFile } from './policy-file.js';
export { PolicyFileError } from './policy-file-error.js';
export type { SourcePosition } from './policy-file-error.js';
export { watchPolicies } from './watch-policies.js';
export type { PolicyWatcher, WatchPoliciesOptions } from './watch-policies.js';
