/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * safeout.h: keeps untrusted text (device hostnames, labels, customer
 * names, certificate subjects) from reaching the operator's terminal as
 * control or bidi characters: latchd's human-readable streams pass through
 * a filter that shows them as <U+XXXX>, and columns are cut only between
 * whole UTF-8 characters.
 */
#ifndef LATCHD_SAFEOUT_H
#define LATCHD_SAFEOUT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Replaces stderr, and stdout unless json (JSON output is escaped by
 * jansson and must stay byte-exact), with streams that write through the
 * originals but show every control character other than newline and tab,
 * DEL, C1 controls, bidi and line/paragraph separators as <U+XXXX> and
 * bytes that are not UTF-8 as <xNN>. Call once, before any output; the
 * wrappers are flushed, closed and freed at exit (atexit).
 */
void safeout_install(bool json);

/*
 * Copies at most width characters of s (a whole UTF-8 sequence or a single
 * invalid byte each) into buf, so a column is never cut inside a
 * character; "-" for NULL. Returns buf.
 */
const char *safeout_col(const char *s, size_t width, char *buf, size_t cap);

#endif /* LATCHD_SAFEOUT_H */
