-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The latch authors
-- latchd core schema: customers and plans, devices, enrollments with their
-- validation progress, licenses, validation jobs, the untrusted
-- intermediate cache and the hash-chained audit log. Portable SQL for
-- SQLite and PostgreSQL (server/db.h): @ID@ is the auto-increment key.
-- Every list is paged by keyset (id), so each filter has an (x, id) index.

CREATE TABLE customers (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE plans (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE plan_features (
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    name TEXT NOT NULL,
    quantity BIGINT,
    valid_until BIGINT,
    PRIMARY KEY (plan_id, name)
);

-- One row per TPM: device_id is the SHA-256 of the EK public key, stable
-- across AK rotations. last_serial is the serial counter of its licenses;
-- current_enrollment the approved enrollment licenses are issued for.
CREATE TABLE devices (
    id @ID@,
    device_id TEXT NOT NULL UNIQUE,
    ek_template TEXT NOT NULL,
    tpm_manufacturer TEXT,
    tpm_model TEXT,
    first_seen BIGINT NOT NULL,
    last_serial BIGINT NOT NULL DEFAULT 0,
    current_enrollment BIGINT
);

-- body holds the exact uploaded bytes; sha256 makes a re-import of the same
-- file find the same row. hostname..label are the untrusted device object.
CREATE TABLE enrollments (
    id @ID@,
    sha256 TEXT NOT NULL UNIQUE,
    body BYTEA NOT NULL,
    size BIGINT NOT NULL,
    source TEXT,
    identity_schema TEXT NOT NULL,
    state TEXT NOT NULL,
    device_id TEXT,
    ek_template TEXT,
    ak_name TEXT,
    is_rotation BIGINT NOT NULL DEFAULT 0,
    overridden BIGINT NOT NULL DEFAULT 0,
    report TEXT,
    reason TEXT,
    hostname TEXT,
    product TEXT,
    serial_number TEXT,
    label TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT
);
CREATE INDEX enrollments_state_id ON enrollments (state, id);
CREATE INDEX enrollments_device_id ON enrollments (device_id, id);
CREATE INDEX enrollments_ak_name ON enrollments (ak_name, id);

CREATE TABLE enrollment_progress (
    id @ID@,
    enrollment_id BIGINT NOT NULL REFERENCES enrollments (id),
    time BIGINT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX enrollment_progress_enr_id
    ON enrollment_progress (enrollment_id, id);

CREATE TABLE licenses (
    id @ID@,
    license_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    serial BIGINT NOT NULL,
    enrollment_id BIGINT NOT NULL REFERENCES enrollments (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    plan_id BIGINT REFERENCES plans (id),
    state TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    issued_by TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    features TEXT NOT NULL,
    body BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT,
    reason TEXT,
    UNIQUE (device_id, serial)
);
CREATE INDEX licenses_device_id ON licenses (device_id, id);
CREATE INDEX licenses_enrollment_id ON licenses (enrollment_id, id);
CREATE INDEX licenses_state_id ON licenses (state, id);
CREATE INDEX licenses_customer_id ON licenses (customer_id, id);

-- Validation jobs. Workers claim queued rows (and rows whose worker died:
-- running with an old claimed_at).
CREATE TABLE jobs (
    id @ID@,
    kind TEXT NOT NULL,
    enrollment_id BIGINT NOT NULL REFERENCES enrollments (id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    worker TEXT,
    created_at BIGINT NOT NULL,
    claimed_at BIGINT,
    finished_at BIGINT,
    error TEXT
);
CREATE INDEX jobs_state_id ON jobs (state, id);
CREATE INDEX jobs_enrollment_id ON jobs (enrollment_id, id);

-- Untrusted intermediates (AIA fetches, operator imports): never anchors.
CREATE TABLE aia_cache (
    id @ID@,
    sha256 TEXT NOT NULL UNIQUE,
    url TEXT,
    subject_key TEXT NOT NULL,
    der BYTEA NOT NULL,
    fetched_at BIGINT NOT NULL
);
CREATE INDEX aia_cache_subject ON aia_cache (subject_key, id);

-- Append-only, hash-chained: hash = SHA-256 over the previous hash and the
-- row's fields (docs/architecture.md). audit_head holds the chain's last
-- seq and hash and is the lock every appender takes.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    time BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,
    '0000000000000000000000000000000000000000000000000000000000000000');
