#ifndef TENANTKIT_CLIBPQ_SHIM_H
#define TENANTKIT_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>

static inline void tk_close(int fd) { (void)close(fd); }

// Wait until the connection's socket is readable and/or writable, or the timeout (ms, -1 = forever) passes.
// Returns poll()'s result: >0 ready, 0 timed out, <0 error (errno set).
static inline int tk_wait_socket(int fd, int for_read, int for_write, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = (short)((for_read ? POLLIN : 0) | (for_write ? POLLOUT : 0));
    p.revents = 0;
    return poll(&p, 1, timeout_ms);
}

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

// epoll through plain integers: struct epoll_event is packed on x86-64, which is best kept out of Swift.

static inline int tk_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

// Adds `fd` disarmed (one-shot with no events), so nothing is reported until tk_epoll_arm.
static inline int tk_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event ev;
    ev.events = EPOLLONESHOT;
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

// Arms `fd` for one report: readable, plus writable when asked. Level-triggered, so data already
// buffered in the socket is reported at once.
static inline int tk_epoll_arm(int epfd, int fd, uint64_t token, int writable) {
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLONESHOT | (writable ? EPOLLOUT : 0);
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

// Adds `fd` (the wake-up eventfd) for readability, permanently.
static inline int tk_epoll_add_persistent(int epfd, int fd, uint64_t token) {
    struct epoll_event ev;
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static inline int tk_epoll_remove(int epfd, int fd) {
    struct epoll_event ev;
    ev.events = 0;
    ev.data.u64 = 0;
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

// Waits for up to `max` (at most 64) events; for each, its token and 1 (readable or hung up) | 2 (writable).
static inline int tk_epoll_wait(int epfd, uint64_t *tokens, uint32_t *ready, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t e = events[i].events;
        tokens[i] = events[i].data.u64;
        ready[i] = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ? 1u : 0u) | ((e & (EPOLLOUT | EPOLLERR)) ? 2u : 0u);
    }
    return n;
}

// Names the calling thread as the kernel shows it (top, perf): at most 15 bytes are kept.
static inline void tk_name_thread(const char *name) { (void)prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

static inline int tk_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
static inline void tk_eventfd_signal(int fd) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }
static inline void tk_eventfd_drain(int fd) { uint64_t value; ssize_t r = read(fd, &value, sizeof value); (void)r; }
#endif

#endif
