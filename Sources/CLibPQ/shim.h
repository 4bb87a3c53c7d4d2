#ifndef TENANTKIT_CLIBPQ_SHIM_H
#define TENANTKIT_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>

// Wait until the connection's socket is readable and/or writable, or the timeout (ms, -1 = forever) passes.
// Returns poll()'s result: >0 ready, 0 timed out, <0 error (errno set).
static inline int tk_wait_socket(int fd, int for_read, int for_write, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = (short)((for_read ? POLLIN : 0) | (for_write ? POLLOUT : 0));
    p.revents = 0;
    return poll(&p, 1, timeout_ms);
}

#endif
