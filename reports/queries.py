"""The counting rules as SQL (SQLAlchemy Core), so PostgreSQL computes a report's aggregates over a
million cases instead of Python loading them.

Each builder takes a ``ReportFilter`` and returns a ``Select``; ``aggregates_from_database`` runs
them on a connection and returns the same ``Aggregates`` that ``reports.aggregates.from_records``
computes in Python (the tests hold the two equal). Tables are declared here in the few columns the
queries read, so this module needs no Flask and no ORM. The rules follow ``reports.counting``,
``reports.scope`` and ``reports.dimensions`` exactly: organisation scope, counted once
(police_case_id, within the scope), known to (police / NGO), UNKNOWN for missing values, most
serious by rank then code (byte order, "C" collation, like Python), margins as distinct counts via
GROUPING SETS.

Result columns:
  offence_counts_query -> group_value, code, severity_rank, title, most_serious, involving, offences, victims
  case_counts_query    -> row_value, column_value, cases
  repeat_links_query   -> case_id, identifier_id, kind
  list_counts_query    -> police, ngo, both
  referral_counts_query -> agency, purpose, sent, acknowledged_on_time, acknowledged_late, not_acknowledged,
                           completed, declined, withdrawn, still_open, to_acknowledge, to_complete (seconds)
  takedown_counts_query -> agency, items, removed, refused, unresolved, to_removal (seconds)
NULL in group_value, code, row_value, column_value or agency marks the margin over all values.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BIT, array
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from reports.aggregates import Aggregates, period_dimension
from reports.cellkey import MODULUS
from reports.counting import CaseCountRow, OffenceCountRow, sort_case_rows, sort_offence_rows
from reports.dimensions import AGE_BANDS, MULTI_VALUED, PAYMENT_BUCKETS, PERIODS, UNKNOWN, VICTIM_LEVEL, Dimension
from reports.estimates import ListCounts
from reports.perpetrators import IdentifierLink, summarise
from reports.referrals import (
    OPEN_STATUSES,
    UNRESOLVED_ITEMS,
    ReferralCountRow,
    TakedownCountRow,
    days,
    sort_referral_rows,
    sort_takedown_rows,
)
from reports.scope import ReportFilter
from reports.unidentified import UnidentifiedCount

_metadata = sa.MetaData()

organisations = sa.Table("organisations", _metadata, sa.Column("id", sa.Integer), sa.Column("kind", sa.Text))
cases = sa.Table(
    "cases",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("organisation_id", sa.Integer),
    sa.Column("intake_channel", sa.Text),
    sa.Column("reported_to_police", sa.Boolean),
    sa.Column("police_case_id", sa.Integer),
    sa.Column("received_on", sa.Date),
    sa.Column("incident_started_on", sa.Date),
    sa.Column("state_code", sa.Text),
    sa.Column("contact_platform", sa.Text),
    sa.Column("moved_to_platforms", ARRAY(sa.Text)),
    sa.Column("abuse_types", ARRAY(sa.Text)),
    sa.Column("has_minor_victim", sa.Boolean),
    sa.Column("payments_count", sa.Integer),
    sa.Column("material_released", sa.Boolean),
    sa.Column("unidentified_victim_count", sa.Integer),
    sa.Column("record_key", sa.BigInteger),
)
victims = sa.Table(
    "victims",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("case_id", sa.Integer),
    sa.Column("gender", sa.Text),
    sa.Column("age_years", sa.Integer),
    sa.Column("national_id_hash", sa.Text),
    sa.Column("phone_hash", sa.Text),
)
offence_codes = sa.Table(
    "offence_codes",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("code", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("severity_rank", sa.Integer),
)
case_offences = sa.Table(
    "case_offences",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("case_id", sa.Integer),
    sa.Column("offence_code_id", sa.Integer),
)
case_offence_victims = sa.Table(
    "case_offence_victims",
    _metadata,
    sa.Column("case_offence_id", sa.Integer),
    sa.Column("victim_id", sa.Integer),
)
identifiers = sa.Table("identifiers", _metadata, sa.Column("id", sa.Integer), sa.Column("kind", sa.Text))
case_identifiers = sa.Table(
    "case_identifiers",
    _metadata,
    sa.Column("case_id", sa.Integer),
    sa.Column("identifier_id", sa.Integer),
)
referrals = sa.Table(
    "referrals",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("case_id", sa.Integer),
    sa.Column("agency_acronym", sa.Text),
    sa.Column("purpose", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("due_acknowledge_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
)
takedown_items = sa.Table(
    "takedown_items",
    _metadata,
    sa.Column("id", sa.Integer),
    sa.Column("referral_id", sa.Integer),
    sa.Column("status", sa.Text),
    sa.Column("requested_at", sa.DateTime(timezone=True)),
    sa.Column("first_removed_at", sa.DateTime(timezone=True)),
)

_PERIOD_FORMATS = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}
_TEXT_ARRAY = ARRAY(sa.Text)
BIT60 = BIT(60)


def _text(value: ColumnElement[Any]) -> ColumnElement[str]:
    """Enum columns compared and returned as text."""
    return sa.cast(value, sa.Text)


def _bands(value: ColumnElement[Any], bands: tuple[tuple[str, int, int | None], ...]) -> ColumnElement[str]:
    whens = [
        (value >= low if high is None else sa.and_(value >= low, value <= high), sa.literal(name, sa.Text))
        for name, low, high in bands
    ]
    return sa.case(*whens, else_=sa.literal(UNKNOWN, sa.Text))


def _case_cte(counted_once: bool, organisation_ids: frozenset[int] | None = None) -> sa.CTE:
    """One row per case of the organisations in scope with what filters and dimensions read (the
    counted-once rule applied or not; within a scope, a case is represented by the police case it
    names only when that case is in scope too). Known to NGO by link is decided over all cases."""
    linking = cases.alias("linking")
    linking_org = organisations.alias("linking_org")
    linked = (
        sa.select(linking.c.police_case_id)
        .select_from(linking.join(linking_org, linking_org.c.id == linking.c.organisation_id))
        .where(linking.c.police_case_id.is_not(None), _text(linking_org.c.kind) == "ngo")
        .distinct()
        .cte("linked")
    )
    kind = _text(organisations.c.kind)
    police = sa.or_(kind == "police_unit", cases.c.reported_to_police, cases.c.police_case_id.is_not(None))
    ngo = sa.or_(kind == "ngo", linked.c.police_case_id.is_not(None))
    known_to = sa.case(
        (sa.and_(police, ngo), "police_and_ngo"), (police, "police_only"), (ngo, "ngo_only"), else_="other"
    )
    query = sa.select(
        cases.c.id.label("case_id"),
        kind.label("organisation_kind"),
        _text(cases.c.intake_channel).label("intake_channel"),
        cases.c.received_on,
        cases.c.incident_started_on.label("incident_on"),
        cases.c.state_code.label("state"),
        cases.c.contact_platform,
        cases.c.moved_to_platforms,
        cases.c.abuse_types,
        cases.c.has_minor_victim.label("has_minor"),
        cases.c.payments_count,
        cases.c.material_released,
        cases.c.unidentified_victim_count,
        known_to.label("known_to"),
        cases.c.record_key.label("case_key"),
    ).select_from(
        cases.join(organisations, organisations.c.id == cases.c.organisation_id).outerjoin(
            linked, linked.c.police_case_id == cases.c.id
        )
    )
    if organisation_ids is not None:
        owners = sorted(organisation_ids)
        query = query.where(cases.c.organisation_id.in_(owners))
    if counted_once:
        if organisation_ids is None:
            query = query.where(cases.c.police_case_id.is_(None))
        else:
            represented_by = cases.alias("represented_by")
            counted_elsewhere = (
                sa.select(represented_by.c.id)
                .where(represented_by.c.id == cases.c.police_case_id, represented_by.c.organisation_id.in_(owners))
                .exists()
            )
            query = query.where(sa.or_(cases.c.police_case_id.is_(None), ~counted_elsewhere))
    return query.cte("all_cases" if counted_once else "all_records")


def _single_value(dimension: Dimension, s: sa.CTE) -> ColumnElement[str]:
    """The value of a single-valued dimension for a row of the case CTE."""
    if dimension in PERIODS:
        basis, unit = PERIODS[dimension]
        day = s.c.received_on if basis == "received" else s.c.incident_on
        return sa.func.coalesce(sa.func.to_char(day, _PERIOD_FORMATS[unit]), UNKNOWN)
    if dimension is Dimension.STATE:
        return sa.func.coalesce(s.c.state, UNKNOWN)
    if dimension is Dimension.MINOR:
        return sa.case((s.c.has_minor, "minor"), else_="no_minor")
    if dimension is Dimension.ORGANISATION_KIND:
        return s.c.organisation_kind
    if dimension is Dimension.INTAKE_CHANNEL:
        return s.c.intake_channel
    if dimension is Dimension.KNOWN_TO:
        return s.c.known_to
    if dimension is Dimension.PAYMENTS:
        return _bands(s.c.payments_count, PAYMENT_BUCKETS)
    if dimension is Dimension.MATERIAL_RELEASED:
        return sa.case(
            (s.c.material_released.is_(None), UNKNOWN), (s.c.material_released, "released"), else_="not_released"
        )
    raise ValueError(f"{dimension} is multi-valued")


def _victim_value(dimension: Dimension, v: sa.FromClause) -> ColumnElement[str]:
    if dimension is Dimension.GENDER:
        return sa.func.coalesce(_text(v.c.gender), UNKNOWN)
    if dimension is Dimension.AGE_BAND:
        return _bands(v.c.age_years, AGE_BANDS)
    raise ValueError(f"{dimension} is not a victim-level dimension")


def _is_multi_valued(dimension: Dimension) -> bool:
    return dimension in MULTI_VALUED


def dimension_values(dimension: Dimension, s: sa.CTE) -> sa.Select[Any]:
    """(case_id, value) for every value each case of ``s`` takes on the dimension (UNKNOWN if none)."""
    if dimension in (Dimension.PLATFORM, Dimension.ABUSE_TYPE):
        raw: ColumnElement[Any] = (
            sa.func.array_prepend(s.c.contact_platform, s.c.moved_to_platforms)
            if dimension is Dimension.PLATFORM
            else s.c.abuse_types
        )
        present = sa.cast(sa.func.array_remove(raw, None), _TEXT_ARRAY)
        values = sa.case(
            (sa.func.coalesce(sa.func.cardinality(present), 0) == 0, sa.cast(array([UNKNOWN]), _TEXT_ARRAY)),
            else_=present,
        )
        return sa.select(s.c.case_id, sa.func.unnest(values).label("value")).distinct()
    if dimension in VICTIM_LEVEL:
        v = victims.alias("dimension_victims")
        return (
            sa.select(s.c.case_id, sa.func.coalesce(_victim_value(dimension, v), UNKNOWN).label("value"))
            .select_from(s.outerjoin(v, v.c.case_id == s.c.case_id))
            .distinct()
        )
    return sa.select(s.c.case_id, _single_value(dimension, s).label("value"))


def scope_cte(report_filter: ReportFilter, *, counted_once: bool = True) -> sa.CTE:
    """The cases a report counts: the counted-once rule, then the filter (see ``reports.scope``)."""
    base = _case_cte(counted_once, report_filter.organisation_ids)
    conditions: list[ColumnElement[bool]] = []
    day = base.c.received_on if report_filter.date_basis == "received" else base.c.incident_on
    if report_filter.date_from:
        conditions.append(day >= report_filter.date_from)
    if report_filter.date_to:
        conditions.append(day <= report_filter.date_to)
    for dimension, allowed in sorted(report_filter.only.items()):
        values = sorted(allowed)
        if _is_multi_valued(dimension):
            found = dimension_values(dimension, base).correlate(None).subquery()
            conditions.append(base.c.case_id.in_(sa.select(found.c.case_id).where(found.c.value.in_(values))))
        else:
            conditions.append(_single_value(dimension, base).in_(values))
    return sa.select(base).where(*conditions).cte("scope" if counted_once else "scope_records")


def offence_counts_query(report_filter: ReportFilter, by: Dimension | None = None) -> sa.Select[Any]:
    """Rules (a)-(d) per offence code and value of ``by``, with margins.

    Plain counts are distinct counts here: (case_id, offence_code_id) is unique in case_offences
    and (case_offence_id, victim_id) is the key of case_offence_victims, and each margin is counted
    from rows that hold every offence (or pair) once, so no COUNT(DISTINCT) (and no sort) is needed.
    Every case has exactly one most serious offence, so cases with an offence = COUNT(*) FILTER
    (most serious)."""
    s = scope_cte(report_filter)
    # Seriousness: a total order over codes, by rank then code descending ("C" collation, like
    # Python), so the most serious offence of a case is simply its maximum.
    codes = sa.select(
        offence_codes.c.id,
        offence_codes.c.code,
        offence_codes.c.severity_rank,
        offence_codes.c.title,
        sa.func.row_number()
        .over(
            order_by=(
                offence_codes.c.severity_rank,
                # reports.counting.code_order, descending: statute, section number, subsection, code
                sa.func.substring(offence_codes.c.code, r"^(\S+)\s+\d").collate("C").desc(),
                sa.cast(sa.func.substring(offence_codes.c.code, r"^\S+\s+(\d+)"), sa.Integer).desc(),
                sa.func.coalesce(
                    sa.cast(sa.func.substring(offence_codes.c.code, r"^\S+\s+\d+\((\d+)\)"), sa.Integer), -1
                ).desc(),
                offence_codes.c.code.collate("C").desc(),
            )
        )
        .label("seriousness"),
        # reports.cellkey.code_mix: the first 60 bits of the code's md5
        sa.cast(
            sa.cast(sa.literal("x") + sa.func.left(sa.func.md5(offence_codes.c.code), 15), BIT60), sa.BigInteger
        ).label("code_mix"),
    ).cte("codes")
    co_table = case_offences
    # A single-valued group is computed on the offence row itself: joining the scope to a CTE of its
    # own values misleads the planner (estimates explode, JIT compiles for a second on small data).
    inline = by is not None and not _is_multi_valued(by)
    co = (
        sa.select(
            co_table.c.id.label("co_id"),
            co_table.c.case_id,
            co_table.c.offence_code_id.label("code_id"),
            (codes.c.seriousness == sa.func.max(codes.c.seriousness).over(partition_by=co_table.c.case_id)).label(
                "is_ms"
            ),
            s.c.case_key,
            (s.c.case_key.op("#")(codes.c.code_mix)).label("offence_key"),
            *([_single_value(by, s).label("group_value")] if inline and by is not None else []),
        )
        .select_from(
            co_table.join(codes, codes.c.id == co_table.c.offence_code_id).join(s, s.c.case_id == co_table.c.case_id)
        )
        .cte("scoped_offences")
    )
    cov = case_offence_victims
    pairs: sa.FromClause = co.join(cov, cov.c.case_offence_id == co.c.co_id)
    groups = dimension_values(by, s).cte("groups") if by is not None and not inline else None
    grouped_offences: sa.FromClause = co
    grouped_pairs: sa.FromClause = pairs
    group_value: ColumnElement[Any] | None = co.c.group_value if inline else None
    victim_group: ColumnElement[Any] | None = group_value
    if groups is not None:
        grouped_offences = co.join(groups, groups.c.case_id == co.c.case_id)
        group_value = victim_group = groups.c.value
        if by not in VICTIM_LEVEL:
            grouped_pairs = pairs.join(groups, groups.c.case_id == co.c.case_id)
    if by in VICTIM_LEVEL:
        v = victims.alias("offence_victims")
        grouped_pairs = pairs.join(v, v.c.id == cov.c.victim_id)
        victim_group = _victim_value(by, v)

    none = sa.cast(sa.null(), sa.Text)
    zero = sa.cast(sa.literal(0), sa.BigInteger)
    no_key = sa.cast(sa.literal(0), sa.Numeric)
    count = sa.func.count()
    most = sa.func.count().filter(co.c.is_ms)
    case_keys = sa.func.sum(co.c.case_key)
    offence_counts = (
        most.label("most_serious"),
        count.label("involving"),
        count.label("offences"),
        zero.label("victims"),
        sa.func.sum(co.c.case_key).filter(co.c.is_ms).label("most_serious_key"),
        case_keys.label("involving_key"),
        case_keys.label("offences_key"),
        no_key.label("victims_key"),
    )
    victim_counts = (
        zero.label("most_serious"),
        zero.label("involving"),
        zero.label("offences"),
        count.label("victims"),
        no_key.label("most_serious_key"),
        no_key.label("involving_key"),
        no_key.label("offences_key"),
        sa.func.sum(co.c.offence_key).label("victims_key"),
    )

    def per_code(source: sa.FromClause, group: ColumnElement[Any] | None, counts: tuple[Any, ...]) -> sa.Select[Any]:
        keys = [co.c.code_id] if group is None else [group, co.c.code_id]
        return (
            sa.select((none if group is None else group).label("group_value"), co.c.code_id, *counts)
            .select_from(source)
            .group_by(*keys)
        )

    # Cells per code only; the margin over codes is their sum (each case has one most serious
    # offence, each offence and each offence-victim pair one code), added below by GROUPING SETS.
    parts = [per_code(co, None, offence_counts), per_code(pairs, None, victim_counts)]
    if group_value is not None and victim_group is not None:
        parts += [per_code(grouped_offences, group_value, offence_counts)]
        parts += [per_code(grouped_pairs, victim_group, victim_counts)]
    # A row of zeros keeps the overall margin when there is nothing to count (as in Python).
    parts.append(
        sa.select(
            none.label("group_value"),
            sa.cast(sa.null(), sa.Integer).label("code_id"),
            *victim_counts[:3],
            zero,
            *victim_counts[4:7],
            no_key,
        )
    )
    counted = sa.union_all(*parts).subquery("counted")
    margin = sa.func.grouping(counted.c.code_id) == 1
    summed = {
        name: sa.cast(sa.func.sum(counted.c[name]), sa.BigInteger)
        for name in ("most_serious", "involving", "offences", "victims")
    }
    keyed = {
        name: sa.func.coalesce(sa.func.sum(counted.c[name]), 0)
        for name in ("most_serious_key", "involving_key", "offences_key", "victims_key")
    }
    totals = (
        sa.select(
            counted.c.group_value,
            counted.c.code_id,
            summed["most_serious"].label("most_serious"),
            # over all codes, cases involving any offence = cases counted under their most serious one
            sa.case((margin, summed["most_serious"]), else_=summed["involving"]).label("involving"),
            summed["offences"].label("offences"),
            summed["victims"].label("victims"),
            keyed["most_serious_key"].label("most_serious_key"),
            sa.case((margin, keyed["most_serious_key"]), else_=keyed["involving_key"]).label("involving_key"),
            keyed["offences_key"].label("offences_key"),
            keyed["victims_key"].label("victims_key"),
        )
        .group_by(
            sa.func.grouping_sets(sa.tuple_(counted.c.group_value, counted.c.code_id), sa.tuple_(counted.c.group_value))
        )
        .having(sa.or_(margin, counted.c.code_id.is_not(None)))  # drop the zeros' own cell
        .subquery("totals")
    )
    return sa.select(
        totals.c.group_value,
        codes.c.code,
        codes.c.severity_rank,
        codes.c.title,
        totals.c.most_serious,
        totals.c.involving,
        totals.c.offences,
        totals.c.victims,
        totals.c.most_serious_key,
        totals.c.involving_key,
        totals.c.offences_key,
        totals.c.victims_key,
    ).select_from(totals.outerjoin(codes, codes.c.id == totals.c.code_id))


def case_counts_query(
    report_filter: ReportFilter, rows: Dimension | None = None, columns: Dimension | None = None
) -> sa.Select[Any]:
    """Distinct cases per (row value, column value), with margins."""
    s = scope_cte(report_filter)
    source: sa.FromClause = s
    picked: list[ColumnElement[Any]] = []
    labels = []
    for name, dimension in (("row_value", rows), ("column_value", columns)):
        if dimension is None:
            labels.append(sa.cast(sa.null(), sa.Text).label(name))
            continue
        # Multi-valued: one row per value. The same dimension twice needs two columns, or GROUPING
        # SETS could not tell its row margin from its column margin.
        if _is_multi_valued(dimension) or (name == "column_value" and dimension == rows):
            values = dimension_values(dimension, s).cte(f"{name}s")
            source = source.join(values, values.c.case_id == s.c.case_id)
            value: ColumnElement[Any] = values.c.value
        else:
            value = _single_value(dimension, s)
        labels.append(value.label(name))
        picked.append(value)
    query = sa.select(
        *labels,
        sa.func.count(sa.distinct(s.c.case_id)).label("cases"),
        sa.func.coalesce(sa.func.sum(sa.distinct(s.c.case_key)), 0).label("case_key"),
    ).select_from(source)
    if len(picked) == 2:
        return query.group_by(
            sa.func.grouping_sets(sa.tuple_(*picked), sa.tuple_(picked[0]), sa.tuple_(picked[1]), sa.tuple_())
        )
    if picked:
        return query.group_by(sa.func.grouping_sets(sa.tuple_(picked[0]), sa.tuple_()))
    return query


def repeat_links_query(report_filter: ReportFilter, min_cases: int = 2) -> sa.Select[Any]:
    """(case, identifier, kind) for identifiers named in ``min_cases`` or more counted cases."""
    s = scope_cte(report_filter)
    ci = case_identifiers
    # one link per (case, identifier) whatever its roles; joined to the scope, not IN (scope): the
    # planner cannot estimate a CTE and chose a million index probes
    links = (
        sa.select(ci.c.case_id, ci.c.identifier_id)
        .select_from(ci.join(s, s.c.case_id == ci.c.case_id))
        .distinct()
        .subquery("links")
    )
    counted = sa.select(
        links.c.case_id,
        links.c.identifier_id,
        sa.func.count().over(partition_by=links.c.identifier_id).label("cases"),
    ).subquery("counted")
    return (
        sa.select(counted.c.case_id, counted.c.identifier_id, _text(identifiers.c.kind).label("kind"))
        .select_from(counted.join(identifiers, identifiers.c.id == counted.c.identifier_id))
        .where(counted.c.cases >= min_cases)
        .order_by(counted.c.identifier_id)  # so perpetrators.summarise can stream it (grouped=True)
    )


def list_counts_query(report_filter: ReportFilter) -> sa.Select[Any]:
    """Distinct matchable victims known to police, to NGOs and to both (each organisation's own
    records: the counted-once rule is not applied), for the capture-recapture estimate."""
    s = scope_cte(report_filter, counted_once=False)
    match = sa.func.coalesce(victims.c.national_id_hash, victims.c.phone_hash)
    hashes = (
        sa.select(
            match.label("match_hash"),
            sa.func.bool_or(s.c.organisation_kind == "police_unit").label("police"),
            sa.func.bool_or(s.c.organisation_kind == "ngo").label("ngo"),
        )
        .select_from(victims.join(s, s.c.case_id == victims.c.case_id))
        .where(match.is_not(None))
        .group_by(match)
        .subquery("hashes")
    )
    return sa.select(
        sa.func.count().filter(hashes.c.police).label("police"),
        sa.func.count().filter(hashes.c.ngo).label("ngo"),
        sa.func.count().filter(sa.and_(hashes.c.police, hashes.c.ngo)).label("both"),
    )


def unidentified_counts_query(report_filter: ReportFilter) -> sa.Select[Any]:
    """Counted cases recording victims believed affected but not identified, and their sum."""
    s = scope_cte(report_filter)
    estimate = s.c.unidentified_victim_count
    return sa.select(
        sa.func.count().filter(estimate > 0).label("cases"),
        sa.func.coalesce(sa.func.sum(estimate).filter(estimate > 0), 0).label("victims"),
    )


def _median_seconds(start: ColumnElement[Any], end: ColumnElement[Any], when: ColumnElement[bool]) -> Any:
    """The median of end - start in seconds over rows where ``when`` holds (NULL when there are none)."""
    seconds = sa.case((when, sa.cast(sa.func.extract("epoch", end - start), sa.Float)))
    return sa.func.percentile_cont(0.5).within_group(seconds)


def referral_counts_query(report_filter: ReportFilter) -> sa.Select[Any]:
    """Sent referrals per (agency, purpose) with the margin (see ``reports.referrals``): each
    record's own referrals, so the counted-once rule is not applied."""
    s = scope_cte(report_filter, counted_once=False)
    r = referrals
    status = _text(r.c.status)
    acknowledged = r.c.acknowledged_at.is_not(None)
    on_time = sa.and_(acknowledged, r.c.acknowledged_at <= r.c.due_acknowledge_at)
    agency, purpose = _text(r.c.agency_acronym), _text(r.c.purpose)
    count = sa.func.count
    return (
        sa.select(
            agency.label("agency"),
            purpose.label("purpose"),
            count().label("sent"),
            count().filter(on_time).label("acknowledged_on_time"),
            count().filter(sa.and_(acknowledged, sa.not_(on_time))).label("acknowledged_late"),
            count().filter(sa.not_(acknowledged)).label("not_acknowledged"),
            count().filter(status == "completed").label("completed"),
            count().filter(status == "declined").label("declined"),
            count().filter(status == "withdrawn").label("withdrawn"),
            count().filter(status.in_(sorted(OPEN_STATUSES))).label("still_open"),
            _median_seconds(r.c.sent_at, r.c.acknowledged_at, acknowledged).label("to_acknowledge"),
            _median_seconds(
                r.c.sent_at, r.c.closed_at, sa.and_(status == "completed", r.c.closed_at.is_not(None))
            ).label("to_complete"),
        )
        .select_from(r.join(s, s.c.case_id == r.c.case_id))
        .where(r.c.sent_at.is_not(None))
        .group_by(sa.func.grouping_sets(sa.tuple_(agency, purpose), sa.tuple_()))
    )


def takedown_counts_query(report_filter: ReportFilter) -> sa.Select[Any]:
    """Takedown items of sent referrals per agency, by current status, with the margin."""
    s = scope_cte(report_filter, counted_once=False)
    r, t = referrals, takedown_items
    status = _text(t.c.status)
    agency = _text(r.c.agency_acronym)
    removed = status == "removed"
    count = sa.func.count
    return (
        sa.select(
            agency.label("agency"),
            count().label("items"),
            count().filter(removed).label("removed"),
            count().filter(status == "refused").label("refused"),
            count().filter(status.in_(sorted(UNRESOLVED_ITEMS))).label("unresolved"),
            _median_seconds(t.c.requested_at, t.c.first_removed_at, removed).label("to_removal"),
        )
        .select_from(t.join(r, r.c.id == t.c.referral_id).join(s, s.c.case_id == r.c.case_id))
        .where(r.c.sent_at.is_not(None))
        .group_by(sa.func.grouping_sets(sa.tuple_(agency), sa.tuple_()))
    )


def referral_rows(result: Any) -> list[ReferralCountRow]:
    return sort_referral_rows(
        ReferralCountRow(
            agency=r.agency,
            purpose=r.purpose,
            sent=r.sent,
            acknowledged_on_time=r.acknowledged_on_time,
            acknowledged_late=r.acknowledged_late,
            not_acknowledged=r.not_acknowledged,
            completed=r.completed,
            declined=r.declined,
            withdrawn=r.withdrawn,
            still_open=r.still_open,
            median_days_to_acknowledge=days(r.to_acknowledge),
            median_days_to_complete=days(r.to_complete),
        )
        for r in result
    )


def takedown_rows(result: Any) -> list[TakedownCountRow]:
    return sort_takedown_rows(
        TakedownCountRow(r.agency, r.items, r.removed, r.refused, r.unresolved, days(r.to_removal)) for r in result
    )


def offence_rows(result: Any) -> list[OffenceCountRow]:
    return sort_offence_rows(
        OffenceCountRow(
            group=r.group_value,
            code=r.code,
            severity_rank=r.severity_rank,
            title=r.title,
            most_serious=r.most_serious,
            involving=r.involving,
            offences=r.offences,
            victims=r.victims,
            most_serious_key=int(r.most_serious_key) % MODULUS,
            involving_key=int(r.involving_key) % MODULUS,
            offences_key=int(r.offences_key) % MODULUS,
            victims_key=int(r.victims_key) % MODULUS,
        )
        for r in result
    )


def case_rows(result: Any) -> list[CaseCountRow]:
    return sort_case_rows(CaseCountRow(r.row_value, r.column_value, r.cases, int(r.case_key) % MODULUS) for r in result)


def aggregates_from_database(
    connection: Connection, report_filter: ReportFilter | None = None, group_by: Dimension | None = None
) -> Aggregates:
    """Every aggregate of a report, computed by PostgreSQL (a handful of grouped queries).

    Run it inside one REPEATABLE READ (or read-only snapshot) transaction: the queries must see the
    same cases, or figures shared between tables disagree and building the report refuses them."""
    report_filter = report_filter or ReportFilter()
    run = connection.execute
    lists = run(list_counts_query(report_filter)).one()
    # Millions of (case, identifier) rows at scale: stream them through a server-side cursor
    # into the summary instead of holding the whole result in memory.
    streamed = run(repeat_links_query(report_filter), execution_options={"stream_results": True, "yield_per": 20_000})
    links = (IdentifierLink(*row) for row in streamed)
    return Aggregates(
        report_filter=report_filter,
        group_by=group_by,
        offences=tuple(offence_rows(run(offence_counts_query(report_filter)))),
        offences_by=tuple(offence_rows(run(offence_counts_query(report_filter, group_by)))) if group_by else (),
        cases_by_period=tuple(
            case_rows(run(case_counts_query(report_filter, period_dimension(report_filter), Dimension.KNOWN_TO)))
        ),
        cases_by=tuple(case_rows(run(case_counts_query(report_filter, group_by, Dimension.KNOWN_TO))))
        if group_by
        else (),
        payments=tuple(
            case_rows(run(case_counts_query(report_filter, Dimension.PAYMENTS, Dimension.MATERIAL_RELEASED)))
        ),
        repeat=summarise(links, grouped=True),
        lists=ListCounts(lists.police, lists.ngo, lists.both),
        referrals=tuple(referral_rows(run(referral_counts_query(report_filter)))),
        takedown=tuple(takedown_rows(run(takedown_counts_query(report_filter)))),
        unidentified=UnidentifiedCount(*run(unidentified_counts_query(report_filter)).one()),
    )
