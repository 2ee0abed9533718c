-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The latch authors
-- Indexes for the admin UI's own read-only queries (server/web_*.c): the
-- dashboard's licenses per week and licenses expiring soon, and the audit
-- log filtered by actor, action or object, each paged by keyset, so they
-- stay fast at millions of rows.

CREATE INDEX licenses_issued_at ON licenses (issued_at, id);
CREATE INDEX licenses_valid_until ON licenses (valid_until, id);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_object ON audit_log (object, seq);
