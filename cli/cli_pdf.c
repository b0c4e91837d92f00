#include "cli_pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define PATH_CAP 4096

/* The browser to print with: TL_CHROMIUM, or the first known name on
 * PATH. */
static status find_browser(char *out, size_t cap, err *e)
{
    static const char *const names[] = {"chromium", "chromium-browser",
                                        "google-chrome"};
    const char *env = getenv("TL_CHROMIUM");
    const char *path = getenv("PATH");

    if (env != NULL && env[0] != '\0') {
        if (access(env, X_OK) != 0)
            return err_set(e, ST_CONFIG,
                           "TL_CHROMIUM is %s, which is not an executable "
                           "file",
                           env);
        snprintf(out, cap, "%s", env);
        return ST_OK;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *p = path != NULL ? path : "/usr/bin:/bin";

        while (*p != '\0') {
            size_t n = strcspn(p, ":");

            if (n > 0 &&
                (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, names[k]) <
                    cap &&
                access(out, X_OK) == 0)
                return ST_OK;
            p += n;
            if (*p == ':')
                p++;
        }
    }
    return err_set(e, ST_CONFIG,
                   "PDFs are printed by Chromium, which is not installed; "
                   "run scripts/deps.sh (Debian package chromium), set "
                   "TL_CHROMIUM to a Chromium binary, or export --format "
                   "html and print that");
}

/* "file://" and the absolute path, with every byte outside the unreserved
 * set percent-encoded, so a path with spaces is a valid URL. */
static status file_url(const char *path, char *out, size_t cap, err *e)
{
    static const char hex[] = "0123456789ABCDEF";
    char abs[PATH_MAX];
    size_t n;

    if (realpath(path, abs) == NULL)
        return err_set(e, ST_IO, "%s: %s", path, strerror(errno));
    n = (size_t)snprintf(out, cap, "file://");
    for (const unsigned char *c = (const unsigned char *)abs; *c != '\0'; c++) {
        if (n + 4 >= cap)
            return err_set(e, ST_IO, "%s: path too long", path);
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
            (*c >= '0' && *c <= '9') || strchr("/-._~", *c) != NULL) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    out[n] = '\0';
    return ST_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* The last non-empty line of the browser's log, for an error message. */
static void last_words(const char *log, char *out, size_t cap)
{
    FILE *f = fopen(log, "r");
    char line[512];

    snprintf(out, cap, "no output");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0')
            snprintf(out, cap, "%s", line);
    }
    fclose(f);
}

static bool looks_like_pdf(const char *path)
{
    FILE *f = fopen(path, "rb");
    char head[5] = {0};
    bool ok;

    if (f == NULL)
        return false;
    ok = fread(head, 1, sizeof(head), f) == sizeof(head) &&
         memcmp(head, "%PDF-", 5) == 0;
    fclose(f);
    return ok;
}

/* Run the browser in its own process group and wait for it, at most
 * CLI_PDF_TIMEOUT_S; *code is its exit status. */
static status run_browser(char *const argv[], const char *log, int *code,
                          err *e)
{
    int64_t deadline = clock_mono_us() + (int64_t)CLI_PDF_TIMEOUT_S * 1000000;
    struct timespec tick = {0, 50 * 1000000L};
    int wstatus = 0;
    pid_t pid;

    pid = fork();
    if (pid < 0)
        return err_set(e, ST_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_RDONLY);

        setpgid(0, 0);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    /* Wait without reaping, so that the group's id cannot be reused
     * before the helpers the browser may leave behind are killed with
     * it. */
    for (;;) {
        siginfo_t info;

        memset(&info, 0, sizeof(info));
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR)
                continue;
            return err_set(e, ST_IO, "waitid: %s", strerror(errno));
        }
        if (info.si_pid == pid)
            break;
        if (clock_mono_us() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            return err_set(e, ST_TIMEOUT,
                           "%s did not print the PDF within %d s", argv[0],
                           CLI_PDF_TIMEOUT_S);
        }
        nanosleep(&tick, NULL);
    }
    kill(-pid, SIGKILL);
    if (waitpid(pid, &wstatus, 0) < 0)
        return err_set(e, ST_IO, "waitpid: %s", strerror(errno));
    *code = WIFEXITED(wstatus)
                ? WEXITSTATUS(wstatus)
                : 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    return ST_OK;
}

status cli_pdf_print(const char *html, const char *pdf, err *e)
{
    char browser[PATH_CAP], url[PATH_CAP * 3], dir[PATH_CAP];
    char profile[PATH_CAP + 32], log[PATH_CAP + 32], tmp[PATH_CAP + 8];
    char print_to[PATH_CAP + 32], user_dir[PATH_CAP + 48];
    char cache_dir[PATH_CAP + 48], crash_dir[PATH_CAP + 48], words[512];
    const char *tmpdir = getenv("TMPDIR");
    bool made_dir = false;
    int code = 0;
    status s;

    if ((s = find_browser(browser, sizeof(browser), e)) != ST_OK ||
        (s = file_url(html, url, sizeof(url), e)) != ST_OK)
        return s;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", pdf) >= sizeof(tmp))
        return err_set(e, ST_IO, "%s: path too long", pdf);
    snprintf(dir, sizeof(dir), "%s/twinline-pdf-XXXXXX",
             tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
    if (mkdtemp(dir) == NULL)
        return err_set(e, ST_IO, "create a temporary directory in %s: %s",
                       tmpdir != NULL ? tmpdir : "/tmp", strerror(errno));
    made_dir = true;
    snprintf(profile, sizeof(profile), "%s/profile", dir);
    snprintf(log, sizeof(log), "%s/chromium.log", dir);
    snprintf(print_to, sizeof(print_to), "--print-to-pdf=%s", tmp);
    snprintf(user_dir, sizeof(user_dir), "--user-data-dir=%s", profile);
    snprintf(cache_dir, sizeof(cache_dir), "--disk-cache-dir=%s/cache", dir);
    snprintf(crash_dir, sizeof(crash_dir), "--crash-dumps-dir=%s/crash", dir);
    {
        /* The sandbox is off because Chromium's cannot start as root or
         * in most containers; what it renders is one local page we wrote
         * ourselves, which has no scripts and fetches nothing. (Turning
         * scripts off with --blink-settings also stops the printing.) */
        char *const argv[] = {browser,
                              "--headless",
                              "--disable-gpu",
                              "--no-sandbox",
                              "--no-first-run",
                              "--no-default-browser-check",
                              "--disable-extensions",
                              "--disable-background-networking",
                              "--disable-sync",
                              "--disable-component-update",
                              "--no-pdf-header-footer",
                              user_dir,
                              cache_dir,
                              crash_dir,
                              print_to,
                              url,
                              NULL};

        unlink(tmp);
        if ((s = run_browser(argv, log, &code, e)) != ST_OK)
            goto out;
    }
    if (code != 0 || !looks_like_pdf(tmp)) {
        last_words(log, words, sizeof(words));
        s = err_set(e, ST_IO, "%s %s and wrote no PDF (%s); its log said: %s",
                    browser,
                    code == 0 ? "finished"
                              : (code == 127 ? "could not start" : "failed"),
                    pdf, words);
        goto out;
    }
    if (rename(tmp, pdf) != 0)
        s = err_set(e, ST_IO, "rename %s: %s", tmp, strerror(errno));
out:
    if (s != ST_OK)
        unlink(tmp);
    if (made_dir)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return s;
}
