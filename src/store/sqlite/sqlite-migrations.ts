/** The SQLite store's schema, one migration per entry; `PRAGMA user_version` counts those applied. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, partition TEXT NOT NULL, environment TEXT NOT NULL,
     status TEXT NOT NULL, actor TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, error TEXT,
     artifacts TEXT NOT NULL, flags TEXT NOT NULL, engine TEXT NOT NULL, published TEXT NOT NULL DEFAULT '[]',
     pid INTEGER NOT NULL, host TEXT NOT NULL);
   CREATE INDEX runs_by_pipeline ON runs(pipeline, environment, partition);
   CREATE TABLE step_runs (
     run_id INTEGER NOT NULL REFERENCES runs(id), step TEXT NOT NULL, version TEXT NOT NULL, version_hash TEXT NOT NULL,
     output_version_id TEXT, rows_in INTEGER NOT NULL, rows_out INTEGER NOT NULL, duration_ms REAL NOT NULL,
     status TEXT NOT NULL, error TEXT, PRIMARY KEY (run_id, step));
   CREATE TABLE freshness (
     environment TEXT NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, newest_event_time TEXT,
     run_id INTEGER NOT NULL, measured_at TEXT NOT NULL, PRIMARY KEY (environment, dataset, partition));
   CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
     reason TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `CREATE TABLE flag_revisions (
     environment TEXT NOT NULL, flag TEXT NOT NULL, revision INTEGER NOT NULL, state TEXT NOT NULL,
     actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (environment, flag, revision));
   CREATE TABLE check_results (
     run_id INTEGER NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, version_id TEXT NOT NULL,
     results TEXT NOT NULL, PRIMARY KEY (run_id, dataset, version_id));
   CREATE TABLE profiles (
     environment TEXT NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, run_id INTEGER NOT NULL,
     version_id TEXT NOT NULL, at TEXT NOT NULL, profile TEXT NOT NULL, PRIMARY KEY (environment, dataset, version_id));
   CREATE INDEX profiles_by_dataset ON profiles(environment, dataset, at);
   CREATE TABLE rollouts (
     name TEXT PRIMARY KEY, plan TEXT NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE rollout_transitions (
     rollout TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, transition TEXT NOT NULL, PRIMARY KEY (rollout, seq));`,
  // Rollouts are kept per attempt: a plan may be started again after it ended. Existing rollouts
  // become attempt 1, whose id is the plan's name (the id their log entries already use).
  `CREATE TABLE rollout_attempts (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, attempt INTEGER NOT NULL, plan TEXT NOT NULL, state TEXT NOT NULL,
     updated_at TEXT NOT NULL, UNIQUE (name, attempt));
   INSERT INTO rollout_attempts SELECT name, name, 1, plan, json_set(state, '$.state.id', name), updated_at FROM rollouts;
   DROP TABLE rollouts;`,
  // Audit entries say how they are hashed: keyed (hmac-sha256) from now on, plain sha256 before.
  `ALTER TABLE audit_log ADD COLUMN alg TEXT NOT NULL DEFAULT 'sha256';`,
  // Work that spans the warehouse and the store records its intent first, with an owner and a
  // lease; a later command finishes or undoes it when the owner is gone. Runs carry their lease.
  `CREATE TABLE intents (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, environment TEXT NOT NULL, owner TEXT NOT NULL,
     lease_until TEXT NOT NULL, payload TEXT NOT NULL, opened_at TEXT NOT NULL);
   ALTER TABLE runs ADD COLUMN lease_until TEXT;
   ALTER TABLE rollout_attempts ADD COLUMN pending_owner TEXT;
   ALTER TABLE rollout_attempts ADD COLUMN pending_lease_until TEXT;`,
  // Runs waiting for a worker; token counts claims (the fencing token of the latest one).
  `CREATE TABLE run_queue (
     id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, partition TEXT NOT NULL, environment TEXT NOT NULL,
     actor TEXT NOT NULL, select_steps TEXT, batch TEXT NOT NULL, enqueued_at TEXT NOT NULL, state TEXT NOT NULL,
     token INTEGER NOT NULL DEFAULT 0, worker TEXT, lease_until TEXT, run_id INTEGER, error TEXT, finished_at TEXT);
   CREATE INDEX run_queue_waiting ON run_queue(state, id);`,
];
