-- 0001_init (PostgreSQL): the same tables as migrations/0001_init.sql, for --store
-- postgresql://. Keep the two sets in step: a migration NNNN exists in both, with the same
-- meaning. Append-only: never edit a released migration; add 0002_... instead.

CREATE TABLE instances (
        id                  TEXT PRIMARY KEY,
        service_id          TEXT NOT NULL,
        plan_id             TEXT NOT NULL,
        -- canonical JSON of the attributes that decide idempotency (409 vs 200)
        request_key         TEXT NOT NULL,
        parameters          TEXT,
        context             TEXT,
        organization_guid   TEXT,
        space_guid          TEXT,
        maintenance_version TEXT,
        dashboard_url       TEXT,
        metadata            TEXT,
        state               TEXT NOT NULL CHECK (state IN
                                ('provisioning', 'ready', 'updating', 'deprovisioning', 'failed')),
        op_id               TEXT,
        created_at          BIGINT NOT NULL,
        updated_at          BIGINT NOT NULL
);

CREATE TABLE bindings (
        instance_id         TEXT NOT NULL,
        id                  TEXT NOT NULL,
        service_id          TEXT NOT NULL,
        plan_id             TEXT NOT NULL,
        request_key         TEXT NOT NULL,
        parameters          TEXT,
        context             TEXT,
        app_guid            TEXT,
        predecessor_id      TEXT,
        -- the JSON served by bind and fetch binding: credentials, endpoints, ...
        response            TEXT,
        state               TEXT NOT NULL CHECK (state IN ('binding', 'ready', 'unbinding', 'failed')),
        op_id               TEXT,
        created_at          BIGINT NOT NULL,
        updated_at          BIGINT NOT NULL,
        PRIMARY KEY (instance_id, id)
);

CREATE TABLE operations (
        id                  TEXT PRIMARY KEY,
        kind                TEXT NOT NULL CHECK (kind IN
                                ('provision', 'update', 'deprovision', 'bind', 'unbind')),
        instance_id         TEXT NOT NULL,
        binding_id          TEXT,
        state               TEXT NOT NULL CHECK (state IN ('in progress', 'succeeded', 'failed')),
        description         TEXT,
        -- what the worker needs to finish the operation (new plan, parameters, ...)
        request             TEXT,
        due_at              BIGINT NOT NULL,
        attempts            BIGINT NOT NULL DEFAULT 0,
        instance_usable     INTEGER,
        update_repeatable   INTEGER,
        created_at          BIGINT NOT NULL,
        finished_at         BIGINT,
        -- SQLite's rowid: renewed by every write of the row (its INSERT OR REPLACE), the
        -- tie-break of "the newest operation" between two created in the same millisecond
        seq                 BIGSERIAL NOT NULL
);

CREATE INDEX operations_by_resource ON operations (instance_id, binding_id, created_at);
CREATE INDEX operations_pending ON operations (due_at) WHERE state = 'in progress';
