#define _GNU_SOURCE
#include "ailab_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Between fork and exec only async-signal-safe system calls run: the parent has other threads. */
static void fail(int report, int code) {
    while (write(report, &code, sizeof code) < 0 && errno == EINTR) {}
    _exit(127);
}

static int place(int source, int target) {
    if (source < 0) {
        int null = open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
        if (null < 0) return -1;
        source = null;
    }
    if (source == target) return fcntl(target, F_SETFD, 0);
    return dup2(source, target) < 0 ? -1 : 0;
}

pid_t ailab_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd,
                  int bound, const char *directory) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        errno = code;
        return -1;
    }
    if (child == 0) {
        int status = report[1];
        if (status <= 2) {
            status = fcntl(status, F_DUPFD_CLOEXEC, 3);
            if (status < 0) _exit(127);
        }
        if (bound) {
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail(status, errno);
            /* The parent may have died before prctl: nobody would ever signal this child. */
            if (getppid() != parent) fail(status, ESRCH);
        }
        if (setpgid(0, 0) != 0) fail(status, errno);
        if (directory != NULL && chdir(directory) != 0) fail(status, errno);
        /* Descriptors first moved above 2 so that placing one cannot clobber another. */
        int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
        for (int i = 0; i < 3; i++) {
            if (fds[i] >= 0 && fds[i] <= 2) {
                fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (fds[i] < 0) fail(status, errno);
            }
        }
        for (int i = 0; i < 3; i++) {
            if (place(fds[i], i) != 0) fail(status, errno);
        }
        struct sigaction action = {0};
        action.sa_handler = SIG_DFL;
        for (int number = 1; number < NSIG; number++) {
            if (number != SIGKILL && number != SIGSTOP) sigaction(number, &action, NULL);
        }
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        /* Every other descriptor is closed; the status pipe closes itself at exec. */
        if (syscall(SYS_close_range, 3, status - 1, 0) != 0 || syscall(SYS_close_range, status + 1, ~0U, 0) != 0) {
            long limit = sysconf(_SC_OPEN_MAX);
            for (long fd = 3; fd < (limit > 0 ? limit : 65536); fd++) {
                if (fd != status) close((int)fd);
            }
        }
        execve(path, argv, envp);
        fail(status, errno);
    }
    close(report[1]);
    int code = 0;
    ssize_t got;
    while ((got = read(report[0], &code, sizeof code)) < 0 && errno == EINTR) {}
    close(report[0]);
    if (got == sizeof code) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        errno = code;
        return -1;
    }
    return child;
}

void ailab_one_malloc_arena(void) {
    mallopt(M_ARENA_MAX, 1);
}

int ailab_memory_file(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}
