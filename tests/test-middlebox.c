/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Middlebox counter segments (lib/middlebox.c): the writer's counts read
 * back, a child's own segment after fork(), and the reader's refusals of
 * segments it must not trust; then the agent's middlebox source on a
 * directory of segments (programs summed, dead processes retired). */

#include <config.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-util.h"
#include "perfsight/middlebox.h"
#include "sources/sources.h"

static char dir[64];

static int
setup(void **state)
{
    (void) state;
    strcpy(dir, "/tmp/test-middlebox.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void) state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static char *
seg_path(int pid)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/" PS_MB_PREFIX "%d", dir, pid);
    return path;
}

static struct ps_mb *
create(const char *prog)
{
    struct ps_mb *mb;
    assert_int_equal(ps_mb_create(dir, prog, &mb), 0);
    return mb;
}

static int
peer(struct ps_mb *mb, const char *addr, int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(port) };
    inet_pton(AF_INET, addr, &sin.sin_addr);
    return ps_mb_peer(mb, (struct sockaddr *) &sin, sizeof sin);
}

static void
test_roundtrip(void **state)
{
    (void) state;
    struct ps_mb *mb = create("ha proxy/1");
    int p = peer(mb, "10.0.3.2", 80);
    assert_int_equal(p, 0);
    assert_int_equal(peer(mb, "10.0.3.2", 80), 0);
    assert_int_equal(peer(mb, "10.0.4.2", 514), 1);

    ps_mb_add_in(mb, PS_MB_FWD, -1, 1000, 10);
    ps_mb_add_out(mb, PS_MB_FWD, p, 900, 20);
    ps_mb_add_out(mb, PS_MB_FWD, 1, 100, 5);
    ps_mb_add_peer_out(mb, p, 0, 7);
    ps_mb_add_in(mb, PS_MB_REV, p, 50, 3);
    ps_mb_add_out(mb, PS_MB_REV, -1, 50, 4);

    struct ps_mb_counts c;
    char *error;
    assert_int_equal(ps_mb_read(seg_path(getpid()), getpid(), geteuid(), &c,
                                &error), 0);
    assert_null(error);
    assert_string_equal(c.prog, "ha_proxy_1");
    assert_int_equal(c.pid, getpid());
    assert_int_equal(c.dir[PS_MB_FWD].in_bytes, 1000);
    assert_int_equal(c.dir[PS_MB_FWD].in_time_ns, 10);
    assert_int_equal(c.dir[PS_MB_FWD].out_bytes, 1000);
    assert_int_equal(c.dir[PS_MB_FWD].out_time_ns, 25);
    assert_int_equal(c.dir[PS_MB_REV].in_bytes, 50);
    assert_int_equal(c.dir[PS_MB_REV].out_time_ns, 4);
    assert_int_equal(c.n_peers, 2);
    assert_string_equal(c.peers[0].name, "10.0.3.2:80");
    assert_int_equal(c.peers[0].io.out_bytes, 900);
    assert_int_equal(c.peers[0].io.out_time_ns, 27);
    assert_int_equal(c.peers[0].io.in_bytes, 50);
    assert_string_equal(c.peers[1].name, "10.0.4.2:514");
    assert_int_equal(c.peers[1].io.out_bytes, 100);

    /* The file is the user's, 0644. */
    struct stat st;
    assert_int_equal(stat(seg_path(getpid()), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(st.st_uid, geteuid());

    ps_mb_destroy(mb, true);
    assert_int_equal(access(seg_path(getpid()), F_OK), -1);
}

static void
test_fork(void **state)
{
    (void) state;
    struct ps_mb *mb = create("forker");
    ps_mb_add_in(mb, PS_MB_FWD, -1, 111, 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (!child) {
        int ok = !ps_mb_reopen(mb);
        ps_mb_add_in(mb, PS_MB_FWD, -1, 5, 0);
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);

    struct ps_mb_counts c;
    char *error;
    assert_int_equal(ps_mb_read(seg_path(getpid()), getpid(), geteuid(), &c,
                                &error), 0);
    assert_int_equal(c.dir[PS_MB_FWD].in_bytes, 111);
    assert_int_equal(ps_mb_read(seg_path(child), child, geteuid(), &c,
                                &error), 0);
    assert_int_equal(c.dir[PS_MB_FWD].in_bytes, 5);
    assert_string_equal(c.prog, "forker");
    unlink(seg_path(child));
    ps_mb_destroy(mb, true);
}

/* Writes a segment at the path of 'pid', altered by 'alter', and returns
 * what the reader says, with its message in '*errorp'. */
static int
read_altered(int pid, void (*alter)(struct ps_mb_segment *, size_t *size),
             char **errorp)
{
    struct ps_mb_segment *seg = calloc(1, sizeof *seg);
    struct ps_mb_header *h = &seg->header;
    *h = (struct ps_mb_header) {
        .magic = PS_MB_MAGIC, .version = PS_MB_VERSION,
        .header_size = sizeof *h, .total_size = sizeof *seg,
        .n_peers = PS_MB_N_PEERS, .peer_size = sizeof seg->peers[0],
        .peers_offset = offsetof(struct ps_mb_segment, peers),
        .n_slots = PS_MB_N_SLOTS, .slot_size = sizeof seg->slots[0],
        .slots_offset = offsetof(struct ps_mb_segment, slots),
        .pid = pid, .prog = "prog",
    };
    seg->slots[3].dir[PS_MB_FWD].in_bytes = 42;
    size_t size = sizeof *seg;
    if (alter) {
        alter(seg, &size);
    }
    const char *path = seg_path(pid);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, seg, size), (ssize_t) size);
    close(fd);
    free(seg);

    struct ps_mb_counts c;
    int retval = ps_mb_read(path, pid, geteuid(), &c, errorp);
    if (!retval) {
        assert_int_equal(c.dir[PS_MB_FWD].in_bytes, 42);
    }
    return retval;
}

static void bad_magic(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.magic = 0x12345678; }
static void other_version(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.version = 2; }
static void truncated(struct ps_mb_segment *s, size_t *n)
{ (void) s; *n = 1000; }
static void truncated_header(struct ps_mb_segment *s, size_t *n)
{ (void) s; *n = 40; }
static void huge_slots(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.n_slots = 0xffffffff; }
static void huge_total(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.total_size = 0x7fffffff; }
static void bad_offset(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.slots_offset = 0x7ffffff0; }
static void big_slot(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.slot_size = 1u << 30; }
static void other_pid(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.pid = 1; }
static void bad_prog(struct ps_mb_segment *s, size_t *n)
{ (void) n; memset(s->header.prog, 'a', sizeof s->header.prog); }
static void evil_prog(struct ps_mb_segment *s, size_t *n)
{ (void) n; strcpy(s->header.prog, "a\"b"); }
static void not_ready(struct ps_mb_segment *s, size_t *n)
{ (void) n; s->header.magic = 0; }
static void empty(struct ps_mb_segment *s, size_t *n)
{ (void) s; *n = 0; }
static void bad_peer(struct ps_mb_segment *s, size_t *n)
{
    (void) n;
    s->peers[0] = (struct ps_mb_peer) { .state = 2, .family = 99 };
    s->peers[1] = (struct ps_mb_peer) { .state = 1, .family = AF_INET };
}

static void
test_refusals(void **state)
{
    (void) state;
    char *error;
    int pid = 4242;

    assert_int_equal(read_altered(pid, NULL, &error), 0);

    static const struct {
        void (*alter)(struct ps_mb_segment *, size_t *);
        int error;
        const char *message;
    } cases[] = {
        { bad_magic, EPROTO, "bad magic 0x12345678" },
        { other_version, EPROTO, "layout version 2, but this reader reads "
          "version 1 only" },
        { truncated, EPROTO, "truncated (1000 bytes, layout version 1 has "
          "41440)" },
        { truncated_header, EPROTO, "truncated (40 bytes, the header" },
        { huge_slots, EPROTO, "n_slots is 4294967295, but layout version 1 "
          "has 64" },
        { huge_total, EPROTO, "total_size is 2147483647" },
        { bad_offset, EPROTO, "slots_offset is 2147483632" },
        { big_slot, EPROTO, "slot_size is 1073741824" },
        { other_pid, EPROTO, "written by pid 1, not 4242" },
        { bad_prog, EPROTO, "bad program name" },
        { evil_prog, EPROTO, "bad program name" },
        { not_ready, EAGAIN, NULL },
        { empty, EAGAIN, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        error = NULL;
        int retval = read_altered(pid, cases[i].alter, &error);
        if (retval != cases[i].error) {
            fail_msg("case %zu: %d (%s), expected %d", i, retval,
                     error ? error : "", cases[i].error);
        }
        if (cases[i].message) {
            assert_non_null(error);
            assert_contains(error, seg_path(pid));
            assert_contains(error, cases[i].message);
        } else {
            assert_null(error);
        }
        free(error);
    }

    /* Peers of unknown families or half-written are left out. */
    assert_int_equal(read_altered(pid, bad_peer, &error), 0);

    /* Another owner, and a file others may write. */
    assert_int_equal(read_altered(pid, NULL, &error), 0);
    struct ps_mb_counts c;
    assert_int_equal(ps_mb_read(seg_path(pid), pid, geteuid() + 1, &c,
                                &error), EPERM);
    assert_contains(error, "owned by uid");
    free(error);
    chmod(seg_path(pid), 0666);
    assert_int_equal(ps_mb_read(seg_path(pid), pid, geteuid(), &c, &error),
                     EPERM);
    assert_contains(error, "writable by others (mode 0666)");
    free(error);

    /* A symbolic link is not followed. */
    char link[160];
    snprintf(link, sizeof link, "%s/" PS_MB_PREFIX "4343", dir);
    assert_int_equal(symlink(seg_path(pid), link), 0);
    assert_int_equal(ps_mb_read(link, 4343, geteuid(), &c, &error), ELOOP);
    free(error);
    unlink(link);
    unlink(seg_path(pid));
}

static const struct ps_sample *
find(const struct ps_samples *samples, const char *element)
{
    for (size_t i = 0; i < samples->n; i++) {
        if (!strcmp(samples->s[i].record.element, element)) {
            return &samples->s[i];
        }
    }
    return NULL;
}

static uint64_t
extra(const struct ps_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_extra; i++) {
        if (!strcmp(s->extra[i].name, name)) {
            return s->extra[i].value;
        }
    }
    fail_msg("no extra %s", name);
    return 0;
}

static char *warned;

static void
warn(const char *message)
{
    free(warned);
    warned = strdup(message);
}

/* The source sums the processes of a program, keeps counters growing when
 * one exits, removes dead processes' segments and says what it refuses. */
static void
test_source(void **state)
{
    (void) state;
    struct ps_source_env env = {
        .host = "hv1", .procfs = "/proc", .middlebox_dir = dir,
        .middlebox_vm = "vm7", .warn = warn,
    };
    struct ps_source *source;
    assert_int_equal(ps_source_create(&ps_middlebox_class, &env, &source),
                     0);

    /* This process, and a child that stays until we reap it. */
    struct ps_mb *mb = create("proxy");
    int p = peer(mb, "10.0.3.2", 80);
    ps_mb_add_in(mb, PS_MB_FWD, -1, 1000, 10);
    ps_mb_add_out(mb, PS_MB_FWD, p, 1000, 30);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    if (!child) {
        char c;
        ps_mb_reopen(mb);
        ps_mb_add_in(mb, PS_MB_FWD, -1, 500, 5);
        ps_mb_add_out(mb, PS_MB_FWD, ps_mb_peer(mb, NULL, 0), 0, 0);
        close(pipefd[1]);
        if (read(pipefd[0], &c, 1) < 0) {
            _exit(1);
        }
        _exit(0);
    }
    close(pipefd[0]);
    while (access(seg_path(child), F_OK)) {
        usleep(1000);
    }
    usleep(10000);

    struct ps_samples samples;
    ps_samples_init(&samples, "hv1", 1);
    assert_int_equal(ps_source_sample(source, &samples), 0);
    const struct ps_sample *s = find(&samples, "middlebox:vm7:proxy");
    assert_non_null(s);
    assert_true(find(&samples, "middlebox:vm7:proxy:rev") != NULL);
    assert_int_equal(s->record.type, PS_MIDDLEBOX);
    assert_string_equal(s->record.vm, "vm7");
    assert_int_equal(s->record.counters[PS_IN_BYTES], 1500);
    assert_int_equal(s->record.counters[PS_IN_TIME_NS], 15);
    assert_int_equal(s->record.counters[PS_OUT_TIME_NS], 30);
    assert_int_equal(extra(s, "out_bytes@10.0.3.2:80"), 1000);
    assert_int_equal(extra(s, "out_time_ns@10.0.3.2:80"), 30);

    /* The child exits: its counts stay in the sum, its segment goes. */
    close(pipefd[1]);
    waitpid(child, NULL, 0);
    ps_mb_add_in(mb, PS_MB_FWD, -1, 1, 0);
    ps_samples_clear(&samples);
    assert_int_equal(ps_source_sample(source, &samples), 0);
    s = find(&samples, "middlebox:vm7:proxy");
    assert_int_equal(s->record.counters[PS_IN_BYTES], 1501);
    assert_int_equal(access(seg_path(child), F_OK), -1);

    /* A segment of another version is left out, with a message. */
    char path[128];
    snprintf(path, sizeof path, "%s/" PS_MB_PREFIX "1", dir);
    FILE *f = fopen(path, "w");
    struct ps_mb_header h = { .magic = PS_MB_MAGIC, .version = 9 };
    fwrite(&h, sizeof h, 1, f);
    fclose(f);
    ps_samples_clear(&samples);
    assert_int_equal(ps_source_sample(source, &samples), 0);
    assert_int_equal(samples.n, 2);
    assert_non_null(warned);
    assert_contains(warned, "layout version 9");
    unlink(path);

    /* The last process goes: the program vanishes. */
    ps_mb_destroy(mb, true);
    ps_samples_clear(&samples);
    assert_int_equal(ps_source_sample(source, &samples), 0);
    assert_int_equal(samples.n, 0);

    ps_samples_destroy(&samples);
    ps_source_destroy(source);
    free(warned);
    warned = NULL;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
