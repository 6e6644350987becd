import { parsePostgresUrl, type PostgresUrl } from '../../util/postgres-url.ts';

/**
 * Where a PostgreSQL warehouse is, read from its URL (`warehouse.url` in sluice.yaml or
 * `SLUICE_WAREHOUSE_URL`) without connecting: checked, described without its password, and turned
 * into client settings (what every PostgreSQL URL shares is read in util/postgres-url.ts). Besides
 * what the client understands the URL takes Sluice's own settings: `datasets_schema` (where the
 * relations readers query live, default `public`) and `connect_timeout` (seconds, as in libpq;
 * default 10). `{env}` anywhere in the URL is replaced by the environment's name, so one setting
 * gives each environment a database of its own.
 */
export interface PostgresWarehouseLocation extends PostgresUrl {
  readonly datasetsSchema: string;
  /** The URL as the client takes it (Sluice's own parameters removed). */
  readonly connectionString: string;
}

const FORM = 'postgres://user[:password]@host[:port]/database[?datasets_schema=public]';

export function parseWarehouseLocation(url: string, setting: string, environment?: string): PostgresWarehouseLocation {
  const text = environment === undefined ? url : url.replaceAll('{env}', environment);
  const { own, clientUrl, ...where } = parsePostgresUrl(text, setting, FORM, (p) => p.schema('datasets_schema', 'public'));
  return { ...where, datasetsSchema: own, connectionString: clientUrl.toString() };
}
