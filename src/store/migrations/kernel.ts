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
  {
    version: 41,
    description: 'exec ancestry chains stored once each (process_exec becomes a view over process_exec_rows)',
    // An exec row carried its whole ancestry as JSON (~350 bytes, 80 % of the row), the same text
    // for every child of one parent: at 2,000 execs a second, writing it again and again cost about
    // an eighth of the agent's CPU (measured by storing none), and 4.7x the bytes. Chains now live once in process_ancestry; process_exec is a view
    // with the same columns as before, so rules, queries and the center see no change. Writers that
    // insert into the view (rule fixtures, tests) go through its INSTEAD OF trigger; the kernel
    // writer inserts rows and chain ids directly (src/store/ancestry-chains.ts).
    sql: `
CREATE TABLE process_ancestry (
  id           INTEGER PRIMARY KEY,
  chain        TEXT NOT NULL UNIQUE,
  last_exec_id INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE process_exec RENAME TO process_exec_rows;
ALTER TABLE process_exec_rows ADD COLUMN ancestry_id INTEGER;
CREATE VIEW process_exec AS
  SELECT e.id, e.time, e.ktime_ns, e.pid, e.tid, e.ppid, e.user_id, e.group_id, e.effective_user_id, e.cgroup_id, e.comm, e.filename, e.argv, e.command_line, e.args_truncated, coalesce(a.chain, e.ancestry) AS ancestry, e.cwd, e.process_start_time, e.container_id, e.degraded, e.executable_mtime
  FROM process_exec_rows e LEFT JOIN process_ancestry a ON a.id = e.ancestry_id;
CREATE TRIGGER process_exec_insert INSTEAD OF INSERT ON process_exec BEGIN
  INSERT OR IGNORE INTO process_ancestry (chain) SELECT NEW.ancestry WHERE NEW.ancestry IS NOT NULL;
  INSERT INTO process_exec_rows (id, time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id, cgroup_id, comm, filename, argv, command_line, args_truncated, cwd, process_start_time, container_id, degraded, executable_mtime, ancestry_id)
  VALUES (NEW.id, NEW.time, NEW.ktime_ns, NEW.pid, NEW.tid, NEW.ppid, NEW.user_id, NEW.group_id, NEW.effective_user_id, NEW.cgroup_id, NEW.comm, NEW.filename, NEW.argv, NEW.command_line, coalesce(NEW.args_truncated, 0), NEW.cwd, NEW.process_start_time, NEW.container_id, coalesce(NEW.degraded, 0), NEW.executable_mtime, (SELECT id FROM process_ancestry WHERE chain = NEW.ancestry));
  UPDATE process_ancestry SET last_exec_id = max(last_exec_id, last_insert_rowid()) WHERE chain = NEW.ancestry;
END;
CREATE TRIGGER process_exec_delete INSTEAD OF DELETE ON process_exec BEGIN
  DELETE FROM process_exec_rows WHERE id = OLD.id;
END;
`,
  },
];
