import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runStoreContract } from '../store.contract.ts';
import { MIGRATIONS } from './sqlite-migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

runStoreContract({
  name: 'sqlite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    const path = join(dir, 'sluice.db');
    let current = await SqliteStore.open(path);
    return {
      get store() {
        return current;
      },
      async reopen() {
        await current.close();
        current = await SqliteStore.open(path);
        return current;
      },
      async tamper(sql: string) {
        // Another writer, on its own connection, as anyone with write access to the file.
        const db = new Database(path);
        db.exec(sql);
        db.close();
      },
      async cleanup() {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe('sqlite store', () => {
  test('refuses a store whose schema is newer than this Sluice, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    try {
      const path = join(dir, 'sluice.db');
      await (await SqliteStore.open(path)).close();
      const db = new Database(path);
      db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
      db.close();
      await assert.rejects(SqliteStore.open(path), (e: Error) => e.message.includes(path) && /newer than this Sluice/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
