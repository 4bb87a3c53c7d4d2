#ifndef TENANTKIT_BENCH_LIBPQ_SHIM_H
#define TENANTKIT_BENCH_LIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
