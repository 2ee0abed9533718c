/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* cmd_util.c: option and output helpers shared by the latchd verbs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "core.h"

int
cmd_list_opts(int argc, char **argv, unsigned int filters,
              struct core_list_opts *opt)
{
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {"device", required_argument, NULL, 'd'},
        {"enrollment", required_argument, NULL, 'e'},
        {"customer", required_argument, NULL, 'c'},
        {"after", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {"newest", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    int64_t v = 0;
    int ch;

    memset(opt, 0, sizeof(*opt));
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if ((filters & CMD_LIST_STATE) == 0) {
                goto usage;
            }
            opt->state = optarg;
            break;
        case 'd':
            if ((filters & CMD_LIST_DEVICE) == 0) {
                goto usage;
            }
            opt->device_id = optarg;
            break;
        case 'e':
            if ((filters & CMD_LIST_ENROLLMENT) == 0 ||
                cmd_parse_id(optarg, &opt->enrollment_id, &err) != LATCH_OK) {
                goto usage;
            }
            break;
        case 'c':
            if ((filters & CMD_LIST_CUSTOMER) == 0) {
                goto usage;
            }
            opt->customer = optarg;
            break;
        case 'a':
            if (cmd_parse_id(optarg, &opt->after_id, &err) != LATCH_OK) {
                goto usage;
            }
            break;
        case 'l':
            if (cmd_parse_id(optarg, &v, &err) != LATCH_OK ||
                v > CORE_LIST_MAX) {
                goto usage;
            }
            opt->limit = (int)v;
            break;
        case 'n':
            opt->newest_first = true;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc) {
        goto usage;
    }
    return 0;

usage:
    fprintf(stderr,
            "usage: %s%s%s%s%s [--after ID] [--limit 1..%d] [--newest] "
            "[--json]\n",
            argv[0], (filters & CMD_LIST_STATE) != 0 ? " [--state S]" : "",
            (filters & CMD_LIST_DEVICE) != 0 ? " [--device DEVICE_ID]" : "",
            (filters & CMD_LIST_ENROLLMENT) != 0 ? " [--enrollment ID]" : "",
            (filters & CMD_LIST_CUSTOMER) != 0 ? " [--customer NAME]" : "",
            CORE_LIST_MAX);
    return 2;
}

const char *
cmd_str(const json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL ? s : "-";
}

void
cmd_print_next(const json_t *page)
{
    const json_t *next = json_object_get(page, "next");

    if (json_is_integer(next)) {
        printf("more: --after %lld\n", (long long)json_integer_value(next));
    }
}
