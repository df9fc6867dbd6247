-- 1: settings, dataset versions, runs and run metrics
create table "settings" ("key" text primary key, "value" text not null);
create table "dataset_versions" ("seq" integer primary key autoincrement, "id" text not null unique, "name" text not null, "hash" text not null, "parent_id" text references "dataset_versions" ("id"), "operation" text not null, "example_count" integer not null, "split_counts" text not null, "blob" text not null, "created_at" text not null, constraint "dataset_versions_name_hash_unique" unique ("name", "hash"));
create table "runs" ("seq" integer primary key autoincrement, "id" text not null unique, "kind" text not null, "name" text, "status" text not null, "config" text not null, "dataset_versions" text not null, "seed" bigint, "metrics" text not null, "tags" text not null, "error" text, "started_at" text not null, "ended_at" text);
create table "run_metrics" ("run_id" text not null references "runs" ("id"), "key" text not null, "step" integer not null, "value" double precision not null, constraint "run_metrics_pk" primary key ("run_id", "key", "step"));

-- 2: indexes for listing versions and runs
create index "dataset_versions_name_seq" on "dataset_versions" ("name", "seq");
create index "runs_kind_seq" on "runs" ("kind", "seq");
create index "runs_status_seq" on "runs" ("status", "seq");

-- 3: studies, notes, provenance and run artifacts
alter table "runs" add column "parent_id" text;
alter table "runs" add column "notes" text;
alter table "runs" add column "provenance" text default '{}' not null;
create index "runs_parent_seq" on "runs" ("parent_id", "seq");
create table "run_artifacts" ("run_id" text not null references "runs" ("id"), "name" text not null, "hash" text not null, "size" bigint not null, constraint "run_artifacts_pk" primary key ("run_id", "name"));
create index "run_artifacts_hash" on "run_artifacts" ("hash");
create index "dataset_versions_blob" on "dataset_versions" ("blob");

