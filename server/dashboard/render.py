"""HTML building blocks for the dashboard: the page frame, the style sheet, escaping and formatting helpers.

Server-side HTML only: no JavaScript, no external assets (the hospital network has no internet). Every value from the
database goes through :func:`e` (``html.escape``), and the pages are served with a CSP that forbids scripts, so even
a missed escape could not run one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from typing import Literal

from server.reconcile.records import format_yuan

Tone = Literal["ok", "warn", "bad", "muted", "info"]
CHINA = timezone(timedelta(hours=8))
DASH = "—"

# (path, label, roles that may open it)
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/dashboard", "Kiosks 自助机", ("admin", "technician")),
    ("/dashboard/payments", "Payments 支付", ("admin",)),
    ("/dashboard/reconciliation", "Reconciliation 对账", ("admin",)),
    ("/dashboard/worklist", "Worklist 待办", ("admin",)),
)

CSS = """
*{box-sizing:border-box}
html{font-size:16px}
body{margin:0;background:#f3f5f8;color:#1d2733;line-height:1.5;
 font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,"Segoe UI",Roboto,sans-serif}
header{background:#17365d;color:#fff;display:flex;align-items:center;gap:28px;padding:0 28px;height:60px}
header .brand{font-weight:700;font-size:1.15rem;white-space:nowrap}
header nav{display:flex;gap:4px;flex:1}
header nav a{color:#d6e2f2;text-decoration:none;padding:8px 14px;border-radius:6px;font-size:.98rem}
header nav a:hover{background:#24487a;color:#fff}
header nav a.active{background:#fff;color:#17365d;font-weight:600}
header .user{display:flex;align-items:center;gap:12px;font-size:.92rem;color:#d6e2f2;white-space:nowrap}
header .user button{background:transparent;color:#fff;border:1px solid #6f8db5;border-radius:6px;padding:5px 12px;
 font:inherit;cursor:pointer}
main{max-width:1400px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:1.55rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:28px 0 10px}
.sub{color:#5b6878;margin:0 0 18px;font-size:.95rem}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:0 0 20px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:12px 20px;min-width:170px}
.card .n{font-size:1.9rem;font-weight:700;line-height:1.2}
.card .l{color:#5b6878;font-size:.9rem}
.card.ok .n{color:#1a7f37}.card.bad .n{color:#c62828}.card.warn .n{color:#b25e00}.card.muted .n{color:#6b7785}
a.card{text-decoration:none;color:inherit}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde3ea;border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:10px 14px;border-bottom:1px solid #e8ecf1;vertical-align:top;font-size:.95rem}
th{background:#eef2f7;color:#3a4756;font-weight:600;font-size:.88rem;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfd}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.offline td{color:#6b7785}
tr.fault td:first-child{box-shadow:inset 4px 0 0 #c62828}
.mono{font-family:"DejaVu Sans Mono",Consolas,"Noto Sans Mono CJK SC",monospace;font-size:.86rem}
.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-size:.82rem;font-weight:600;white-space:nowrap}
.badge.ok{background:#dcf3e3;color:#14632b}.badge.bad{background:#fde0e0;color:#a61b1b}
.badge.warn{background:#fff0d6;color:#8a4a00}.badge.muted{background:#e7eaee;color:#4a5563}
.badge.info{background:#dde9fb;color:#1c4f9c}
.chip{display:inline-block;margin:0 4px 4px 0;padding:1px 8px;border-radius:6px;font-size:.82rem;
 background:#eef2f7;color:#3a4756}
.chip.bad{background:#c62828;color:#fff;font-weight:600}
.hot{color:#b25e00;font-weight:600}.alarm{color:#c62828;font-weight:600}.dim{color:#8a95a3}
.tabs{display:flex;gap:8px;margin:0 0 14px;flex-wrap:wrap}
.tabs a{padding:6px 14px;border-radius:999px;background:#fff;border:1px solid #d3dae3;color:#1d2733;
 text-decoration:none;font-size:.92rem}
.tabs a.active{background:#17365d;border-color:#17365d;color:#fff}
.pager{display:flex;gap:12px;align-items:center;margin:14px 0;color:#5b6878;font-size:.92rem}
.pager a{padding:6px 14px;border:1px solid #d3dae3;border-radius:6px;background:#fff;color:#17365d;text-decoration:none}
.pager span.off{padding:6px 14px;border:1px solid #e3e7ec;border-radius:6px;color:#b3bcc7}
.empty{background:#fff;border:1px dashed #cfd7e1;border-radius:10px;padding:28px;text-align:center;color:#5b6878}
button.act{background:#1a7f37;color:#fff;border:0;border-radius:6px;padding:7px 14px;font:inherit;font-size:.9rem;
 cursor:pointer;white-space:nowrap}
button.act:hover{background:#146c2e}
dl.kv{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:.9rem}
dl.kv dt{color:#5b6878}dl.kv dd{margin:0;word-break:break-word}
details.run{background:#fff;border:1px solid #dde3ea;border-radius:10px;margin:0 0 12px;padding:0 18px}
details.run summary{cursor:pointer;padding:12px 0;font-weight:600;display:flex;gap:12px;align-items:center}
details.run .body{padding:0 0 16px}
.reconcile-report h3{font-size:1.05rem;margin:4px 0 8px}.reconcile-report h4{margin:12px 0 4px}
.reconcile-report p{margin:4px 0 10px}
.reconcile-report table{font-size:.9rem}
.error{background:#fde0e0;color:#a61b1b;border-radius:8px;padding:10px 14px;margin:0 0 14px}
.login{max-width:420px;margin:80px auto;background:#fff;border:1px solid #dde3ea;border-radius:12px;padding:32px 36px}
.login h1{text-align:center;margin-bottom:22px}
.login label{display:block;font-size:.92rem;color:#3a4756;margin:14px 0 4px}
.login input{width:100%;padding:10px 12px;font:inherit;border:1px solid #c3ccd7;border-radius:8px}
.login button{width:100%;margin-top:22px;padding:11px;font:inherit;font-weight:600;background:#17365d;color:#fff;
 border:0;border-radius:8px;cursor:pointer}
footer{color:#8a95a3;font-size:.85rem;margin-top:24px}
"""


def e(value: object) -> str:
    """Escaped text; None shows as a dash."""
    return DASH if value is None else escape(str(value), quote=True)


def badge(text: str, tone: Tone) -> str:
    return f'<span class="badge {tone}">{e(text)}</span>'


def parse_time(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def china_time(iso: str | None) -> str:
    """An ISO timestamp as China Standard Time, the hospital's clock; the original in the tooltip."""
    moment = parse_time(iso)
    if moment is None:
        return e(iso)
    return f'<span title="{e(iso)}">{moment.astimezone(CHINA):%Y-%m-%d %H:%M:%S}</span>'


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def ago(seconds: float | None) -> str:
    return DASH if seconds is None else f"{duration(seconds)} ago"


def yuan(cents: int | None) -> str:
    return DASH if cents is None else f"¥{format_yuan(int(cents))}"


def table(headers: Sequence[str | tuple[str, str]], rows: Iterable[str], *, empty: str) -> str:
    """``headers``: text, or (text, css class). ``rows``: ready ``<tr>`` strings."""
    body = "".join(rows)
    if not body:
        return f'<div class="empty">{e(empty)}</div>'
    cells = "".join(
        f'<th class="{h[1]}">{e(h[0])}</th>' if isinstance(h, tuple) else f"<th>{e(h)}</th>" for h in headers
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def hidden_csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def page(
    title: str,
    body: str,
    *,
    username: str | None = None,
    role: str | None = None,
    active: str = "",
    csrf: str = "",
    refresh_s: int | None = None,
) -> str:
    """A whole document: the frame (navigation for the user's role, sign-out) around ``body``."""
    head_extra = f'<meta http-equiv="refresh" content="{int(refresh_s)}">' if refresh_s else ""
    header = '<header><div class="brand">Kiosk Admin 自助机管理</div>'
    if username is not None:
        links = "".join(
            f'<a href="{path}"{" class=active" if path == active else ""}>{e(label)}</a>'
            for path, label, roles in NAV
            if role in roles
        )
        header += (
            f"<nav>{links}</nav>"
            f'<form class="user" method="post" action="/dashboard/logout">{e(username)} · {e(role)}'
            f"{hidden_csrf(csrf)}<button type=submit>Sign out 退出</button></form>"
        )
    header += "</header>"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{head_extra}<title>{e(title)} · Kiosk Admin</title><style>{CSS}</style></head>"
        f"<body>{header}<main>{body}</main></body></html>"
    )
