/*
 * tenantkit_context: tenantkit.verified_principal() in C.
 *
 * It makes exactly the decisions of the portable plpgsql verifier (Schema/0012): a 220-digit
 * claim, its HMAC under an unretired key, the backend it was signed for, its expiry, then a
 * current membership, an unrevoked key with the presented hash, or an operator login. What it
 * saves is the work around them: the plpgsql verifier spends about 90 us per statement on two
 * SPI lookups and two OpenSSL digests; this one reads the tables' indexes directly and keeps
 * each key's HMAC chaining states and the memberships and keys it has seen valid in backend
 * memory.
 *
 * The caches only ever answer "valid": a miss, or anything not cached, goes to the tables under
 * the statement's snapshot, as the portable verifier does. A verdict is cached only when a fresh
 * snapshot (taken after the invalidations processed so far) agrees, and the caches are emptied by
 * relcache invalidation of the table they mirror, which the triggers of 0017 send on every change
 * (tenantkit.context_cache_invalidate). Every call first takes the invalidations other backends
 * have committed. So a cache never holds a verdict a committed change has undone: after a removal's
 * COMMIT returned, a statement whose snapshot sees the removal refuses the member (under READ
 * COMMITTED, the next statement; under REPEATABLE READ both verifiers decide as of the
 * transaction's snapshot).
 *
 * The backend binding compares with MyProcPid; on Citus the claim is bound to the coordinator's
 * global process id, so a distributed database keeps the portable verifier until the scale-out
 * work teaches this one citus_backend_gpid().
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "prepare_guard.h"
#include "sha256.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	install_prepare_guard_if_preloaded();
}

PG_FUNCTION_INFO_V1(tenantkit_verified_principal);
PG_FUNCTION_INFO_V1(tenantkit_context_cache_invalidate);

/* The claim's layout, as 0-based offsets (0012 lists them 1-based). */
#define CLAIM_LENGTH 220
#define CLAIM_SIGNED_LENGTH 156
#define OFF_KIND 1
#define OFF_KEY_ID 2
#define OFF_PRINCIPAL 10
#define OFF_ORG 42
#define OFF_PROOF 74
#define OFF_PID 138
#define OFF_EXPIRY 146
#define OFF_MAC 156

/* A cache larger than this is emptied rather than grown: it only saves lookups. */
#define MAX_CACHED 50000

typedef struct CachedKey
{
	char		key_id[8];
	Sha256State inner;			/* SHA-256 state after the inner pad block */
	Sha256State outer;			/* ... after the outer pad block */
} CachedKey;

typedef struct MemberKey
{
	pg_uuid_t	user_id;
	pg_uuid_t	org_id;
} MemberKey;

typedef struct CachedMember
{
	MemberKey	key;
	char		role[16];
} CachedMember;

typedef struct APIKeyKey
{
	pg_uuid_t	key_id;
	pg_uuid_t	org_id;
	uint8_t		presented_hash[32];
} APIKeyKey;

/* What the caches mirror, and how often each was invalidated (to drop fills that raced one). */
typedef enum Mirror
{
	MIRROR_KEYS,
	MIRROR_MEMBERS,
	MIRROR_API_KEYS,
	MIRROR_COUNT
} Mirror;

static HTAB *caches[MIRROR_COUNT];
static Oid	mirrored_relids[MIRROR_COUNT];
static uint64 invalidations[MIRROR_COUNT];
static bool callback_registered = false;

static const char *const mirrored_tables[MIRROR_COUNT][2] = {
	{"tenantkit", "context_keys"},
	{"public", "memberships"},
	{"public", "api_keys"},
};

static void
forget(Mirror mirror)
{
	invalidations[mirror]++;
	if (caches[mirror] != NULL)
	{
		hash_destroy(caches[mirror]);
		caches[mirror] = NULL;
	}
}

static void
relcache_changed(Datum arg, Oid relid)
{
	for (int m = 0; m < MIRROR_COUNT; m++)
		if (relid == InvalidOid || relid == mirrored_relids[m])
			forget((Mirror) m);
}

static HTAB *
cache_for(Mirror mirror)
{
	static const Size key_sizes[MIRROR_COUNT] = {8, sizeof(MemberKey), sizeof(APIKeyKey)};
	static const Size entry_sizes[MIRROR_COUNT] = {sizeof(CachedKey), sizeof(CachedMember), sizeof(APIKeyKey)};
	HASHCTL		ctl;

	if (caches[mirror] != NULL && hash_get_num_entries(caches[mirror]) >= MAX_CACHED)
		forget(mirror);
	if (caches[mirror] == NULL)
	{
		ctl.keysize = key_sizes[mirror];
		ctl.entrysize = entry_sizes[mirror];
		ctl.hcxt = TopMemoryContext;
		caches[mirror] = hash_create("tenantkit_context cache", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return caches[mirror];
}

/* Registers for invalidations of the mirrored tables, before the first read of any of them. */
static void
watch_mirrored_tables(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
		callback_registered = true;
	}
	for (int m = 0; m < MIRROR_COUNT; m++)
	{
		Oid			nsp = get_namespace_oid(mirrored_tables[m][0], false);

		mirrored_relids[m] = get_relname_relid(mirrored_tables[m][1], nsp);
		if (!OidIsValid(mirrored_relids[m]))
			elog(ERROR, "tenantkit_context: table %s.%s is missing", mirrored_tables[m][0], mirrored_tables[m][1]);
	}
}

/* ---- reading the mirrored tables ---- */

/*
 * The tables are read directly (index or heap scans), not through SPI: this code is the owner's,
 * and the owner's row-level security policy on them is TRUE. Every column it reads is checked
 * for its type first, so a table of the same name but another shape is an error, never a
 * misread.
 */
static AttrNumber
typed_column(Relation relation, const char *name, Oid type)
{
	TupleDesc	descriptor = RelationGetDescr(relation);

	for (int i = 0; i < descriptor->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(descriptor, i);

		if (!attribute->attisdropped && strcmp(NameStr(attribute->attname), name) == 0)
		{
			if (attribute->atttypid != type)
				break;
			return (AttrNumber) (i + 1);
		}
	}
	elog(ERROR, "tenantkit_context: %s.%s must be a column of type %s", RelationGetRelationName(relation), name,
		 format_type_be(type));
	return InvalidAttrNumber;	/* not reached */
}

/*
 * A snapshot that sees every commit whose invalidation this backend has processed: what a cached
 * verdict must come from. (Commits become visible before their invalidations are sent.)
 */
static Snapshot
fresh_snapshot(void)
{
	return RegisterSnapshot(GetLatestSnapshot());
}

/* The statement's own snapshot: what the decision is made under, as the portable verifier's. */
static Snapshot
statement_snapshot(void)
{
	return RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot());
}

/*
 * The value of `column` (of type `type`) in the live row of public.`table` whose primary key
 * (org_id, `id_column`) is (org, id) under `snapshot`, copied into the current memory context;
 * false when there is no such row or the value is NULL.
 */
static bool
fetch_by_org_key(const char *table, const char *id_column, pg_uuid_t *org, pg_uuid_t *id, Snapshot snapshot,
				 const char *column, Oid type, Datum *value, bool *revoked)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid("public", false));
	Relation	relation;
	Oid			index;
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	row;
	bool		found = false;

	if (!OidIsValid(relid))
		elog(ERROR, "tenantkit_context: table public.%s is missing", table);
	relation = table_open(relid, AccessShareLock);
	index = RelationGetPrimaryKeyIndex(relation);
	if (!OidIsValid(index))
		elog(ERROR, "tenantkit_context: public.%s needs its primary key (org_id, %s)", table, id_column);
	/* Heap column numbers: systable_beginscan maps them onto the index's columns. */
	ScanKeyInit(&keys[0], typed_column(relation, "org_id", UUIDOID), BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(org));
	ScanKeyInit(&keys[1], typed_column(relation, id_column, UUIDOID), BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(id));
	{
		AttrNumber	wanted = typed_column(relation, column, type);
		AttrNumber	revoked_at = revoked ? typed_column(relation, "revoked_at", TIMESTAMPTZOID) : InvalidAttrNumber;

		scan = systable_beginscan(relation, index, true, snapshot, 2, keys);
		row = systable_getnext(scan);
		if (HeapTupleIsValid(row))
		{
			bool		isnull;
			Datum		datum = heap_getattr(row, wanted, RelationGetDescr(relation), &isnull);

			if (!isnull)
			{
				*value = datumCopy(datum, false, -1);
				found = true;
			}
			if (revoked)
			{
				(void) heap_getattr(row, revoked_at, RelationGetDescr(relation), &isnull);
				*revoked = !isnull;
			}
		}
		systable_endscan(scan);
	}
	table_close(relation, NoLock);	/* the lock is held to the end of the transaction, as a query's */
	return found;
}

/* ---- keys ---- */

/* Every unretired key as of a fresh snapshot, in `*count` entries (palloc'd). */
static CachedKey *
read_keys(int *count)
{
	Relation	relation = table_open(mirrored_relids[MIRROR_KEYS], AccessShareLock);
	AttrNumber	id_column = typed_column(relation, "key_id", TEXTOID);
	AttrNumber	inner_column = typed_column(relation, "inner_pad", BYTEAOID);
	AttrNumber	outer_column = typed_column(relation, "outer_pad", BYTEAOID);
	AttrNumber	retired_column = typed_column(relation, "retired_at", TIMESTAMPTZOID);
	Snapshot	snapshot = fresh_snapshot();
	SysScanDesc scan = systable_beginscan(relation, InvalidOid, false, snapshot, 0, NULL);
	HeapTuple	row;
	int			capacity = 4;
	CachedKey  *keys = palloc(sizeof(CachedKey) * capacity);

	*count = 0;
	while (HeapTupleIsValid(row = systable_getnext(scan)))
	{
		TupleDesc	descriptor = RelationGetDescr(relation);
		bool		id_null, inner_null, outer_null, retired_null;
		Datum		id = heap_getattr(row, id_column, descriptor, &id_null);
		Datum		inner = heap_getattr(row, inner_column, descriptor, &inner_null);
		Datum		outer = heap_getattr(row, outer_column, descriptor, &outer_null);
		text	   *id_text;
		bytea	   *inner_bytes;
		bytea	   *outer_bytes;

		(void) heap_getattr(row, retired_column, descriptor, &retired_null);
		if (id_null || inner_null || outer_null || !retired_null)
			continue;
		id_text = DatumGetTextPP(id);
		inner_bytes = DatumGetByteaPP(inner);
		outer_bytes = DatumGetByteaPP(outer);
		if (VARSIZE_ANY_EXHDR(id_text) != 8 || VARSIZE_ANY_EXHDR(inner_bytes) != 64 || VARSIZE_ANY_EXHDR(outer_bytes) != 64)
			continue;			/* the table's checks make this impossible */
		if (*count == capacity)
		{
			capacity *= 2;
			keys = repalloc(keys, sizeof(CachedKey) * capacity);
		}
		memcpy(keys[*count].key_id, VARDATA_ANY(id_text), 8);
		sha256_after_block(&keys[*count].inner, (const uint8_t *) VARDATA_ANY(inner_bytes));
		sha256_after_block(&keys[*count].outer, (const uint8_t *) VARDATA_ANY(outer_bytes));
		(*count)++;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(relation, NoLock);
	return keys;
}

/*
 * The unretired key `key_id` into `*key`; false when there is none. A miss in a filled cache is
 * final: installing or retiring a key empties every backend's cache when it commits.
 */
static bool
signing_key(const char *key_id, CachedKey *key)
{
	HTAB	   *cache = cache_for(MIRROR_KEYS);
	CachedKey  *cached;
	CachedKey  *keys = NULL;
	int			count = 0;

	if (hash_get_num_entries(cache) > 0 || IsInParallelMode())
	{
		/* A parallel worker cannot take a fresh snapshot to load keys: a cold cache rejects there. */
		cached = hash_search(cache, key_id, HASH_FIND, NULL);
		if (cached != NULL)
			*key = *cached;
		return cached != NULL;
	}
	watch_mirrored_tables();
	/* Read until no invalidation arrived meanwhile (then the cache may keep it), at most three times. */
	for (int attempt = 0; attempt < 3; attempt++)
	{
		uint64		seen = invalidations[MIRROR_KEYS];

		keys = read_keys(&count);
		if (seen == invalidations[MIRROR_KEYS])
		{
			cache = cache_for(MIRROR_KEYS);
			for (int i = 0; i < count; i++)
				*(CachedKey *) hash_search(cache, keys[i].key_id, HASH_ENTER, NULL) = keys[i];
			break;
		}
	}
	for (int i = 0; i < count; i++)
		if (memcmp(keys[i].key_id, key_id, 8) == 0)
		{
			*key = keys[i];
			return true;
		}
	return false;
}

/* ---- memberships and API keys ---- */

/* The user's role in the org as of `snapshot` into `role` (16 bytes); false for no membership. */
static bool
role_under(pg_uuid_t *user, pg_uuid_t *org, Snapshot snapshot, char role[16])
{
	Datum		value;

	memset(role, 0, 16);
	if (!fetch_by_org_key("memberships", "user_id", org, user, snapshot, "role", TEXTOID, &value, NULL))
		return false;
	text_to_cstring_buffer(DatumGetTextPP(value), role, 16);
	return role[0] != '\0';
}

/*
 * The member's role; false when the user is not a member. Decided under the statement's
 * snapshot, like the portable verifier; cached only when a fresh snapshot agrees, so a removal
 * that committed before this call can never be cached as a membership.
 */
static bool
member_role(pg_uuid_t *user, pg_uuid_t *org, char role[16])
{
	MemberKey	key = {*user, *org};
	CachedMember *cached = hash_search(cache_for(MIRROR_MEMBERS), &key, HASH_FIND, NULL);
	Snapshot	snapshot;
	bool		found;

	if (cached != NULL)
	{
		memcpy(role, cached->role, 16);
		return true;
	}
	watch_mirrored_tables();
	snapshot = statement_snapshot();
	found = role_under(user, org, snapshot, role);
	UnregisterSnapshot(snapshot);
	/* In a parallel worker no fresh snapshot can be taken: decide, but do not cache. */
	if (found && !IsInParallelMode())
	{
		uint64		seen = invalidations[MIRROR_MEMBERS];
		char		fresh_role[16];

		snapshot = fresh_snapshot();
		if (role_under(user, org, snapshot, fresh_role) && strcmp(fresh_role, role) == 0
			&& seen == invalidations[MIRROR_MEMBERS])
			memcpy(((CachedMember *) hash_search(cache_for(MIRROR_MEMBERS), &key, HASH_ENTER, NULL))->role, role, 16);
		UnregisterSnapshot(snapshot);
	}
	return found;
}

/* True when, as of `snapshot`, the key exists unrevoked with the presented hash. */
static bool
api_key_valid_under(pg_uuid_t *key_id, pg_uuid_t *org, const uint8_t presented_hash[32], Snapshot snapshot)
{
	Datum		value;
	bool		revoked = true;
	bytea	   *hash;

	if (!fetch_by_org_key("api_keys", "id", org, key_id, snapshot, "key_hash", BYTEAOID, &value, &revoked) || revoked)
		return false;
	hash = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(hash) == 32 && memcmp(VARDATA_ANY(hash), presented_hash, 32) == 0;
}

/* True when the key is unrevoked and its hash is the presented one; cached as member_role is. */
static bool
api_key_is_valid(pg_uuid_t *key_id, pg_uuid_t *org, const uint8_t presented_hash[32])
{
	APIKeyKey	key;
	Snapshot	snapshot;
	bool		valid;

	memset(&key, 0, sizeof(key));
	key.key_id = *key_id;
	key.org_id = *org;
	memcpy(key.presented_hash, presented_hash, 32);
	if (hash_search(cache_for(MIRROR_API_KEYS), &key, HASH_FIND, NULL) != NULL)
		return true;
	watch_mirrored_tables();
	snapshot = statement_snapshot();
	valid = api_key_valid_under(key_id, org, presented_hash, snapshot);
	UnregisterSnapshot(snapshot);
	if (valid && !IsInParallelMode())
	{
		uint64		seen = invalidations[MIRROR_API_KEYS];

		snapshot = fresh_snapshot();
		if (api_key_valid_under(key_id, org, presented_hash, snapshot) && seen == invalidations[MIRROR_API_KEYS])
			(void) hash_search(cache_for(MIRROR_API_KEYS), &key, HASH_ENTER, NULL);
		UnregisterSnapshot(snapshot);
	}
	return valid;
}

/* ---- hex (every caller has checked the alphabet) ---- */

static int
hex_value(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void
hex_bytes(const char *hex, int count, uint8_t *out)
{
	for (int i = 0; i < count; i++)
		out[i] = (uint8_t) (hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
}

static uint64
hex_number(const char *hex, int digits)
{
	uint64		value = 0;

	for (int i = 0; i < digits; i++)
		value = value << 4 | (uint64) hex_value(hex[i]);
	return value;
}

static bool
all_zero(const char *hex, int digits)
{
	for (int i = 0; i < digits; i++)
		if (hex[i] != '0')
			return false;
	return true;
}

/* ---- the verifier ---- */

/* True when `claim` is a well-formed, correctly signed, unexpired claim of this backend. */
static bool
claim_is_signed_for_this_backend(const char *claim)
{
	CachedKey	key;
	uint8_t		inner[32];
	uint8_t		mac[32];
	uint8_t		presented[32];
	uint8_t		difference = 0;
	TimestampTz expiry;

	for (int i = 0; i < CLAIM_LENGTH; i++)
		if (!((claim[i] >= '0' && claim[i] <= '9') || (claim[i] >= 'a' && claim[i] <= 'f')))
			return false;
	if (!signing_key(claim + OFF_KEY_ID, &key))
		return false;
	sha256_finish(&key.inner, 1, (const uint8_t *) claim, CLAIM_SIGNED_LENGTH, inner);
	sha256_finish(&key.outer, 1, inner, sizeof(inner), mac);
	hex_bytes(claim + OFF_MAC, 32, presented);
	for (int i = 0; i < 32; i++)
		difference |= mac[i] ^ presented[i];	/* constant time: no oracle on a forged MAC */
	if (difference != 0)
		return false;
	if (hex_number(claim + OFF_PID, 8) != (uint64) MyProcPid)
		return false;
	expiry = ((TimestampTz) hex_number(claim + OFF_EXPIRY, 10) -
			  (TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC;
	return expiry > GetCurrentStatementStartTimestamp();
}

Datum
tenantkit_verified_principal(PG_FUNCTION_ARGS)
{
	const char *setting = GetConfigOption("tenantkit.claim", true, false);
	/* A copy: the setting's storage belongs to the GUC machinery. */
	const char *claim = setting ? pstrdup(setting) : NULL;
	TupleDesc	descriptor;
	Datum		values[4] = {0};
	bool		nulls[4] = {true, true, true, true};
	pg_uuid_t	org_id;
	pg_uuid_t	principal;

	/*
	 * Take the invalidations committed so far, as a new snapshot would see their writes: without
	 * this an open transaction would keep a cached membership until it next locks a new table.
	 * When nothing is pending this is one unlocked read of shared memory.
	 */
	AcceptInvalidationMessages();
	if (claim == NULL || strlen(claim) != CLAIM_LENGTH || !claim_is_signed_for_this_backend(claim))
		PG_RETURN_NULL();
	hex_bytes(claim + OFF_PRINCIPAL, 16, principal.data);
	hex_bytes(claim + OFF_ORG, 16, org_id.data);

	switch (claim[OFF_KIND])
	{
		case '1':
			{
				char		role[16];

				values[1] = UUIDPGetDatum(palloc(sizeof(pg_uuid_t)));
				memcpy(DatumGetPointer(values[1]), &principal, sizeof(principal));
				nulls[1] = false;
				if (member_role(&principal, &org_id, role))
				{
					values[0] = UUIDPGetDatum(palloc(sizeof(pg_uuid_t)));
					memcpy(DatumGetPointer(values[0]), &org_id, sizeof(org_id));
					values[3] = CStringGetTextDatum(role);
					nulls[0] = nulls[3] = false;
				}
				break;
			}
		case '2':
			{
				uint8_t		presented_hash[32];

				hex_bytes(claim + OFF_PROOF, 32, presented_hash);
				if (!api_key_is_valid(&principal, &org_id, presented_hash))
					PG_RETURN_NULL();
				values[0] = UUIDPGetDatum(palloc(sizeof(pg_uuid_t)));
				memcpy(DatumGetPointer(values[0]), &org_id, sizeof(org_id));
				values[2] = UUIDPGetDatum(palloc(sizeof(pg_uuid_t)));
				memcpy(DatumGetPointer(values[2]), &principal, sizeof(principal));
				values[3] = CStringGetTextDatum("member");
				nulls[0] = nulls[2] = nulls[3] = false;
				break;
			}
		case '3':
			{
				/* Operator claims count only on an operator's own login (superusers included, as pg_has_role). */
				Oid			operator_role = get_role_oid("tenantkit_operator", true);

				if (!OidIsValid(operator_role) || !is_member_of_role(GetSessionUserId(), operator_role))
					PG_RETURN_NULL();
				if (!all_zero(claim + OFF_ORG, 32))
				{
					values[0] = UUIDPGetDatum(palloc(sizeof(pg_uuid_t)));
					memcpy(DatumGetPointer(values[0]), &org_id, sizeof(org_id));
					nulls[0] = false;
				}
				values[3] = CStringGetTextDatum("operator");
				nulls[3] = false;
				break;
			}
		default:
			PG_RETURN_NULL();
	}

	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE || descriptor->natts != 4
		|| TupleDescAttr(descriptor, 0)->atttypid != UUIDOID || TupleDescAttr(descriptor, 1)->atttypid != UUIDOID
		|| TupleDescAttr(descriptor, 2)->atttypid != UUIDOID || TupleDescAttr(descriptor, 3)->atttypid != TEXTOID)
		elog(ERROR, "tenantkit_context: tenantkit.principal must be (org_id uuid, user_id uuid, api_key_id uuid, role text)");
	descriptor = BlessTupleDesc(descriptor);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls)));
}

/*
 * AFTER trigger on the mirrored tables (per row, and per statement for TRUNCATE): every
 * backend's cache of that table is emptied when the writing transaction commits (and this
 * backend's at once). Per row, so a statement that changes nothing flushes nothing.
 */
Datum
tenantkit_context_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
		elog(ERROR, "tenantkit.context_cache_invalidate() is an AFTER trigger");
	CacheInvalidateRelcache(trigger->tg_relation);
	return PointerGetDatum(NULL);
}
