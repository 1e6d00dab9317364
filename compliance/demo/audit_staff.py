"""One local day of workforce activity: sign-in, a day's reads/searches/edits inside the shift, sign-out.

Vectorised over the people working that day; the only loops are over roles and subject pools.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from compliance.demo.activity import OPTIONAL_CATEGORY_SHARE, record_counts
from compliance.demo.clock import GEN_FIRST, MINUTE_MS, STREAM_STAFF, date_of, local_to_ms, rng_for, tz_offsets
from compliance.demo.context import REGIONS, Ctx
from compliance.demo.events import EMPTY, Lookup, frame, gather_text, take
from compliance.demo.geo import CITIES

ID_PREFIX = {
    "contact": "ct_",
    "account": "acct_",
    "call_record": "call_",
    "call_recording": "rec_",
    "support_ticket": "tkt_",
    "session": "ses_",
    "usage_event": "ue_",
    "invoice": "inv_",
    "service_log": "log_",
    "audit_event": "ae_",
    "dsr_case": "",
}
BY_SUBJECT = {"contact", "account"}  # resource ids derived from the subject's id


def resource_ids(rng: np.random.Generator, rt: pl.Series, subject_id: pl.Series, dsr_id: pl.Series) -> pl.Series:
    """Resource ids shaped per type: contacts/accounts carry the subject's number, others a random one."""
    n = len(rt)
    df = pl.DataFrame({"rt": rt, "sid": subject_id, "dsr": dsr_id, "num": rng.integers(100_000, 99_999_999, n)})
    prefix = pl.col("rt").replace_strict(ID_PREFIX, default=None, return_dtype=pl.String)
    expr = (
        pl.when(pl.col("rt") == "dsr_case")
        .then(pl.col("dsr"))
        .when(pl.col("rt").is_in(list(BY_SUBJECT)) & pl.col("sid").is_not_null())
        .then(pl.concat_str([prefix, pl.col("sid").str.slice(4)]))
        .when(pl.col("rt").is_not_null())
        .then(pl.concat_str([prefix, pl.col("num").cast(pl.String)]))
        .otherwise(None)
    )
    return df.select(expr.alias("resource_id")).to_series()


def details(ctx: Ctx, gidx: np.ndarray, counts: np.ndarray) -> pl.Series:
    pre = ctx.tcol("details0", gidx)
    suf = ctx.tcol("details1", gidx)
    df = pl.DataFrame({"p": pre, "s": suf, "n": counts})
    expr = (
        pl.when(pl.col("s").is_null())
        .then(pl.col("p"))
        .otherwise(pl.concat_str([pl.col("p"), pl.col("n").cast(pl.String), pl.col("s")]))
    )
    return df.select(expr.alias("details")).to_series()


# Text columns are gathered by index from these: building them from numpy text arrays row by row cost more
# than generating the events.
DATA_OUTCOMES = Lookup(["success", "denied"])
SIGN_IN_ACTIONS = Lookup(["login", "logout", "mfa_challenge", "login_failed"])
SIGN_IN_OUTCOMES = Lookup(["success", "success", "success", "failure"])
SIGN_IN_PURPOSES = Lookup(["essential.service.authentication", None, *["essential.service.authentication"] * 2])
SIGN_IN_DETAILS = Lookup(
    [
        '{"method":"sso","idp":"okta"}',
        '{"reason":"user_signed_out"}',
        '{"factor":"okta_verify_push"}',
        '{"reason":"invalid_password"}',
    ]
)


def data_events(
    ctx: Ctx,
    rng: np.random.Generator,
    day: int,
    gidx: np.ndarray,
    n: int,
    *,
    actor_tenant: np.ndarray | None = None,
    self_subject: np.ndarray | None = None,
    home_region: np.ndarray,
) -> tuple[dict[str, object], np.ndarray]:
    """Columns shared by staff and customer data events, from template indices (one per event).

    `actor_tenant`/`self_subject` (customer users) keep them inside their own workspace.
    """
    actions = ctx.tarr("action")[gidx]
    pools = ctx.tarr("pool")[gidx]
    subj = np.full(n, -1, dtype=np.int64)
    dsr_pick = np.full(n, -1, dtype=np.int64)
    s = ctx.sampler
    for pool in ("contact", "user", "usage"):
        m = pools == pool
        if not m.any():
            continue
        if actor_tenant is not None and pool == "contact":
            subj[m] = s.in_tenant(rng, actor_tenant[m], day)
        elif self_subject is not None and pool == "user":
            subj[m] = self_subject[m]
        else:
            subj[m] = s.sample(rng, pool, day, int(m.sum()))
    m = pools == "dsr"
    if m.any():
        active = ctx.dsr_active(day)
        if len(active):
            pick = active[rng.integers(0, len(active), int(m.sum()))]
            dsr_pick[m] = pick
            subj[m] = ctx.dsr_subject[pick]
    counts = record_counts(rng, actions)
    tenant = np.where(subj >= 0, ctx.world.subject_tenant[np.maximum(subj, 0)], -1)
    sys_idx = ctx.systems_of(gidx, rng)
    treg = np.where(tenant >= 0, ctx.tenant_region[np.maximum(tenant, 0)], home_region)
    rt = ctx.tcol("resource_type", gidx)
    sid = ctx.subject_ids.get(subj)
    dsr_id = take(ctx.dsr_ids, dsr_pick)
    always = np.array([t.always_categories for t in ctx.templates])[gidx]
    show = always | (rng.random(n) < OPTIONAL_CATEGORY_SHARE)
    cats = ctx.tcol("categories", np.where(show, gidx, -1))
    outcome = DATA_OUTCOMES.get((rng.random(n) < 0.003).astype(np.int64))
    cols: dict[str, object] = {
        "system": ctx.system_names.get(sys_idx),
        "action": ctx.tcol("action", gidx),
        "outcome": outcome,
        "resource_type": rt,
        "resource_id": resource_ids(rng, rt, sid, dsr_id),
        "data_categories": cats,
        "subject_id": sid,
        "record_count": np.where(actions == "config_change", -1, counts),
        "purpose": ctx.tcol("purpose", gidx),
        "tenant_id": ctx.tenant_ids.get(tenant),
        "processing_region": ctx.region_names(sys_idx, treg),
        "recipient": ctx.tcol("recipient", gidx),
        "details": details(ctx, gidx, counts),
    }
    # A customer user whose workspace has no contact to touch that day simply does not do it.
    valid = ~((pools == "contact") & (subj < 0)) if actor_tenant is not None else np.ones(n, dtype=bool)
    return cols, valid


def session_work(
    rng: np.random.Generator, lam: np.ndarray, shape: float, t0: np.ndarray, t1: np.ndarray, margin_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """The data events of each session (start `t0`, end `t1`, epoch ms): how many, Poisson around its rate `lam`
    times a day's gamma factor of `shape` (a smaller shape, burstier days), and when, uniformly inside the session
    `margin_ms` clear of its ends (over at least a minute). Returns the session of each event and its time."""
    k = rng.poisson(lam * rng.gamma(shape, 1 / shape, len(lam)))
    who = np.repeat(np.arange(len(lam)), k)
    if not len(who):
        return who, np.empty(0, dtype=np.int64)
    spread = np.maximum(t1[who] - t0[who] - 2 * margin_ms, MINUTE_MS)
    return who, t0[who] + margin_ms + (rng.random(len(who)) * spread).astype(np.int64)


def _nullify_negative(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.when(pl.col("record_count") < 0).then(None).otherwise(pl.col("record_count")).alias("record_count")
    )


def staff_day(ctx: Ctx, day: int) -> pl.DataFrame:
    st = ctx.workforce.staff
    rng = rng_for(ctx.seed, STREAM_STAFF, day)
    gi = day - GEN_FIRST
    idx = np.nonzero(st.works[:, gi])[0]
    frames = [grants(ctx, day)]
    if not len(idx):
        return pl.concat(frames)
    n = len(idx)
    start = np.clip(st.start_hour[idx] + rng.normal(0, 0.25, n), 7.05, 11.0)
    end = np.clip(start + st.shift[idx] + rng.normal(0, 0.4, n), start + 3.0, 18.9)
    off = st.offsets[idx, gi]
    t0, t1 = local_to_ms(day, start, off), local_to_ms(day, end, off)
    home = rng.random(n) < 0.25  # working from home today
    ip = np.where(home, np.array(st.home_ip, dtype=object)[idx], np.array(st.office_ip, dtype=object)[idx])
    lat = np.where(home, st.home_geo[0][idx], st.office_geo[0][idx])
    lon = np.where(home, st.home_geo[1][idx], st.office_geo[1][idx])
    country = np.array([CITIES[c].country for c in st.city[idx]], dtype=object)
    actor = np.array(st.actor_id, dtype=object)[idx]
    atype = np.array(st.actor_type, dtype=object)[idx]
    agent = np.array(st.agent, dtype=object)[idx]
    oreg = ctx.office_region(st.city[idx])
    auth_region = ctx.region_names(np.full(n, ctx.system_index["auth"]), oreg)

    # Sign-in, MFA prompt, a few typos, sign-out.
    fail = (rng.random(n) < 0.03).astype(np.int64) * rng.integers(1, 3, n)
    mfa = rng.random(n) < 0.35
    who = np.concatenate([np.arange(n), np.arange(n), np.nonzero(mfa)[0], np.repeat(np.arange(n), fail)])
    when = np.concatenate(
        [
            t0,
            t1,
            t0[mfa] + rng.integers(3_000, 20_000, int(mfa.sum())),
            np.repeat(t0, fail) - rng.integers(20_000, 90_000, int(fail.sum())),
        ]
    )
    kind = np.concatenate([np.zeros(n, int), np.ones(n, int), np.full(int(mfa.sum()), 2), np.full(int(fail.sum()), 3)])
    m = len(who)
    frames.append(
        frame(
            m,
            occurred_at=when,
            actor_id=gather_text(actor, who),
            actor_type=gather_text(atype, who),
            system="auth",
            action=SIGN_IN_ACTIONS.get(kind),
            outcome=SIGN_IN_OUTCOMES.get(kind),
            purpose=SIGN_IN_PURPOSES.get(kind),
            source_ip=gather_text(ip, who),
            geo_country=gather_text(country, who),
            geo_lat=lat[who],
            geo_lon=lon[who],
            processing_region=auth_region.gather(who),
            user_agent=gather_text(agent, who),
            details=SIGN_IN_DETAILS.get(kind),
        )
    )

    # The day's data work, spread over the shift.
    who, when = session_work(rng, st.lam[idx], 25.0, t0, t1, 2 * MINUTE_MS)
    total = len(who)
    if total:
        roles = np.array(st.role, dtype=object)[idx][who]
        gidx = np.empty(total, dtype=np.int64)
        for role in sorted(set(roles)):
            r = roles == role
            w = ctx.activity.weights[role]
            gidx[r] = ctx.offsets[role] + rng.choice(len(w), int(r.sum()), p=w)
        cols, _ = data_events(ctx, rng, day, gidx, total, home_region=oreg[who])
        df = frame(
            total,
            occurred_at=when,
            actor_id=gather_text(actor, who),
            actor_type=gather_text(atype, who),
            source_ip=gather_text(ip, who),
            geo_country=gather_text(country, who),
            geo_lat=lat[who],
            geo_lon=lon[who],
            user_agent=gather_text(agent, who),
            **cols,
        )
        frames.append(_nullify_negative(df))
    return pl.concat(frames)


def grants(ctx: Ctx, day: int) -> pl.DataFrame:
    """IT grants each 2025 joiner their role on their first morning and revokes leavers' on their last evening."""
    st = ctx.workforce.staff
    d = date_of(day)
    it = st.cast["it_admin"]
    rows: list[tuple[int, str, int, str]] = []
    for person, start in st.joiners:
        # Privileged joiners get break-glass access outside this trail; IT grants only ordinary roles here.
        if start == d and not ctx.view.roles[st.role[person]].privileged:
            rows.append((person, "role_grant", 8, f'{{"ticket":"IT-{4000 + person}","reason":"joiner"}}'))
    for person, end in st.leavers:
        if end == d:
            rows.append((person, "role_revoke", 17, f'{{"ticket":"IT-{6000 + person}","reason":"leaver"}}'))
    if not rows:
        return EMPTY
    when = np.array(
        [
            int(local_to_ms(day, np.array([h + 0.5]), tz_offsets(st.tz[p])[day - GEN_FIRST : day - GEN_FIRST + 1])[0])
            for p, _, h, _ in rows
        ]
    )
    n = len(rows)
    it_reg = REGIONS[int(ctx.office_region(st.city[[it]])[0])]
    return frame(
        n,
        occurred_at=when,
        actor_id=st.actor_id[it],
        actor_type=st.actor_type[it],
        system="auth",
        action=[a for _, a, _, _ in rows],
        outcome="success",
        resource_type=None,
        purpose="essential.service.security",
        source_ip=st.office_ip[it],
        geo_country=CITIES[int(st.city[it])].country,
        geo_lat=float(st.office_geo[0][it]),
        geo_lon=float(st.office_geo[1][it]),
        processing_region=ctx.view.region("auth", it_reg),
        target_actor_id=[st.actor_id[p] for p, _, _, _ in rows],
        role=[st.role[p] for p, _, _, _ in rows],
        user_agent=st.agent[it],
        details=[dt for _, _, _, dt in rows],
    )
