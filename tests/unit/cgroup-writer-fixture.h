/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Fixture trees for the cgroup writer's tests: every hierarchy directory of
 * every layout, each cgroup holding every knob file of both versions, all
 * empty, so a write that lands in the wrong file or hierarchy is seen as a
 * non-empty file. For cmocka tests (failures are assertions). */

#include <stddef.h>

#include "plugins/cgroup-writer.h"
#include "qos/cgroup-layout.h"

/* The managed roots of every fixture's writer. */
static char *const managed[] = { "kubepods.slice", "batch.slice" };

typedef enum FixtureLayout {
        FIXTURE_V2,
        FIXTURE_V1,
        FIXTURE_HYBRID,
        /* systemd hybrid with memory left on the unified tree and no blkio */
        FIXTURE_HYBRID_MIXED,
        _FIXTURE_MAX,
} FixtureLayout;

typedef struct Fixture {
        char dir[64];
        CgroupLayout layout;
        CgroupWriter *w;
} Fixture;

/* A new fixture tree in /tmp with the layout and a writer on it. */
Fixture *fixture_new(FixtureLayout which);
/* Removes the tree; NULL is fine. */
void fixture_free(Fixture *f);
/* cmocka setup and teardown of a test that keeps its fixture in *state. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* f->dir/hierarchy[/rest], in a static buffer. */
char *fixture_path(const Fixture *f, const char *hierarchy, const char *rest);
/* Empties every knob file of every fixture cgroup. */
void fixture_truncate(const Fixture *f);

void write_file(const char *path, const char *content);
/* mkdir -p */
void make_dirs(const char *path);

/* The files assert_empty_but_allowed() lets be non-empty: none, then added
 * one by one (fixture_allow() returns its own copy of the path). */
void fixture_allow_none(void);
const char *fixture_allow(const char *path);
/* Empties the allowed files again. */
void fixture_truncate_allowed(void);

/* Nothing anywhere in the fixture (outside dir included) was written but
 * the allowed files. */
void assert_empty_but_allowed(const Fixture *f);
/* Nothing was written at all. */
void assert_all_empty(const Fixture *f);
