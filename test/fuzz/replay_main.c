/* test/fuzz/replay_main.c: a main() for libFuzzer targets without libFuzzer. Runs
 * LLVMFuzzerTestOneInput() once on every file named on the command line or found (not
 * recursively) in the directories named there, so `make check` replays the corpora with any
 * compiler. Exits non-zero when an argument cannot be read or nothing was run. */
#include "common/osb_compat.h"

#include <dirent.h>

#include "common/osb_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u)

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        struct osb_buf buf;
        osb_buf_init(&buf, REPLAY_MAX_INPUT);
        char chunk[65536];
        size_t n;
        int r = 0;
        while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                r = osb_buf_append(&buf, chunk, n);
        if (r == 0 && ferror(f))
                r = -EIO;
        fclose(f);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
                osb_buf_release(&buf);
                return -1;
        }
        /* A copy of exactly the input's size, so ASan sees reads past the end. */
        uint8_t *copy = malloc(buf.len ? buf.len : 1);
        if (!copy) {
                osb_buf_release(&buf);
                return -1;
        }
        if (buf.len)
                memcpy(copy, buf.data, buf.len);
        (void) LLVMFuzzerTestOneInput(copy, buf.len);
        free(copy);
        osb_buf_release(&buf);
        return 0;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Runs every regular file of @dir in name order. Returns how many, or -1. */
static long run_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d) {
                fprintf(stderr, "%s: %s\n", dir, strerror(errno));
                return -1;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        long ran = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        char **nn = realloc(names, cap * sizeof(*nn));
                        if (!nn) {
                                ran = -1;
                                break;
                        }
                        names = nn;
                }
                names[n] = strdup(e->d_name);
                if (!names[n]) {
                        ran = -1;
                        break;
                }
                n++;
        }
        closedir(d);
        if (ran == 0 && n)
                qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++) {
                if (ran >= 0) {
                        char path[4096];
                        struct stat st;
                        (void) snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                                if (run_file(path) < 0)
                                        ran = -1;
                                else
                                        ran++;
                        }
                }
                free(names[i]);
        }
        free(names);
        return ran;
}

int main(int argc, char **argv)
{
        long total = 0;
        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                long ran = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) < 0 ? -1 : 1);
                if (ran < 0)
                        return 1;
                total += ran;
        }
        printf("%s: ran %ld inputs\n", argv[0], total);
        return total > 0 ? 0 : 1;
}
