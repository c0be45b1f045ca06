/* test/lib/broker_proc.c: osb-broker child processes for tests (see broker_proc.h). */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/lib/broker_proc.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

struct broker_proc {
        char *broker, *catalog, *username, *password, *log_level;
        char **extra_args;        /* NULL-terminated; owned */
        unsigned start_timeout_ms;
        char *dir, *log_path, *db_path, *port_path;
        bool pg;                  /* db_path is a postgresql:// URL: --store */
        pid_t pid;                /* 0 when not running */
        uint16_t port;
        char url[64];
};

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Appends the last bytes of the broker's log, on one line, to @err's message. */
static void append_log_tail(const struct broker_proc *bp, struct osb_error *err)
{
        if (!err)
                return;
        int fd = open(bp->log_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        char tail[300];
        off_t size = lseek(fd, 0, SEEK_END);
        off_t from = size > (off_t) sizeof(tail) - 1 ? size - (off_t) sizeof(tail) + 1 : 0;
        ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
        close(fd);
        if (n <= 0)
                return;
        tail[n] = '\0';
        for (ssize_t i = 0; i < n; i++)
                if (tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\0')
                        tail[i] = ' ';
        size_t len = strlen(err->text);
        if (len + 1 < sizeof(err->text))
                snprintf(err->text + len, sizeof(err->text) - len, "; log tail: %s", tail);
}

static char *describe_status(int status)
{
        if (WIFEXITED(status))
                return osb_asprintf("exited with status %d", WEXITSTATUS(status));
        if (WIFSIGNALED(status))
                return osb_asprintf("was killed by signal %d (%s)", WTERMSIG(status),
                                    strsignal(WTERMSIG(status)));
        return osb_asprintf("ended with wait status %#x", (unsigned) status);
}

/* Reads DIR/port. Returns 0 with *ret, -EAGAIN while it is absent or not complete yet. */
static int read_port(const struct broker_proc *bp, uint16_t *ret)
{
        int fd = open(bp->port_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -EAGAIN : -errno;
        char buf[16];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0 || buf[n - 1] != '\n')
                return -EAGAIN;
        buf[n - 1] = '\0';
        int64_t port;
        int r = osb_parse_int64(buf, 1, 65535, &port);
        if (r < 0)
                return r;
        *ret = (uint16_t) port;
        return 0;
}

static char **build_argv(const struct broker_proc *bp)
{
        const char *fixed[] = {
                bp->broker, "--listen", "127.0.0.1", "--port", "0", "--port-file", bp->port_path,
                bp->pg ? "--store" : "--db", bp->db_path, "--username", bp->username,
                "--password", bp->password, "--log-level", bp->log_level,
        };
        size_t n_extra = 0;
        while (bp->extra_args && bp->extra_args[n_extra])
                n_extra++;
        size_t n = OSB_ELEMENTSOF(fixed) + 2 + n_extra + 1;
        char **argv = osb_calloc(n, sizeof(char *));
        if (!argv)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < OSB_ELEMENTSOF(fixed); i++)
                argv[k++] = (char *) fixed[i];
        if (bp->catalog) {
                argv[k++] = (char *) "--catalog";
                argv[k++] = bp->catalog;
        }
        for (size_t i = 0; i < n_extra; i++)
                argv[k++] = bp->extra_args[i];
        argv[k] = NULL;
        return argv;
}

static int spawn(struct broker_proc *bp, struct osb_error *err)
{
        if (unlink(bp->port_path) < 0 && errno != ENOENT)
                return osb_error_set(err, -errno, "cannot remove %s: %s", bp->port_path,
                                     strerror(errno));
        /* Everything the child needs is prepared before fork(): no allocation after it. */
        osb_autofree char **argv = build_argv(bp);
        if (!argv)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int logfd = open(bp->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0)
                return osb_error_set(err, -errno, "cannot open %s: %s", bp->log_path,
                                     strerror(errno));
        int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nullfd < 0) {
                int e = errno;
                close(logfd);
                return osb_error_set(err, -e, "cannot open /dev/null: %s", strerror(e));
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(logfd);
                close(nullfd);
                return osb_error_set(err, -e, "fork: %s", strerror(e));
        }
        if (pid == 0) {
#ifdef __linux__
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
#endif
                (void) parent;
                if (dup2(nullfd, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
                    dup2(logfd, STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                static const char msg[] = "broker_proc: exec of the broker failed\n";
                ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
                (void) w;
                _exit(127);
        }
        close(logfd);
        close(nullfd);
        bp->pid = pid;
        bp->port = 0;
        bp->url[0] = '\0';

        uint64_t deadline = now_ms() + bp->start_timeout_ms;
        for (;;) {
                uint16_t port = 0;
                int r = read_port(bp, &port);
                if (r == 0) {
                        bp->port = port;
                        snprintf(bp->url, sizeof(bp->url), "http://127.0.0.1:%u", (unsigned) port);
                        return 0;
                }
                if (r != -EAGAIN) {
                        (void) broker_proc_kill(bp);
                        return osb_error_set(err, r, "%s: unreadable port file", bp->port_path);
                }
                int status;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        bp->pid = 0;
                        osb_autofree char *what = describe_status(status);
                        osb_error_set(err, -ECHILD, "broker %s before listening",
                                      what ? what : "ended");
                        append_log_tail(bp, err);
                        return -ECHILD;
                }
                if (now_ms() >= deadline) {
                        (void) broker_proc_kill(bp);
                        osb_error_set(err, -ETIMEDOUT, "no port file %s after %u ms",
                                      bp->port_path, bp->start_timeout_ms);
                        append_log_tail(bp, err);
                        return -ETIMEDOUT;
                }
                sleep_ms(10);
        }
}

bool broker_proc_store_is_postgresql(void)
{
        const char *s = getenv("BINDERY_TEST_STORE");
        return s && strcmp(s, "postgresql") == 0;
}

/* Creates database @name with the superuser URL $BINDERY_TEST_PG_URL; *ret: its URL (new). */
static int pg_create_database(const char *name, char **ret, struct osb_error *err)
{
        const char *admin = getenv("BINDERY_TEST_PG_URL");
        if (!admin || !*admin)
                return osb_error_set(err, -EINVAL, "BINDERY_TEST_STORE=postgresql needs BINDERY_TEST_PG_URL");
        PGconn *c = PQconnectdb(admin);
        if (!c || PQstatus(c) != CONNECTION_OK) {
                osb_error_set(err, -EIO, "cannot connect to $BINDERY_TEST_PG_URL: %s",
                              c ? PQerrorMessage(c) : "out of memory");
                PQfinish(c);
                return -EIO;
        }
        char *sql = osb_asprintf("CREATE DATABASE \"%s\"", name);
        PGresult *res = sql ? PQexec(c, sql) : NULL;
        osb_free(sql);
        int r = 0;
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                r = osb_error_set(err, -EIO, "CREATE DATABASE %s: %s", name, PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        if (r < 0)
                return r;
        /* The admin URL with its path (the database) replaced. */
        const char *auth = strstr(admin, "://");
        auth = auth ? auth + 3 : admin;
        size_t at = (size_t) (auth - admin) + strcspn(auth, "/?");
        const char *query = strchr(admin + at, '?');
        *ret = osb_asprintf("%.*s/%s%s", (int) at, admin, name, query ? query : "");
        return *ret ? 0 : osb_error_set(err, -ENOMEM, "out of memory");
}

static char *strdup_or(const char *s, const char *dflt)
{
        return osb_strdup(s ? s : dflt);
}

int broker_proc_start(const struct broker_proc_config *cfg, struct broker_proc **ret,
                      struct osb_error *err)
{
        if (!cfg->broker)
                return osb_error_set(err, -EINVAL, "no broker program given");
        struct broker_proc *bp = osb_calloc(1, sizeof(*bp));
        if (!bp)
                return osb_error_set(err, -ENOMEM, "out of memory");
        bp->start_timeout_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms : 10000;
        bp->broker = osb_strdup(cfg->broker);
        bp->catalog = cfg->catalog ? osb_strdup(cfg->catalog) : NULL;
        bp->username = strdup_or(cfg->username, "osb");
        bp->password = strdup_or(cfg->password, "conformance-secret");
        bp->log_level = strdup_or(cfg->log_level, "warn");
        size_t n_extra = 0;
        while (cfg->extra_args && cfg->extra_args[n_extra])
                n_extra++;
        bp->extra_args = osb_calloc(n_extra + 1, sizeof(char *));
        bool oom = !bp->broker || (cfg->catalog && !bp->catalog) || !bp->username ||
                   !bp->password || !bp->log_level || !bp->extra_args;
        for (size_t i = 0; !oom && i < n_extra; i++)
                oom = !(bp->extra_args[i] = osb_strdup(cfg->extra_args[i]));

        const char *parent = cfg->tmp_parent ? cfg->tmp_parent : getenv("TMPDIR");
        if (!parent || !*parent)
                parent = "/tmp";
        if (!oom)
                oom = !(bp->dir = osb_asprintf("%s/osb-broker-XXXXXX", parent));
        if (oom) {
                broker_proc_free(bp, false);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        if (!mkdtemp(bp->dir)) {
                int e = errno;
                osb_error_set(err, -e, "mkdtemp %s: %s", bp->dir, strerror(e));
                osb_free(bp->dir);
                bp->dir = NULL;
                broker_proc_free(bp, false);
                return -e;
        }
        bp->log_path = osb_asprintf("%s/broker.log", bp->dir);
        bp->port_path = osb_asprintf("%s/port", bp->dir);
        int r = 0;
        if (cfg->store) {
                bp->db_path = osb_strdup(cfg->store);
                bp->pg = strncmp(cfg->store, "postgres", 8) == 0;
        } else if (broker_proc_store_is_postgresql()) {
                /* One database per broker: "osb-broker-XXXXXX" made a valid name. */
                char name[64];
                const char *base = strrchr(bp->dir, '/');
                (void) snprintf(name, sizeof(name), "bt_%ld_%s", (long) getpid(), base ? base + 1 : bp->dir);
                for (char *p = name; *p; p++)
                        *p = isalnum((unsigned char) *p) ? (char) tolower((unsigned char) *p) : '_';
                r = pg_create_database(name, &bp->db_path, err);
                bp->pg = true;
        } else {
                bp->db_path = osb_asprintf("%s/broker.db", bp->dir);
        }
        if (r < 0 || !bp->log_path || !bp->db_path || !bp->port_path) {
                broker_proc_free(bp, false);
                return r < 0 ? r : osb_error_set(err, -ENOMEM, "out of memory");
        }
        r = spawn(bp, err);
        if (r < 0) {
                if (cfg->keep_dir_on_failure)
                        osb_error_prefix(err, "%s: ", bp->log_path);
                broker_proc_free(bp, cfg->keep_dir_on_failure);
                return r;
        }
        *ret = bp;
        return 0;
}

int broker_proc_stop(struct broker_proc *bp, unsigned timeout_ms, struct osb_error *err)
{
        if (!bp->pid)
                return 0;
        if (timeout_ms == 0)
                timeout_ms = 15000;
        (void) kill(bp->pid, SIGTERM);
        uint64_t deadline = now_ms() + timeout_ms;
        int status = 0;
        bool killed = false;
        for (;;) {
                pid_t w = waitpid(bp->pid, &status, WNOHANG);
                if (w == bp->pid || (w < 0 && errno == ECHILD))
                        break;
                if (!killed && now_ms() >= deadline) {
                        (void) kill(bp->pid, SIGKILL);
                        killed = true;
                }
                sleep_ms(5);
        }
        bp->pid = 0;
        bp->port = 0;
        bp->url[0] = '\0';
        if (killed)
                return osb_error_set(err, -ETIMEDOUT,
                                     "broker did not exit within %u ms of SIGTERM; killed",
                                     timeout_ms);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        osb_autofree char *what = describe_status(status);
        osb_error_set(err, -ECHILD, "broker %s after SIGTERM", what ? what : "failed");
        append_log_tail(bp, err);
        return -ECHILD;
}

int broker_proc_kill(struct broker_proc *bp)
{
        if (!bp->pid)
                return 0;
        (void) kill(bp->pid, SIGKILL);
        while (waitpid(bp->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        bp->pid = 0;
        bp->port = 0;
        bp->url[0] = '\0';
        return 0;
}

int broker_proc_restart(struct broker_proc *bp, struct osb_error *err)
{
        int r = broker_proc_stop(bp, 0, err);
        if (r < 0)
                return r;
        return spawn(bp, err);
}

uint16_t broker_proc_port(const struct broker_proc *bp)
{
        return bp->port;
}

pid_t broker_proc_pid(const struct broker_proc *bp)
{
        return bp->pid;
}

bool broker_proc_running(const struct broker_proc *bp)
{
        return bp->pid != 0;
}

const char *broker_proc_url(const struct broker_proc *bp)
{
        return bp->url;
}

const char *broker_proc_dir(const struct broker_proc *bp)
{
        return bp->dir;
}

const char *broker_proc_log_path(const struct broker_proc *bp)
{
        return bp->log_path;
}

const char *broker_proc_db_path(const struct broker_proc *bp)
{
        return bp->db_path;
}

/* Removes @dir and the files in it (the broker makes no subdirectories). */
static void remove_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) rmdir(dir);
}

struct broker_proc *broker_proc_free(struct broker_proc *bp, bool keep_dir)
{
        if (!bp)
                return NULL;
        (void) broker_proc_kill(bp);
        if (bp->dir && !keep_dir)
                remove_dir(bp->dir);
        for (size_t i = 0; bp->extra_args && bp->extra_args[i]; i++)
                osb_free(bp->extra_args[i]);
        osb_free(bp->extra_args);
        osb_free(bp->broker);
        osb_free(bp->catalog);
        osb_free(bp->username);
        osb_free(bp->password);
        osb_free(bp->log_level);
        osb_free(bp->dir);
        osb_free(bp->log_path);
        osb_free(bp->db_path);
        osb_free(bp->port_path);
        osb_free(bp);
        return NULL;
}
