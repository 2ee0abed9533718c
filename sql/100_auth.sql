-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The latch authors
-- latchd accounts (server/auth.c): users with argon2id password hashes and
-- a role, sign-in sessions (stored by the SHA-256 of the cookie value, so
-- a database dump holds no usable session), API bearer tokens (SHA-256
-- only) and the sign-in throttle shared by every latchd instance.

CREATE TABLE users (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    last_signin_at BIGINT
);

CREATE TABLE sessions (
    id @ID@,
    sid_sha256 TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    peer TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id, id);
CREATE INDEX sessions_last_seen ON sessions (last_seen, id);

CREATE TABLE api_tokens (
    id @ID@,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- One row per throttled key: "user:NAME" or "addr:ADDRESS".
CREATE TABLE signin_throttle (
    scope_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
