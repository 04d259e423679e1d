/*
 * pid.h — this process's id without a system call each time: glibc no
 * longer caches getpid(), and every log line and queue ID asks for it.
 * A forked child asks the kernel again.
 */
#ifndef PETREL_PID_H
#define PETREL_PID_H

#include <sys/types.h>

pid_t pid_current(void);

#endif
