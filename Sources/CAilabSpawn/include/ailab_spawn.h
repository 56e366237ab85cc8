#ifndef AILAB_SPAWN_H
#define AILAB_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` as its own process group leader, with an empty signal
/// mask, every signal at its default, `stdin_fd`, `stdout_fd` and `stderr_fd` as descriptors 0 to 2 (-1 for
/// /dev/null), and no other descriptor. Returns the pid, or -1 with errno set (also when exec
/// itself failed). With `bound` it also gets PR_SET_PDEATHSIG(SIGTERM), so that it dies with the
/// thread that started it; a package change is started unbound and outlives ailab. A non-NULL
/// `directory` is its working directory.
pid_t ailab_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int stderr_fd,
                  int bound, const char *directory);

/// Limits malloc to one arena for the whole process: ailab's threads allocate little, and each
/// arena glibc makes for another thread costs resident pages of its own.
void ailab_one_malloc_arena(void);

/// A file in memory with no name on any file system (memfd_create(2), close-on-exec): a
/// command's stdin that nobody can swap or read. Returns the descriptor, or -1 with errno set.
int ailab_memory_file(const char *name);

#endif
