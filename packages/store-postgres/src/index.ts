// The public entry of @hitl/store-postgres.
export { createPostgresStore } from './postgres-store.js';
export type { PostgresStore, PostgresStoreOptions, PostgresStoreSettings } from './postgres-store.js';
export type { ReconnectOptions } from './listen-connection.js';
