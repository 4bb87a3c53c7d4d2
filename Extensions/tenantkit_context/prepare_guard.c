/*
 * The prepare guard: PREPARE TRANSACTION refused to every role but a superuser, in a backend
 * that loaded this library at its start.
 *
 * A prepared transaction outlives its session: its locks, its transaction id (vacuum's horizon)
 * and one of max_prepared_transactions' slots stay until a superuser ends it. PostgreSQL has no
 * privilege for PREPARE TRANSACTION; its only switch is max_prepared_transactions = 0, which
 * Citus overrides on PostgreSQL 15 because its own two-phase commits need slots. So an SQL
 * injection as the app role could keep a transaction of its scope alive forever wherever 2PC is
 * enabled. This hook closes that where the application connects.
 *
 * Why "loaded at its start" (session_preload_libraries or shared_preload_libraries) decides:
 * the coordinator is where the application connects and where no role of it needs to prepare;
 * a worker receives Citus's own PREPARE TRANSACTION under the app's role and must let it through.
 * A worker also loads this library, lazily, the first time a policy calls the native verifier.
 * Preloading is the deliberate act of an administrator, so it is what turns the guard on, and a
 * library loaded on demand never does. A preloaded library is in place before the session's first
 * statement, so there is no window, and no role below superuser can change either setting.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

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

static void
refuse_prepare_transaction(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						   ProcessUtilityContext context, ParamListInfo params,
						   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *statement = pstmt->utilityStmt;

	if (IsA(statement, TransactionStmt)
		&& ((TransactionStmt *) statement)->kind == TRANS_STMT_PREPARE
		&& !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("PREPARE TRANSACTION is refused to role \"%s\"",
						GetUserNameFromId(GetUserId(), false)),
				 errdetail("TenantKit's prepare guard (tenantkit_context, preloaded) keeps every "
						   "transaction inside its session; only a superuser may prepare one.")));

	if (previous_utility_hook)
		previous_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

void
install_prepare_guard_if_preloaded(void)
{
	/*
	 * Not local_preload_libraries: any role may SET it, and on Citus a SET LOCAL reaches the
	 * workers, where a guard installed by the next lazy load would refuse Citus's own PREPAREs.
	 */
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
