/*
 * tenantkit_context: tenantkit.verified_principal() in C.
 *
 * It makes exactly the decisions of the portable plpgsql verifier (Schema/0012): a 220-digit
 * claim, its HMAC under an unretired key, the backend it was signed for, its expiry, then a
 * current membership, an unrevoked key with the presented hash, or an operator login. What it
 * saves is the work around them: the plpgsql verifier spends about 90 us per statement on two
 * SPI lookups and two OpenSSL digests; this one keeps each key's HMAC chaining states and the
 * memberships and keys it has seen valid in backend memory.
 *
 * The caches only ever answer "valid": a miss, or anything not cached, goes to the tables. They
 * are emptied by relcache invalidation of the table they mirror, which the statement triggers of
 * 0017 send on every write (tenantkit.context_cache_invalidate). Every call first takes the
 * invalidations other backends have committed, so a removed member is refused from the first
 * statement that starts after the removal's COMMIT returned, inside an open transaction too.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "sha256.h"

PG_MODULE_MAGIC;

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

/* Runs `lookup` as the owner of the mirrored tables, with a pinned search_path and row security on. */
typedef void (*Lookup) (void *state);

static void
as_table_owner(Lookup lookup, void *state)
{
	Oid			saved_user;
	int			saved_context;
	int			nest_level;
	Oid			owner = InvalidOid;
	HeapTuple	tuple;

	watch_mirrored_tables();
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(mirrored_relids[MIRROR_KEYS]));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "tenantkit_context: cache lookup failed for tenantkit.context_keys");
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	nest_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("row_security", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "tenantkit_context: SPI_connect failed");
	lookup(state);
	SPI_finish();
	AtEOXact_GUC(true, nest_level);
	SetUserIdAndSecContext(saved_user, saved_context);
}

/* ---- keys ---- */

static void
load_keys(void *state)
{
	HTAB	   *cache;
	uint64		seen = invalidations[MIRROR_KEYS];

	if (SPI_execute("SELECT k.key_id, k.inner_pad, k.outer_pad FROM tenantkit.context_keys k "
					"WHERE k.retired_at IS NULL", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "tenantkit_context: cannot read tenantkit.context_keys");
	if (seen != invalidations[MIRROR_KEYS])
		return;					/* invalidated while reading: the next call reads again */
	cache = cache_for(MIRROR_KEYS);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		text	   *id = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		bytea	   *inner = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		bytea	   *outer = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
		CachedKey  *entry;
		bool		found;

		if (VARSIZE_ANY_EXHDR(id) != 8 || VARSIZE_ANY_EXHDR(inner) != 64 || VARSIZE_ANY_EXHDR(outer) != 64)
			continue;			/* the table's checks make this impossible */
		entry = hash_search(cache, VARDATA_ANY(id), HASH_ENTER, &found);
		sha256_after_block(&entry->inner, (const uint8_t *) VARDATA_ANY(inner));
		sha256_after_block(&entry->outer, (const uint8_t *) VARDATA_ANY(outer));
	}
}

static const CachedKey *
signing_key(const char *key_id)
{
	HTAB	   *cache = cache_for(MIRROR_KEYS);

	if (hash_get_num_entries(cache) == 0)
	{
		as_table_owner(load_keys, NULL);
		cache = cache_for(MIRROR_KEYS);
	}
	return hash_search(cache, key_id, HASH_FIND, NULL);
}

/* ---- hex ---- */

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

/* ---- memberships and API keys ---- */

/*
 * The live row of `table` whose primary key is (org_id, `column`) = (org, id), read through that
 * index under the statement's snapshot, as the portable verifier's lookup would see it. Row
 * security is not applied: the owner's policy on these tables is TRUE, and this code is the
 * owner's. Calls `use` on the row (in the table's tuple descriptor) and returns whether one exists.
 */
typedef void (*RowUse) (HeapTuple row, TupleDesc descriptor, void *state);

static bool
fetch_by_org_key(const char *table, const char *column, pg_uuid_t *org, pg_uuid_t *id, RowUse use, void *state)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid("public", false));
	Relation	relation;
	Oid			index;
	AttrNumber	org_column;
	AttrNumber	id_column;
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	row;
	bool		found = false;

	if (!OidIsValid(relid))
		elog(ERROR, "tenantkit_context: table public.%s is missing", table);
	relation = table_open(relid, AccessShareLock);
	index = RelationGetPrimaryKeyIndex(relation);
	org_column = get_attnum(relid, "org_id");
	id_column = get_attnum(relid, column);
	if (!OidIsValid(index) || org_column == InvalidAttrNumber || id_column == InvalidAttrNumber)
		elog(ERROR, "tenantkit_context: public.%s needs its primary key (org_id, %s)", table, column);
	/* Heap column numbers: systable_beginscan maps them onto the index's columns. */
	ScanKeyInit(&keys[0], org_column, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(org));
	ScanKeyInit(&keys[1], id_column, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(id));
	scan = systable_beginscan(relation, index, true,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(), 2, keys);
	row = systable_getnext(scan);
	if (HeapTupleIsValid(row))
	{
		found = true;
		use(row, RelationGetDescr(relation), state);
	}
	systable_endscan(scan);
	table_close(relation, NoLock);	/* the lock is held to the end of the transaction, as a query's */
	return found;
}

static Datum
column_value(HeapTuple row, TupleDesc descriptor, const char *name, bool *isnull)
{
	AttrNumber	column = InvalidAttrNumber;

	for (int i = 0; i < descriptor->natts; i++)
		if (!TupleDescAttr(descriptor, i)->attisdropped && strcmp(NameStr(TupleDescAttr(descriptor, i)->attname), name) == 0)
			column = i + 1;
	if (column == InvalidAttrNumber)
		elog(ERROR, "tenantkit_context: column %s is missing", name);
	return heap_getattr(row, column, descriptor, isnull);
}

static void
read_role(HeapTuple row, TupleDesc descriptor, void *state)
{
	char	   *role = state;
	bool		isnull;
	Datum		value = column_value(row, descriptor, "role", &isnull);

	if (!isnull)
		text_to_cstring_buffer(DatumGetTextPP(value), role, 16);
}

/* The member's role, cached; false when the user is not a member (roles are shorter than 16). */
static bool
member_role(pg_uuid_t *user, pg_uuid_t *org, char role[16])
{
	MemberKey	key = {*user, *org};
	CachedMember *cached = hash_search(cache_for(MIRROR_MEMBERS), &key, HASH_FIND, NULL);
	uint64		seen = invalidations[MIRROR_MEMBERS];

	if (cached != NULL)
	{
		memcpy(role, cached->role, 16);
		return true;
	}
	memset(role, 0, 16);
	watch_mirrored_tables();
	if (!fetch_by_org_key("memberships", "user_id", org, user, read_role, role) || role[0] == '\0')
		return false;
	if (seen == invalidations[MIRROR_MEMBERS])	/* else a write committed while we read */
		memcpy(((CachedMember *) hash_search(cache_for(MIRROR_MEMBERS), &key, HASH_ENTER, NULL))->role, role, 16);
	return true;
}

typedef struct KeyCheck
{
	const uint8_t *presented_hash;
	bool		valid;
} KeyCheck;

static void
check_api_key(HeapTuple row, TupleDesc descriptor, void *state)
{
	KeyCheck   *check = state;
	bool		revoked_null;
	bool		hash_null;
	bytea	   *hash;

	(void) column_value(row, descriptor, "revoked_at", &revoked_null);
	hash = DatumGetByteaPP(column_value(row, descriptor, "key_hash", &hash_null));
	check->valid = revoked_null && !hash_null && VARSIZE_ANY_EXHDR(hash) == 32 &&
		memcmp(VARDATA_ANY(hash), check->presented_hash, 32) == 0;
}

/* True when the key is unrevoked and its hash is the presented one; cached when true. */
static bool
api_key_is_valid(pg_uuid_t *key_id, pg_uuid_t *org, const uint8_t presented_hash[32])
{
	APIKeyKey	key;
	KeyCheck	check = {presented_hash, false};
	uint64		seen = invalidations[MIRROR_API_KEYS];

	memset(&key, 0, sizeof(key));
	key.key_id = *key_id;
	key.org_id = *org;
	memcpy(key.presented_hash, presented_hash, 32);
	if (hash_search(cache_for(MIRROR_API_KEYS), &key, HASH_FIND, NULL) != NULL)
		return true;
	watch_mirrored_tables();
	if (!fetch_by_org_key("api_keys", "id", org, key_id, check_api_key, &check) || !check.valid)
		return false;
	if (seen == invalidations[MIRROR_API_KEYS])
		(void) hash_search(cache_for(MIRROR_API_KEYS), &key, HASH_ENTER, NULL);
	return true;
}

/* ---- the verifier ---- */

/* True when `claim` is a well-formed, correctly signed, unexpired claim of this backend. */
static bool
claim_is_signed_for_this_backend(const char *claim)
{
	const CachedKey *key;
	uint8_t		inner[32];
	uint8_t		mac[32];
	uint8_t		presented[32];
	uint8_t		difference = 0;
	TimestampTz expiry;

	for (int i = 0; i < CLAIM_LENGTH; i++)
		if (!((claim[i] >= '0' && claim[i] <= '9') || (claim[i] >= 'a' && claim[i] <= 'f')))
			return false;
	key = signing_key(claim + OFF_KEY_ID);
	if (key == NULL)
		return false;
	sha256_finish(&key->inner, 1, (const uint8_t *) claim, CLAIM_SIGNED_LENGTH, inner);
	sha256_finish(&key->outer, 1, inner, sizeof(inner), mac);
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
	const char *claim = GetConfigOption("tenantkit.claim", true, false);
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

	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "tenantkit_context: tenantkit.verified_principal() must return tenantkit.principal");
	descriptor = BlessTupleDesc(descriptor);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls)));
}

/*
 * Statement trigger on the mirrored tables: every backend's cache of that table is emptied
 * when the writing transaction commits (and this backend's at once).
 */
Datum
tenantkit_context_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "tenantkit.context_cache_invalidate() is a trigger function");
	CacheInvalidateRelcache(trigger->tg_relation);
	return PointerGetDatum(NULL);
}
