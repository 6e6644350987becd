import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL server for tests: a fresh cluster in a temp folder, listening on
 * 127.0.0.1 only, on a free port, stopped and deleted by `stop()`. PostgreSQL refuses to run as
 * root, so as root the server runs as the `postgres` OS user that Debian's package creates.
 */
export interface TestPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

export interface TestPostgresOptions {
  /**
   * A login role that must give its password (scram-sha-256 for it alone; every other role is
   * trusted), to test wrong credentials. Only on a server this module starts.
   */
  readonly passwordRole?: { readonly name: string; readonly password: string };
}

export function postgresBinDir(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  return undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (process.env['SLUICE_PG_URL']) return undefined;
  if (!postgresBinDir()) return 'PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The last resort when pg_ctl cannot stop a server: SIGKILL to the postmaster named in its pid file. */
function killPostmaster(data: string): void {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file: the server is not running.
  }
}

export async function startPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const given = process.env['SLUICE_PG_URL'];
  if (given) {
    if (options.passwordRole) throw new Error('a password role needs a server started by the test (SLUICE_PG_URL is set)');
    return { url: given, stop: async () => undefined };
  }
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  if (asRoot) {
    const pwd = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const grp = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(pwd), Number(grp));
  }
  const [initCmd, initArgs] = wrap(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'sluice', '-E', 'UTF8', '--locale=C', '--no-sync']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  if (options.passwordRole) {
    // First match wins in pg_hba.conf: this role alone must give its password.
    const hba = join(data, 'pg_hba.conf');
    writeFileSync(hba, `host all ${options.passwordRole.name} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
  }
  const port = await freePort();
  const [pgCmd, pgArgs] = wrap(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  const server: ChildProcess = spawn(pgCmd, pgArgs, { stdio: 'ignore' });
  const url = `postgresql://sluice@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline || server.exitCode !== null) {
        killPostmaster(data);
        server.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error('PostgreSQL did not start within 30 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (options.passwordRole) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE ROLE ${options.passwordRole.name} LOGIN PASSWORD '${options.passwordRole.password.replaceAll("'", "''")}'`);
    await c.end();
  }
  return {
    url,
    async stop() {
      const exited = new Promise<void>((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', () => resolve())));
      // pg_ctl signals the postmaster itself (by its pid file): as root the child is runuser,
      // which does not pass a signal on, so killing it left the server running.
      const [stopCmd, stopArgs] = wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '10']);
      try {
        execFileSync(stopCmd, stopArgs, { stdio: 'ignore' });
      } catch {
        killPostmaster(data);
      }
      // The fallback timer must not keep the test process alive once the server has exited.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (server.exitCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
