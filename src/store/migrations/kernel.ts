// Kernel-layer additions after the first release of the kernel tables: versions 40-49 (see ../migrations.ts).
import type { Migration } from '../migrations.ts';

export const KERNEL_MIGRATIONS: readonly Migration[] = [
  {
    version: 40,
    description: 'exec working directory, process start and container; who accepted a connection',
    sql: `
ALTER TABLE process_exec ADD COLUMN cwd TEXT;
ALTER TABLE process_exec ADD COLUMN process_start_time INTEGER;
ALTER TABLE process_exec ADD COLUMN container_id TEXT;
ALTER TABLE process_exec ADD COLUMN degraded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE process_exec ADD COLUMN executable_mtime INTEGER;
ALTER TABLE network_connections ADD COLUMN container_id TEXT;
ALTER TABLE network_connections ADD COLUMN attribution TEXT NOT NULL DEFAULT 'process';
`,
  },
];
