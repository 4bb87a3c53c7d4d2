#ifndef TENANTKIT_PREPARE_GUARD_H
#define TENANTKIT_PREPARE_GUARD_H

/* Installs the PREPARE TRANSACTION guard when this library was preloaded (see prepare_guard.c). */
extern void install_prepare_guard_if_preloaded(void);

#endif
