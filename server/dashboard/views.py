"""The dashboard's pages as HTML strings (the frame and helpers are in render.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from server.dashboard.queries import PAYMENT_STATUSES, PaymentPage
from server.dashboard.render import DASH, Tone, ago, badge, china_time, duration, e, hidden_csrf, table, yuan

CLOCK_ALARM_S = 2.0  # sync.md §7.11: a kiosk clock more than 2 s off is an alarm
PAYMENT_TONES: dict[str, tuple[Tone, str]] = {
    "SUCCESS": ("ok", "成功"),
    "PENDING": ("warn", "处理中"),
    "FAILED": ("bad", "失败"),
    "REVERSED": ("muted", "已撤销"),
}
RUN_TONES: dict[str, tuple[Tone, str]] = {
    "ok": ("ok", "一致"),
    "findings": ("warn", "有差异"),
    "failed": ("bad", "失败"),
}
KIND_LABELS = {"rebook": "Rebook 改约", "refund": "Refund 退款", "manual_review": "Review 人工核查"}
SOURCE_LABELS = {
    "offline_sync": "Offline sync 离线同步",
    "reconciliation": "Reconciliation 对账",
    "payment": "Payment 支付",
}


def login(error: str | None, next_path: str, username: str = "") -> str:
    problem = f'<div class="error">{e(error)}</div>' if error else ""
    return (
        '<form class="login" method="post" action="/dashboard/login"><h1>Sign in 登录</h1>'
        f'{problem}<input type="hidden" name="next" value="{e(next_path)}">'
        '<label for="username">Username 用户名</label>'
        f'<input id="username" name="username" autocomplete="username" required autofocus value="{e(username)}">'
        '<label for="password">Password 密码</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit" id="sign-in">Sign in 登录</button></form>'
    )


def message(title: str, text: str) -> str:
    return f"<h1>{e(title)}</h1><p class=sub>{e(text)}</p><p><a href=/dashboard>Back 返回</a></p>"


def _card(n: int, label: str, tone: str, href: str = "") -> str:
    inner = f'<div class="n">{n}</div><div class="l">{e(label)}</div>'
    return f'<a class="card {tone}" href="{href}">{inner}</a>' if href else f'<div class="card {tone}">{inner}</div>'


def _devices(k: dict[str, Any]) -> str:
    faults: dict[str, str] = k["device_faults"]
    chips = [
        f'<span class="chip{" bad" if name in faults else ""}">{e(name)}: {e(state)}</span>'
        for name, state in sorted(k["device_states"].items(), key=lambda item: (item[0] not in faults, item[0]))
    ]
    return "".join(chips) or f'<span class="dim">{DASH}</span>'


def _kiosk_row(k: dict[str, Any]) -> str:
    classes = " ".join(c for c, on in (("offline", not k["online"]), ("fault", bool(k["device_faults"]))) if on)
    status = badge("Online 在线", "ok") if k["online"] else badge("Offline 离线", "bad")
    depth = int(k["queue_depth"])
    offset = float(k["clock_offset_s"])
    cells = (
        f'<td class="mono">{e(k["kiosk_id"])}</td>',
        f"<td>{status}</td>",
        f"<td class=nowrap>{ago(k['seconds_since_seen'])}<br><span class=dim>{china_time(k['last_seen'])}</span></td>",
        f'<td class="mono">{e(k["software_version"])}</td>',
        f"<td>{_devices(k)}</td>",
        f'<td class="num{" hot" if depth else ""}">{depth}</td>',
        f"<td class=num>{duration(k['oldest_pending_age_s'])}</td>",
        f'<td class="num{" alarm" if abs(offset) > CLOCK_ALARM_S else ""}">{offset:+.1f} s</td>',
        f'<td class="num">{int(k["pending_commands"]) or DASH}</td>',
    )
    return f'<tr class="{classes}" data-kiosk="{e(k["kiosk_id"])}">{"".join(cells)}</tr>'


def kiosks(rows: list[dict[str, Any]], open_items: int | None, refresh_s: int) -> str:
    online = sum(1 for k in rows if k["online"])
    faulty = sum(1 for k in rows if k["device_faults"])
    queued = sum(1 for k in rows if k["queue_depth"])
    summary = f"{online} online, {len(rows) - online} offline, {faulty} with faults"
    cards = [
        _card(online, "Online 在线", "ok"),
        _card(len(rows) - online, "Offline 离线", "bad" if len(rows) > online else "muted"),
        _card(faulty, "Device faults 设备故障", "bad" if faulty else "muted"),
        _card(queued, "Offline queue 离线待同步", "warn" if queued else "muted"),
    ]
    if open_items is not None:
        cards.append(_card(open_items, "Open worklist 待办", "warn" if open_items else "muted", "/dashboard/worklist"))
    headers = (
        "Kiosk 自助机",
        "Status 状态",
        "Last seen 最近心跳",
        "Version 版本",
        "Devices 设备",
        ("Queue 队列", "num"),
        ("Oldest 最久待传", "num"),
        ("Clock 时钟偏差", "num"),
        ("Cmds 待执行指令", "num"),
    )
    return (
        f'<h1>Kiosks 自助机</h1><p class="sub" id="summary">{e(summary)} · '
        f"在线 {online} 台，离线 {len(rows) - online} 台，故障 {faulty} 台 · refreshes every {refresh_s} s</p>"
        f'<div class="cards">{"".join(cards)}</div>'
        + table(headers, (_kiosk_row(k) for k in rows), empty="No kiosk has sent a heartbeat yet. 暂无自助机上线。")
    )


def _payment_row(p: dict[str, Any]) -> str:
    tone, zh = PAYMENT_TONES.get(p["status"], ("muted", ""))
    cells = (
        f"<td class=nowrap>{china_time(p['created_at'])}</td>",
        f'<td class="mono">{e(p["kiosk_id"])}</td>',
        f"<td>{e(p['channel'])}</td>",
        f'<td class="num">{yuan(p["amount_cents"])}</td>',
        f"<td>{badge(str(p['status']) + ' ' + zh, tone)}</td>",
        f'<td class="mono">{e(p["auth_code_masked"])}</td>',
        f'<td class="mono">{e(p["out_trade_no"])}</td>',
        f'<td class="mono">{e(p["error_code"])}</td>',
    )
    return f'<tr data-status="{e(p["status"])}">{"".join(cells)}</tr>'


def _payments_url(status: str | None, limit: int, offset: int) -> str:
    query = {k: v for k, v in (("status", status or ""), ("limit", limit), ("offset", offset)) if v}
    return "/dashboard/payments" + (f"?{urlencode(query)}" if query else "")


def payments(data: PaymentPage, status: str | None, limit: int, offset: int) -> str:
    total_all = sum(data.counts.values())
    all_active = "" if status else " class=active"
    tabs = [f'<a href="{e(_payments_url(None, limit, 0))}"{all_active}>All 全部 ({total_all})</a>']
    for s in PAYMENT_STATUSES:
        active = " class=active" if s == status else ""
        label = f"{s} {PAYMENT_TONES[s][1]} ({data.counts.get(s, 0)})"
        tabs.append(f'<a href="{e(_payments_url(s, limit, 0))}"{active}>{e(label)}</a>')
    first, last = (offset + 1, offset + len(data.rows)) if data.rows else (0, 0)
    prev = (
        f'<a href="{e(_payments_url(status, limit, max(offset - limit, 0)))}">← Newer 较新</a>'
        if offset > 0
        else '<span class="off">← Newer 较新</span>'
    )
    nxt = (
        f'<a href="{e(_payments_url(status, limit, offset + limit))}">Older 较早 →</a>'
        if offset + limit < data.total
        else '<span class="off">Older 较早 →</span>'
    )
    headers = (
        "Time (UTC+8) 时间",
        "Kiosk 自助机",
        "Channel 渠道",
        ("Amount 金额", "num"),
        "Status 状态",
        "Code 付款码",
        "Order 商户订单号",
        "Error 错误码",
    )
    return (
        '<h1>Payments 支付记录</h1><p class="sub">Newest first. Payment codes are masked. 最新在前，付款码已脱敏。</p>'
        f'<nav class="tabs">{"".join(tabs)}</nav>'
        + table(headers, (_payment_row(p) for p in data.rows), empty="No payments here. 暂无支付记录。")
        + f'<div class="pager">{prev}{nxt}<span>{first}–{last} of {data.total}</span></div>'
    )


def _run(run: dict[str, Any]) -> str:
    tone, zh = RUN_TONES.get(run["status"], ("muted", ""))
    count = int(run["findings"])
    head = (
        f"<span>{e(run['bill_date'])}</span><span>{e(run['provider'])}</span>"
        f"{badge(str(run['status']) + ' ' + zh, tone)}"
        f"<span class=dim>{count} finding{'s' if count != 1 else ''} · run {china_time(run['created_at'])}</span>"
    )
    error = f'<div class="error">{e(run["error"])}</div>' if run["error"] else ""
    # report_html is server.reconcile.render_html() output: built by the server, every bill value escaped there.
    body = f'<div class="body">{error}{run["report_html"]}</div>'
    is_open = " open" if run["status"] != "ok" else ""
    key = f"{run['bill_date']}-{run['provider']}"
    return f'<details class="run" data-run="{e(key)}"{is_open}><summary>{head}</summary>{body}</details>'


def reconciliation(runs: list[dict[str, Any]]) -> str:
    findings = sum(1 for r in runs if r["status"] == "findings")
    failed = sum(1 for r in runs if r["status"] == "failed")
    sub = f"{len(runs)} runs shown, {findings} with findings, {failed} failed. 仅显示最近的对账结果；有差异的已展开。"
    body = "".join(_run(r) for r in runs) or '<div class="empty">No reconciliation has run yet. 暂无对账记录。</div>'
    return f'<h1>Reconciliation 对账</h1><p class="sub">{e(sub)}</p>{body}'


def _detail(detail: Any) -> str:
    if not isinstance(detail, dict) or not detail:
        return e(detail) if detail else DASH
    pairs = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in detail.items() if v not in (None, ""))
    return f'<dl class="kv">{pairs}</dl>'


def _item_row(item: dict[str, Any], csrf: str) -> str:
    action = (
        f'<form method="post" action="/dashboard/worklist/{int(item["id"])}/resolve">{hidden_csrf(csrf)}'
        '<button class="act" type="submit">Resolve 处理完成</button></form>'
    )
    cells = (
        f'<td>{int(item["id"])}</td>',
        f"<td>{china_time(item['created_at'])}</td>",
        f"<td>{e(KIND_LABELS.get(item['kind'], item['kind']))}</td>",
        f"<td>{e(SOURCE_LABELS.get(item['source'], item['source']))}</td>",
        f'<td class="mono">{e(item["reference"])}</td>',
        f"<td>{_detail(item['detail'])}</td>",
        f"<td>{action}</td>",
    )
    return f'<tr data-item="{int(item["id"])}">{"".join(cells)}</tr>'


def _resolved_row(item: dict[str, Any]) -> str:
    cells = (
        f'<td>{int(item["id"])}</td>',
        f"<td>{e(KIND_LABELS.get(item['kind'], item['kind']))}</td>",
        f'<td class="mono">{e(item["reference"])}</td>',
        f"<td>{china_time(item['resolved_at'])}</td>",
        f"<td>{e(item['resolved_by'])}</td>",
    )
    return f'<tr data-resolved="{int(item["id"])}">{"".join(cells)}</tr>'


def worklist(open_items: list[dict[str, Any]], resolved: list[dict[str, Any]], csrf: str) -> str:
    headers = ("#", "Filed 创建时间", "Kind 类型", "Source 来源", "Reference 参考号", "Detail 详情", "")
    done_headers = ("#", "Kind 类型", "Reference 参考号", "Resolved 处理时间", "By 处理人")
    return (
        f'<h1>Worklist 待办</h1><p class="sub" id="summary">{len(open_items)} open items, oldest first. '
        f"待处理 {len(open_items)} 项，按时间先后排列。</p>"
        + table(headers, (_item_row(i, csrf) for i in open_items), empty="Nothing to do. 没有待办事项。")
        + "<h2>Recently resolved 最近处理</h2>"
        + table(done_headers, (_resolved_row(i) for i in resolved), empty="Nothing resolved yet. 暂无记录。")
    )
