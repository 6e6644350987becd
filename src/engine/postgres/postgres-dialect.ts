import { type SqlDialect, standardDialect } from '../sql-dialect.ts';

/** PostgreSQL speaks the standard dialect; its adapter adds capabilities here as they are built. */
export const postgresDialect: SqlDialect = { ...standardDialect };
