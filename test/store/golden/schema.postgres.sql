-- 1: settings, dataset versions, runs and run metrics
create table "settings" ("key" text primary key, "value" text not null);
create table "dataset_versions" ("seq" serial primary key, "id" text not null unique, "name" text not null, "hash" text not null, "parent_id" text references "dataset_versions" ("id"), "operation" text not null, "example_count" integer not null, "split_counts" text not null, "blob" text not null, "created_at" text not null, constraint "dataset_versions_name_hash_unique" unique ("name", "hash"));
create table "runs" ("seq" serial primary key, "id" text not null unique, "kind" text not null, "name" text, "status" text not null, "config" text not null, "dataset_versions" text not null, "seed" bigint, "metrics" text not null, "tags" text not null, "error" text, "started_at" text not null, "ended_at" text);
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

-- 4: model registry, tenants, overrides, prediction log and feedback
create table "tenants" ("id" text primary key, "rate_limit_per_minute" integer, "created_at" text not null);
insert into "tenants" ("id", "rate_limit_per_minute", "created_at") values ($1, $2, $3);
create table "api_keys" ("seq" serial primary key, "id" text not null unique, "tenant" text not null references "tenants" ("id"), "hash" text not null unique, "prefix" text not null, "scope" text not null, "label" text, "created_at" text not null, "revoked_at" text);
create index "api_keys_prefix" on "api_keys" ("prefix");
create index "api_keys_tenant_seq" on "api_keys" ("tenant", "seq");
create table "registered_models" ("tenant" text not null references "tenants" ("id"), "name" text not null, "task" text not null, "last_version" integer not null, "created_at" text not null, "updated_at" text not null, constraint "registered_models_pk" primary key ("tenant", "name"));
create table "model_versions" ("tenant" text not null, "name" text not null, "version" integer not null, "architecture" text not null, "task" text not null, "run_id" text, "source" text not null, "files" text not null, "config" text not null, "metrics" text not null, "dataset_versions" text not null, "description" text, "created_at" text not null, "created_by" text not null, constraint "model_versions_pk" primary key ("tenant", "name", "version"), constraint "model_versions_model_fk" foreign key ("tenant", "name") references "registered_models" ("tenant", "name"));
create table "model_aliases" ("tenant" text not null, "name" text not null, "alias" text not null, "version" integer not null, "updated_at" text not null, constraint "model_aliases_pk" primary key ("tenant", "name", "alias"), constraint "model_aliases_version_fk" foreign key ("tenant", "name", "version") references "model_versions" ("tenant", "name", "version"));
create table "promotions" ("seq" serial primary key, "id" text not null unique, "tenant" text not null, "name" text not null, "version" integer not null, "alias" text not null, "previous_version" integer, "outcome" text not null, "forced" integer not null, "reason" text, "gates" text not null, "actor" text not null, "created_at" text not null);
create index "promotions_tenant_name_seq" on "promotions" ("tenant", "name", "seq");
create table "overrides" ("seq" serial primary key, "id" text not null unique, "tenant" text not null references "tenants" ("id"), "model" text not null, "action" text not null, "match_type" text not null, "pattern" text not null, "flags" text not null, "target" text not null, "label" text not null, "note" text, "created_by" text not null, "created_at" text not null, "removed_by" text, "removed_at" text, "hits" bigint default 0 not null);
create index "overrides_tenant_model_seq" on "overrides" ("tenant", "model", "seq");
create table "prediction_log" ("tenant" text not null, "request_id" text not null, "item" integer not null, "model" text not null, "version" integer not null, "text" text not null, "output" text not null, "overridden" integer not null, "latency_ms" double precision not null, "created_at" text not null, constraint "prediction_log_pk" primary key ("tenant", "request_id", "item"));
create index "prediction_log_created" on "prediction_log" ("created_at");
create table "usage_daily" ("tenant" text not null, "model" text not null, "version" integer not null, "day" text not null, "requests" bigint not null, "items" bigint not null, "overridden" bigint not null, "errors" bigint not null, constraint "usage_daily_pk" primary key ("tenant", "model", "version", "day"));
create index "usage_daily_day" on "usage_daily" ("day");
create table "feedback" ("seq" serial primary key, "id" text not null unique, "tenant" text not null, "request_id" text not null, "item" integer not null, "model" text, "version" integer, "rating" text, "correction" text, "comment" text, "text" text, "status" text not null, "created_at" text not null);
create index "feedback_tenant_model_created" on "feedback" ("tenant", "model", "created_at");
create index "feedback_tenant_created" on "feedback" ("tenant", "created_at");

-- 5: live monitoring sketches per replica and time bucket
create table "live_sketches" ("tenant" text not null, "model" text not null, "version" integer not null, "bucket" text not null, "replica" text not null, "items" bigint not null, "state" text not null, "updated_at" text not null, constraint "live_sketches_pk" primary key ("tenant", "model", "version", "bucket", "replica"));
create index "live_sketches_bucket" on "live_sketches" ("bucket");

