/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* Unit tests for server/html.c: escaping, code points, caps, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "html.h"

static char *
render_text(const char *in)
{
    struct hbuf b;

    hbuf_init(&b, 4096);
    html_text(&b, in);
    return hbuf_take(&b, NULL);
}

static void
test_text_escapes_markup_and_quotes(void **state)
{
    char *out = render_text("<script>alert(1)</script>\" hx-post='/x' &");

    (void)state;
    assert_string_equal(out, "&lt;script&gt;alert(1)&lt;/script&gt;&quot; "
                             "hx-post=&#39;/x&#39; &amp;");
    free(out);
}

static void
test_text_shows_bidi_controls_as_code_points(void **state)
{
    /* "abc" RLO "fdp.exe" PDI LRM */
    char *out = render_text("abc\xe2\x80\xae"
                            "fdp.exe\xe2\x81\xa9\xe2\x80\x8e");

    (void)state;
    assert_string_equal(out, "abc[U+202E]fdp.exe[U+2069][U+200E]");
    free(out);
}

static void
test_text_shows_controls_and_keeps_newline(void **state)
{
    char *out = render_text("a\rb\x1b[31m\nc\td\x7f");

    (void)state;
    assert_string_equal(out, "a[U+000D]b[U+001B][31m\nc\td[U+007F]");
    free(out);
}

static void
test_text_replaces_invalid_utf8(void **state)
{
    /* overlong '<', lone continuation, surrogate, truncated sequence */
    char *out = render_text("\xc0\xbc|\x80|\xed\xa0\x80|\xe2\x82");

    (void)state;
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|"
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xef\xbf\xbd\xef\xbf\xbd");
    free(out);
}

static void
test_text_keeps_valid_multibyte(void **state)
{
    char *out = render_text("Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x91");

    (void)state;
    assert_string_equal(out,
                        "Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x91");
    free(out);
}

static void
test_fmt_escapes_every_string_argument(void **state)
{
    struct hbuf b;
    char *out = NULL;

    (void)state;
    hbuf_init(&b, 4096);
    html_fmt(&b, "<td title=\"%s\">%s</td><td>%d %lld %zu %x %%</td>",
             "\" onerror=\"x", "<img src=x onerror=alert(1)>", -3,
             (long long)9007199254740991LL, (size_t)7, 255u);
    out = hbuf_take(&b, NULL);
    assert_non_null(out);
    assert_string_equal(out,
                        "<td title=\"&quot; onerror=&quot;x\">&lt;img src=x "
                        "onerror=alert(1)&gt;</td><td>-3 9007199254740991 "
                        "7 ff %</td>");
    free(out);
}

static void
test_fmt_fails_on_unsupported_conversion(void **state)
{
    struct hbuf b;

    (void)state;
    hbuf_init(&b, 4096);
    html_fmt(&b, "%5d", 1);
    assert_true(b.failed);
    assert_null(hbuf_take(&b, NULL));
}

static void
test_url_percent_encodes_everything_but_unreserved(void **state)
{
    struct hbuf b;
    char *out = NULL;

    (void)state;
    hbuf_init(&b, 4096);
    html_url(&b, "a b/\"<>?&=javascript:x~._-");
    out = hbuf_take(&b, NULL);
    assert_string_equal(out, "a%20b%2F%22%3C%3E%3F%26%3Djavascript%3Ax~._-");
    free(out);
}

static void
test_buffer_fails_past_its_cap_and_stays_failed(void **state)
{
    struct hbuf b;

    (void)state;
    hbuf_init(&b, 8);
    html_raw(&b, "12345678");
    assert_false(b.failed);
    html_raw(&b, "9");
    assert_true(b.failed);
    html_raw(&b, "");
    assert_true(b.failed);
    assert_null(hbuf_take(&b, NULL));
}

static void
test_escaping_growth_is_capped(void **state)
{
    struct hbuf b;

    (void)state;
    /* 5 input bytes, 20 output bytes: over a cap of 16 */
    hbuf_init(&b, 16);
    html_text(&b, "<<<<<");
    assert_true(b.failed);
    hbuf_free(&b);
}

static void
test_time_formats_utc_and_dash_for_zero(void **state)
{
    struct hbuf b;
    char *out = NULL;

    (void)state;
    hbuf_init(&b, 256);
    html_time(&b, 1801353600);
    html_raw(&b, "|");
    html_time(&b, 0);
    out = hbuf_take(&b, NULL);
    assert_string_equal(out, "2027-01-31 00:00:00 UTC|\xe2\x80\x94");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escapes_markup_and_quotes),
        cmocka_unit_test(test_text_shows_bidi_controls_as_code_points),
        cmocka_unit_test(test_text_shows_controls_and_keeps_newline),
        cmocka_unit_test(test_text_replaces_invalid_utf8),
        cmocka_unit_test(test_text_keeps_valid_multibyte),
        cmocka_unit_test(test_fmt_escapes_every_string_argument),
        cmocka_unit_test(test_fmt_fails_on_unsupported_conversion),
        cmocka_unit_test(test_url_percent_encodes_everything_but_unreserved),
        cmocka_unit_test(test_buffer_fails_past_its_cap_and_stays_failed),
        cmocka_unit_test(test_escaping_growth_is_capped),
        cmocka_unit_test(test_time_formats_utc_and_dash_for_zero),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
