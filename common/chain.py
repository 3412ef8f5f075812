"""Hash chains over the append-only ledgers: each row stores the hash of its canonical content and of the row
before it in its stream (a reagent lot, a drug lot, a bill...), and the stream's row that its writers already lock
holds the hash of its last row (the head).

    row_hash = sha256(prev_hash + "\\n" + canonical JSON of the row's content fields)

A writer links its new rows while it holds the stream's lock (`Chain.link`), so writers of different streams never
wait on each other and the rows of one stream are chained in the order they were written (ids ascending). The
service's store reads and writes the heads; the arithmetic and the checking are here, once.

`verify` walks every stream and names, per stream, the first row that does not match: `content` (the row's fields
are not what was hashed: it was changed, or inserted by hand), `link` (its previous hash is not the previous row's:
a row before it was deleted, inserted or moved), `head` (the stream's recorded head is not its last row: rows were
deleted at the end or added after it), `digest` (a row a kept daily digest names is no longer what it was: the
chain was rewritten).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import peewee

GENESIS = "0" * 64
SINGLE = "all"  # the stream name of a chain that is one stream
WALK_CHUNK = 5000  # rows per query of a walk
HASH_LENGTH = 64
DIFFERS = {
    "content": "the row's fields are not the ones its hash was made of (changed, or written outside the service)",
    "link": "its previous hash is not the hash of the row before it (a row was deleted, inserted or moved)",
    "head": "the stream's last row is not the head its lock row records (rows deleted at the end, or added)",
    "unchained": "the row carries no hash (written outside the service)",
    "digest": "the row a kept digest names is no longer what the digest recorded (the chain was rewritten)",
}


def _plain(value):
    """A value as canonical JSON writes it: times in UTC with microseconds, dates ISO, model instances by id."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, peewee.Model):
        return value.get_id()
    return value


def canonical(content: dict) -> bytes:
    """The canonical JSON of a row's content: sorted keys, no spaces, UTF-8."""
    return json.dumps({name: _plain(value) for name, value in content.items()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(prev_hash: str, content: dict) -> str:
    """The hash a row with this content stores after a row whose hash is `prev_hash`."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(content)).hexdigest()


@dataclass
class Break:
    """The first row of a stream that does not match."""

    chain: str
    stream: object
    row_id: object
    differs: str
    expected: str | None = None
    found: str | None = None

    def as_dict(self) -> dict:
        return {"chain": self.chain, "stream": str(self.stream), "row_id": self.row_id, "differs": self.differs,
                "detail": DIFFERS[self.differs], "expected": self.expected, "found": self.found}


@dataclass
class Chain:
    """One kind of chained ledger: its rows' table, the field naming the stream, the content fields hashed, and
    where each stream's head is kept (`head_model.head_field`, found by `head_key` = the stream)."""

    name: str
    model: type[peewee.Model]
    stream: str | None  # None: the whole table is one stream (SINGLE)
    fields: tuple[str, ...]
    head_model: type[peewee.Model]
    head_key: str = "id"
    head_field: str = "chain_head"
    order: str = "id"
    _fk: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._fk = {name: f.object_id_name for name, f in self.model._meta.fields.items()
                    if isinstance(f, peewee.ForeignKeyField)}

    def _value(self, row, name: str):
        if isinstance(row, dict):
            return row.get(name)  # a field left out is stored NULL
        return getattr(row, self._fk.get(name, name))

    def stream_of(self, row):
        return SINGLE if self.stream is None else _plain(self._value(row, self.stream))

    def content(self, row) -> dict:
        """The hashed content of a row (a dict about to be inserted, or a model instance read back)."""
        return {name: self._value(row, name) for name in self.fields}

    def link(self, rows: list[dict], heads: dict) -> dict:
        """Give each new row (dicts, in the order they will be inserted) its `prev_hash` and `row_hash` after the
        heads of their streams ({stream: head hash or None}); return the new heads. The caller holds the streams'
        locks and stores the new heads in the same transaction."""
        heads = {key: head or GENESIS for key, head in heads.items()}
        for row in rows:
            key = self.stream_of(row)
            row["prev_hash"] = heads.get(key) or GENESIS
            row["row_hash"] = heads[key] = row_hash(row["prev_hash"], self.content(row))
        return heads

    def recorded_heads(self, streams: Iterable | None = None) -> dict:
        """{stream: head} as the head rows record them (every stream that has one, or only `streams`)."""
        key, head = getattr(self.head_model, self.head_key), getattr(self.head_model, self.head_field)
        query = self.head_model.select(key, head).where(head.is_null(False))
        if "chain" in self.head_model._meta.fields:  # a table of heads of several chains
            query = query.where(self.head_model.chain == self.name)
        if streams is not None:
            query = query.where(key.in_(sorted(streams)))
        return {_plain(k): h for k, h in query.tuples().iterator()}

    def _rows(self, stream=None):
        """(id, stream, prev_hash, row_hash, {content}) of every chained row, in chain order: read as tuples (no
        model instance per row), WALK_CHUNK rows per query by keyset (a ledger never sits in memory whole)."""
        model = self.model
        order = getattr(model, self.order)
        names = list(self.fields)
        stream_column = getattr(model, self.stream) if self.stream else order
        columns = [model._meta.primary_key, stream_column, order, model.prev_hash, model.row_hash,
                   *[getattr(model, name) for name in names]]
        base = model.select(*columns).where(order.is_null(False))  # (rows not placed yet: `pending`)
        if stream is not None:
            base = base.where(stream_column == stream)
        after = None
        while True:
            if after is None:
                query = base
            elif self.stream is None:
                query = base.where(order > after[1])
            else:
                query = base.where(peewee.Tuple(stream_column, order) > peewee.Tuple(*after))
            rows = list(query.order_by(*((order,) if self.stream is None else (stream_column, order)))
                        .limit(WALK_CHUNK).tuples())
            for row_id, key, _order, prev, stored, *values in rows:
                yield (row_id, SINGLE if self.stream is None else _plain(key), prev, stored,
                       dict(zip(names, values, strict=True)))
            if len(rows) < WALK_CHUNK:
                return
            after = (rows[-1][1], rows[-1][2])

    def pending(self) -> int:
        """How many rows wait to be placed in the chain (the audit's lines until the drain chains them)."""
        if self.order == "id":
            return 0
        return self.model.select().where(getattr(self.model, self.order).is_null()).count()

    def store_heads(self, heads: dict, lengths: dict | None = None) -> None:
        """Record new heads (a lock row's column, or rows of a table of heads); peewee, for the non-hot writers."""
        model = self.head_model
        key_field, head_field = getattr(model, self.head_key), getattr(model, self.head_field)
        for key, head in sorted(heads.items(), key=lambda item: str(item[0])):
            if "chain" in model._meta.fields:
                values = {"chain": self.name, self.head_key: key, self.head_field: head,
                          "length": (lengths or {}).get(key, 0)}
                (model.insert(values).on_conflict(conflict_target=[model.chain, key_field],
                                                  update={head_field: head, model.length: values["length"]})
                 .execute())
            else:
                model.update({head_field: head}).where(key_field == key).execute()

    def walk(self, stream=None) -> tuple[dict, list[Break], int]:
        """Check every row of every stream (or of one) in order; return ({stream: (last row id, length, last
        hash)}, the first break of each stream, rows read)."""
        ends: dict = {}
        breaks: dict = {}
        count = 0
        for row_id, key, prev, stored, content in self._rows(stream):
            count += 1
            _last_id, length, running = ends.get(key, (None, 0, GENESIS))
            ends[key] = (row_id, length + 1, stored)
            if key in breaks:
                continue
            if not stored or not prev:
                breaks[key] = Break(self.name, key, row_id, "unchained")
            elif prev != running:
                breaks[key] = Break(self.name, key, row_id, "link", expected=running, found=prev)
            else:
                expected = row_hash(prev, content)
                if expected != stored:
                    breaks[key] = Break(self.name, key, row_id, "content", expected=expected, found=stored)
        recorded = self.recorded_heads(None if stream is None else [stream])
        for key in set(recorded) | set(ends):
            if key in breaks:
                continue
            last_id, _length, last_hash = ends.get(key, (None, 0, None))
            if recorded.get(key) != last_hash:
                breaks[key] = Break(self.name, key, last_id, "head", expected=recorded.get(key), found=last_hash)
        return ends, sorted(breaks.values(), key=lambda b: str(b.stream)), count

    def check_digest(self, kept: dict) -> list[Break]:
        """Check that the rows a kept digest names ({stream: {"row_id", "head"}}) still carry the hashes it
        recorded."""
        ids = {entry["row_id"]: (key, entry["head"]) for key, entry in kept.items()}
        found = {}
        id_field = self.model._meta.primary_key
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            found.update(self.model.select(id_field, self.model.row_hash).where(id_field.in_(chunk))
                         .tuples())
        breaks = []
        for row_id, (key, head) in sorted(ids.items()):
            if found.get(row_id) != head:
                breaks.append(Break(self.name, key, row_id, "digest", expected=head, found=found.get(row_id)))
        return breaks


def verify(chains: list[Chain], digest: dict | None = None) -> dict:
    """Check every chain (and, when given, a kept digest's heads); return a report with the breaks."""
    report = {"clean": True, "chains": []}
    for chain in chains:
        ends, breaks, count = chain.walk()
        if digest and chain.name in digest.get("chains", {}):
            seen = {str(b.stream) for b in breaks}
            breaks += [b for b in chain.check_digest(digest["chains"][chain.name]) if str(b.stream) not in seen]
        report["chains"].append({"chain": chain.name, "streams": len(ends), "rows": count,
                                 "pending": chain.pending(), "breaks": [b.as_dict() for b in breaks]})
        report["clean"] = report["clean"] and not breaks
    return report


def heads(chains: list[Chain]) -> dict:
    """{chain: {stream: {"row_id", "length", "head"}}}: every stream's last row, for a digest."""
    result = {}
    for chain in chains:
        ends, _breaks, _count = chain.walk()
        result[chain.name] = {str(key): {"row_id": row_id, "length": length, "head": head}
                              for key, (row_id, length, head) in sorted(ends.items(), key=lambda item: str(item[0]))}
    return result


def digest_of(service: str, day: date, chain_heads: dict, made_at: datetime) -> dict:
    """A daily digest: every stream head of a service, with the sha256 of them all to sign or compare."""
    return {"service": service, "day": day.isoformat(), "made_at": _plain(made_at),
            "sha256": hashlib.sha256(canonical(chain_heads)).hexdigest(), "chains": chain_heads}


def chain_existing_rows(chain: Chain, database: peewee.Database) -> int:
    """Chain the rows a ledger held before it had a chain, stream by stream in id order, and record each stream's
    head (for the migration that adds the chain, on its database); return how many rows were chained."""
    with database.bind_ctx([chain.model, chain.head_model], bind_refs=False, bind_backrefs=False):
        return _chain_existing_rows(chain)


def _ordered(chain: Chain, query):
    model = chain.model
    order = getattr(model, chain.order)
    if chain.stream is None:
        return query.where(order.is_null(False)).order_by(order)
    return query.order_by(getattr(model, chain.stream), order)


def _chain_existing_rows(chain: Chain) -> int:
    model = chain.model
    id_field = model._meta.primary_key
    names = [name for name in ((chain.stream,) if chain.stream else ()) + chain.fields]
    needed = [id_field] + [getattr(model, name) for name in dict.fromkeys(names)]
    heads: dict = {}
    lengths: dict = {}
    count = 0
    with model._meta.database.atomic():
        for row in list(_ordered(chain, model.select(*needed))):
            key = chain.stream_of(row)
            prev = heads.get(key, GENESIS)
            heads[key] = row_hash(prev, chain.content(row))
            lengths[key] = lengths.get(key, 0) + 1
            model.update(prev_hash=prev, row_hash=heads[key]).where(id_field == row.get_id()).execute()
            count += 1
        chain.store_heads(heads, lengths)
    return count
