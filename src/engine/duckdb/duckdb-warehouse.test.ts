import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../../app/adapters.ts';
import type { WarehouseSettings } from '../../config/project-model.ts';
import { runWarehouseContract } from '../warehouse.contract.ts';
import type { Warehouse } from '../warehouse.ts';

runWarehouseContract({
  name: 'duckdb',
  open: async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-wh-'));
    const settings: WarehouseSettings = { kind: 'duckdb', pathTemplate: 'wh-{env}.duckdb', memoryLimit: '1GB' };
    let current: Warehouse = await openWarehouse({ root }, settings, 'dev');
    return {
      get warehouse() {
        return current;
      },
      dir: join(root, 'files'),
      async reopen() {
        await current.close();
        current = await openWarehouse({ root }, settings, 'dev');
        return current;
      },
      async cleanup() {
        await current.close();
        rmSync(root, { recursive: true, force: true });
      },
      republishLoop: (a, b) => ({ command: process.execPath, args: ['--import', 'tsx', join(import.meta.dirname, '../../../test/fixtures/warehouse-republish-loop.ts'), root, JSON.stringify(settings), a, b] }),
    };
  },
});
