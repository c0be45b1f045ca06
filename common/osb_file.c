/* common/osb_file.c: bounded whole-file reads. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_file.h"

/* O_NONBLOCK at open so a FIFO without a writer cannot hang us; cleared before reading. */
int osb_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct stat *ret_st)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        if (S_ISDIR(st.st_mode)) {
                close(fd);
                return -EISDIR;
        }
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max) {
                close(fd);
                return -E2BIG;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                (void) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        struct osb_buf b;
        osb_buf_init(&b, max);
        int r = 0;
        for (;;) {
                char chunk[16384];
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                r = osb_buf_append(&b, chunk, (size_t) n);
                if (r < 0)
                        break;
        }
        close(fd);
        if (r < 0) {
                osb_buf_release(&b);
                return r;
        }
        size_t len;
        char *d = osb_buf_detach(&b, &len);
        if (!d)
                return -ENOMEM;
        *ret = d;
        if (ret_len)
                *ret_len = len;
        if (ret_st)
                *ret_st = st;
        return 0;
}

int osb_read_file_err(const char *path, size_t max, char **ret, struct osb_error *err)
{
        int r = osb_read_file(path, max, ret, NULL, NULL);
        if (r == -E2BIG)
                return osb_error_set(err, r, "cannot read '%s': larger than %zu bytes", path, max);
        if (r < 0)
                return osb_error_set(err, r, "cannot read '%s': %s", path, strerror(-r));
        return 0;
}
