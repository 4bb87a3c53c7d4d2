/*
 * The prepare guard: PREPARE TRANSACTION refused to every role but a superuser, in a backend
 * that loaded this library at its start, except a Citus two-phase commit's own.
 *
 * A prepared transaction outlives its session: its locks, its transaction id (vacuum's horizon)
 * and one of max_prepared_transactions' slots stay until a superuser ends it. PostgreSQL has no
 * privilege for PREPARE TRANSACTION; its only switch is max_prepared_transactions = 0, which
 * Citus overrides on PostgreSQL 15 because its own two-phase commits need slots. So an SQL
 * injection as the app role could keep a transaction alive forever wherever 2PC is enabled.
 *
 * On Citus every node runs the guard: SQL an injection sends to the coordinator can reach a
 * worker's session (Citus forwards the whole text of a message holding a SET LOCAL), so the
 * coordinator alone is not enough. Citus's own prepares arrive as the application's role, named
 * citus_<group>_<pid>_<transaction>_<connection>; such a name is let through when <group> is a
 * node group of this cluster (pg_dist_node), because Citus's recovery (recover_2pc_interval) rolls
 * back every transaction of that shape that its group did not record: one an attacker names so
 * lives until the next recovery, not forever. Anywhere without Citus no name is let through.
 *
 * Why "loaded at its start" (session_preload_libraries or shared_preload_libraries) decides:
 * preloading is the deliberate act of an administrator, and a preloaded library is in place
 * before the session's first statement, so there is no window; no role below superuser can change
 * either setting. A library loaded on demand (the native verifier's) guards nothing.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "prepare_guard.h"

static ProcessUtility_hook_type previous_utility_hook = NULL;
static bool prepare_guard_on = false;

/* Whether `list` (a *_preload_libraries value) names this library, with or without a path. */
static bool
names_this_library(const char *list)
{
	char	   *copy;
	List	   *names;
	ListCell   *cell;
	bool		found = false;

	if (list == NULL || list[0] == '\0')
		return false;
	copy = pstrdup(list);
	if (!SplitDirectoriesString(copy, ',', &names))
		return false;
	foreach(cell, names)
	{
		const char *name = (const char *) lfirst(cell);
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		if (strcmp(base, "tenantkit_context") == 0 || strcmp(base, "tenantkit_context.so") == 0)
			found = true;
	}
	list_free_deep(names);
	pfree(copy);
	return found;
}

/* `digits` then `_` (or the end, when last): advances *text past them. */
static bool
take_number(const char **text, bool last, long *value)
{
	const char *start = *text;
	char	   *end;

	if (!isdigit((unsigned char) *start))
		return false;
	errno = 0;
	*value = strtol(start, &end, 10);
	if (errno != 0 || end - start > 19)
		return false;
	if (last ? *end != '\0' : *end != '_')
		return false;
	*text = last ? end : end + 1;
	return true;
}

/*
 * Whether `gid` is shaped like a Citus two-phase commit's (citus_<group>_<pid>_<n>_<n>) and names
 * a node group of this cluster, where Citus's recovery will end it if Citus did not record it.
 */
static bool
is_citus_transaction_of_this_cluster(const char *gid)
{
	const char *rest = gid;
	long		group,
				unused;
	bool		known = false;
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];

	if (gid == NULL || strncmp(rest, "citus_", 6) != 0)
		return false;
	rest += 6;
	if (!take_number(&rest, false, &group) || !take_number(&rest, false, &unused)
		|| !take_number(&rest, false, &unused) || !take_number(&rest, true, &unused)
		|| group > PG_INT32_MAX)
		return false;
	/* Not Citus here: nothing would ever end such a transaction. */
	if (!OidIsValid(get_relname_relid("pg_dist_node", PG_CATALOG_NAMESPACE)))
		return false;
	args[0] = Int32GetDatum((int32) group);
	if (SPI_connect() != SPI_OK_CONNECT)
		return false;
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_node WHERE groupid = $1", 1, argtypes, args,
							  NULL, true, 1) == SPI_OK_SELECT)
		known = SPI_processed > 0;
	SPI_finish();
	return known;
}

static void
refuse_prepare_transaction(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						   ProcessUtilityContext context, ParamListInfo params,
						   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *statement = pstmt->utilityStmt;

	if (IsA(statement, TransactionStmt)
		&& ((TransactionStmt *) statement)->kind == TRANS_STMT_PREPARE
		&& !superuser()
		&& !is_citus_transaction_of_this_cluster(((TransactionStmt *) statement)->gid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("PREPARE TRANSACTION is refused to role \"%s\"",
						GetUserNameFromId(GetUserId(), false)),
				 errdetail("TenantKit's prepare guard (tenantkit_context, preloaded) keeps every "
						   "transaction inside its session; only a superuser may prepare one, "
						   "and Citus its own two-phase commits.")));

	if (previous_utility_hook)
		previous_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

void
install_prepare_guard_if_preloaded(void)
{
	/* Not local_preload_libraries: any role may SET it, and may set it to nothing. */
	bool		preloaded = process_shared_preload_libraries_in_progress
		|| names_this_library(session_preload_libraries_string);

	/* Read-only, so `doctor` (and anyone) can see whether this session is guarded. */
	prepare_guard_on = preloaded;
	DefineCustomBoolVariable("tenantkit.prepare_guard",
							 "Whether this session refuses PREPARE TRANSACTION to every role but a superuser.",
							 "On where tenantkit_context is in session_preload_libraries or shared_preload_libraries.",
							 &prepare_guard_on, preloaded, PGC_INTERNAL, 0, NULL, NULL, NULL);
	if (!preloaded)
		return;
	previous_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = refuse_prepare_transaction;
}
